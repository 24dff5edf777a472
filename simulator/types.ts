import type { HttpBindings } from '@hono/node-server';
import type { Context, Hono } from 'hono';
import type { Faults } from './faults';
import type { SimCapacity } from './capacity';
import type { SimJob } from './jobs';

/**
 * The simulator's Hono environment. Node's own request stays reachable because recordings must show
 * headers as they arrived (arrival order, repeats joined), which a `Headers` object does not keep.
 */
export type SimEnv = { Bindings: HttpBindings };

/** What every provider module can use: jobs, faults, images, and the simulator's own URL. */
export interface SimKit {
  baseUrl(): string;
  /** Faults for this prompt; also counts `http=NxK` submits per provider and prompt. */
  faults(provider: string, prompt: string): Faults & { fail_http: boolean };
  /** PNG bytes of a picture of the prompt. */
  image(prompt: string, width: number, height: number): Buffer;
  /** A URL on the simulator serving the image, expiring after `ttlMs` like the providers' delivery URLs. */
  hostedImage(prompt: string, width: number, height: number, ttlMs: number): string;
  newId(): string;
  sleep(ms: number): Promise<void>;
  /** How long a new async job of `model` runs (durations.ts): `[sim:slow=N]`, else instant or realistic. */
  jobDuration(model: string, faults: Faults): number;
  /** Lists an async job under `/__sim/jobs` and sends its callback when it is ready (jobs.ts). */
  addJob(job: SimJob, faults: Faults): void;
  /** Counts a status read of a listed job. */
  jobPolled(provider: string, id: string): void;
  /** Providers' in-flight limits per account (capacity.ts): what a submit over the limit is refused for. */
  capacity: SimCapacity;
}

/**
 * One provider's wire protocol: a Hono app with its API's routes only. A route shared with another
 * provider (`POST /v1/images/generations`) passes requests that are not its own on with `next()`.
 */
export type SimProvider = (kit: SimKit) => Hono<SimEnv>;

/** The request body as sent (Hono caches it, so every reader sees the same bytes). */
export async function rawBody(c: Context): Promise<Buffer> {
  return Buffer.from(await c.req.arrayBuffer());
}

/** Parses a JSON object body, or returns null. */
export async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = JSON.parse((await rawBody(c)).toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The request headers as Node received them: lower-case names in arrival order, repeats joined. */
export function receivedHeaders(c: Context<SimEnv>): Record<string, string> {
  return Object.fromEntries(Object.entries(c.env.incoming.headers).map(([k, v]) => [k, String(v)]));
}
