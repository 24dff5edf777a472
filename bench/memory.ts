import { readFileSync, writeFileSync } from 'node:fs';
import type { Customer } from './gateway-client';

/** What one big-result task cost the runtime in memory. */
export interface BigResultMemory {
  model: string;
  images: number;
  width: number;
  height: number;
  /** Bytes of one stored result image (they are all alike). */
  image_bytes: number;
  /** How the provider answered: base64 images inline in JSON, or a URL the Worker downloads from. */
  answer: 'base64' | 'url';
  /** Bytes of the provider's answer: the JSON (base64 images inside, computed from the image size), or the one image. */
  answer_bytes: number;
  /** workerd's resident memory before the task and its peak during it (VmHWM, reset just before). */
  rss_before_bytes: number;
  rss_peak_bytes: number;
  /** Peak growth over one image's size: the figure the aim (under 3) is about. */
  peak_over_image: number;
  status: string;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(line.replace(/\D+/g, '')) * 1024;
}

async function generate(origin: string, customer: Customer, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${origin}/api/v1/images/generations`, {
    method: 'POST',
    headers: { ...customer.auth, 'content-type': 'application/json', prefer: 'wait=60' },
    body: JSON.stringify(body),
  });
  const task = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`big-result task: ${res.status} ${JSON.stringify(task).slice(0, 400)}`);
  return task;
}

/**
 * The largest result a task can have: `gpt-image-1.5-official` with `n` 10 at 1536×1024, and the
 * same with one image, after a FLUX.2 image of about the same size answered as a URL for a baseline. OpenAI answers every image inline, base64 in one JSON body;
 * the simulator's `[sim:grain]` makes each image as large as a photograph. The peak is workerd's
 * high-water mark, reset through `/proc/PID/clear_refs` right before each task (Linux only), so it
 * is the whole process's: the Worker, garbage its V8 has not collected yet, and Miniflare's local
 * R2 receiving the copies, which production keeps elsewhere.
 */
export async function measureBigResultMemory(origin: string, customer: Customer, pid: number): Promise<BigResultMemory[]> {
  const prompt = 'a crowded harbour at noon, photograph [sim:grain]';
  const body = { model: 'gpt-image-1.5-official', prompt, size: '1536x1024' };
  // The baseline: a provider that answers with a URL (BFL), its one image downloaded and stored as a
  // stream, with no base64 anywhere; what it costs is the runtime's and the local R2's share.
  const cases: { answer: BigResultMemory['answer']; body: Record<string, unknown> }[] = [
    { answer: 'url', body: { model: 'flux-2', prompt: `${prompt} url`, aspect_ratio: '3:2', resolution: '1K' } },
    { answer: 'base64', body: { ...body, n: 1, prompt: `${prompt} 1` } },
    { answer: 'base64', body: { ...body, n: 10, prompt: `${prompt} 10` } },
  ];
  // First small tasks warm the code paths, so the figures are the big tasks' and not start-up's.
  await generate(origin, customer, { ...body, n: 1, prompt: `${body.prompt} warm-up` });
  await generate(origin, customer, { model: 'flux-2', prompt: `${prompt} warm-up` });
  const rows: BigResultMemory[] = [];
  for (const { answer, body: request } of cases) {
    const rssBefore = statusField(pid, 'VmRSS');
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const task = await generate(origin, customer, request);
    const peak = statusField(pid, 'VmHWM');
    const images = (task.output as { images?: { url: string; width: number; height: number }[] } | null)?.images ?? [];
    const first = images[0];
    if (!first) throw new Error(`big-result task ${String(task.task_id)} has no images: ${JSON.stringify(task).slice(0, 400)}`);
    // workerd may close the kept-alive connection the long wait came back on just as it is reused: one retry.
    const download = () => fetch(first.url).then((res) => res.arrayBuffer());
    const imageBytes = (await download().catch(download)).byteLength;
    rows.push({
      model: String(request.model),
      images: images.length,
      width: first.width,
      height: first.height,
      image_bytes: imageBytes,
      answer,
      answer_bytes: answer === 'url' ? imageBytes : Math.ceil(imageBytes / 3) * 4 * images.length,
      rss_before_bytes: rssBefore,
      rss_peak_bytes: peak,
      peak_over_image: (peak - rssBefore) / imageBytes,
      status: String(task.status),
    });
  }
  return rows;
}
