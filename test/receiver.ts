import { env } from 'cloudflare:workers';
import type { TaskView } from '../src/tasks/task.schema';
import { api, createTask, eventually } from './helpers';

/** A delivery as the simulator's webhook receiver recorded it. */
export interface Delivery {
  attempt: number;
  headers: Record<string, string>;
  body: string;
  answered: number;
}

/** A fresh receiver on the simulator; `behaviour` is its query (`fail=2`, `status=410`, `delay=50`). */
export function receiver(behaviour = ''): { name: string; url: string } {
  const name = `hook-${crypto.randomUUID()}`;
  return { name, url: `${env.SIMULATOR_URL}/__sim/webhooks/${name}${behaviour ? `?${behaviour}` : ''}` };
}

/** Everything the receiver got, oldest first. */
export async function deliveries(name: string): Promise<Delivery[]> {
  const res = await fetch(`${env.SIMULATOR_URL}/__sim/webhooks/${name}`);
  return (await res.json<{ deliveries: Delivery[] }>()).deliveries;
}

/** Polls the task until its webhook delivery has ended (delivered or failed). */
export async function settledWebhookTask(auth: Record<string, string>, taskId: string): Promise<TaskView> {
  return eventually(async () => {
    const task = await (await api(`/api/v1/tasks/${taskId}`, { headers: auth })).json<TaskView>();
    return task.webhook && task.webhook.status !== 'pending' ? task : undefined;
  });
}

/** Creates a flux-2 task that calls `callbackUrl` back and returns its id. */
export async function taskWithCallback(auth: Record<string, string>, callbackUrl: string, prompt = 'A red kite over green hills'): Promise<string> {
  const res = await createTask(auth, { model: 'flux-2', prompt, callback_url: callbackUrl });
  if (res.status !== 202) throw new Error(`creating the task answered ${res.status}: ${await res.text()}`);
  return (await res.json<{ task_id: string }>()).task_id;
}

/** The account's current webhook secret, as customers read it. */
export async function currentSecret(auth: Record<string, string>): Promise<string> {
  const res = await api('/api/v1/webhooks/secret', { headers: auth });
  if (res.status !== 200) throw new Error(`GET secret answered ${res.status}`);
  return (await res.json<{ secret: string }>()).secret;
}
