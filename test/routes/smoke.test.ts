import { describe, expect, it } from 'vitest';
import { api, createTask, customer, waitForTask } from '../helpers';

describe('smoke', () => {
  it('runs a flux-2 task to succeeded', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'flux-2', prompt: 'A serene Japanese garden', aspect_ratio: '16:9' });
    expect(res.status).toBe(202);
    const created = await res.json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    console.log(JSON.stringify(task));
    expect(task.status).toBe('succeeded');
    const image = await api(new URL(task.output!.images[0]!.url).pathname);
    expect(image.status).toBe(200);
  });
});
