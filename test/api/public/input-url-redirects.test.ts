import { describe, expect, inject, it } from 'vitest';
import { balance, createTask, customer, eventually, waitForTask } from '../../helpers';

const redirector = inject('redirectorUrl');
const port = new URL(redirector).port;

/** How often the redirector served its image under `tag`: a refused redirect target must stay at 0. */
async function hits(tag: string): Promise<number> {
  return (await (await fetch(`${redirector}/hits?tag=${tag}`)).json<{ hits: number }>()).hits;
}

describe('reference images behind a redirect (ideogram-v3 downloads them itself)', () => {
  it.each([
    ['0.0.0.0', (tag: string) => `http://0.0.0.0:${port}/image.png?tag=${tag}`],
    ['an IPv4-mapped loopback address', (tag: string) => `http://[::ffff:127.0.0.1]:${port}/image.png?tag=${tag}`],
  ])('a URL that passes the guard but redirects to %s fails the task invalid_input_image, refunded, the target never fetched', async (_case, target) => {
    const { auth } = await customer(undefined, 100);
    const tag = crypto.randomUUID();
    const res = await createTask(auth, {
      model: 'ideogram-v3',
      prompt: `a logo in this style ${tag}`,
      input_urls: [`${redirector}/redirect?to=${encodeURIComponent(target(tag))}`],
    });
    expect(res.status).toBe(202);
    const task = await waitForTask(auth, (await res.json<{ task_id: string }>()).task_id);
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'invalid_input_image' } });
    expect(task.error!.message).toContain('input_urls.0 could not be downloaded (redirected to http://');
    expect(await hits(tag)).toBe(0);
    await eventually(async () => ((await balance(auth)).reserved === 0 ? true : undefined));
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });
});
