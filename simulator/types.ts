import type { IncomingHttpHeaders } from 'node:http';
import type { Faults } from './faults';

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON. */
  body?: string | Buffer | object;
}

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
}

/** One provider's wire protocol: answers the requests it owns, null for the rest. */
export interface SimProvider {
  id: string;
  handle(req: SimRequest, kit: SimKit): Promise<SimResponse | null> | SimResponse | null;
}

/** Parses a JSON body, or returns null. */
export function jsonBody(req: SimRequest): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(req.body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
