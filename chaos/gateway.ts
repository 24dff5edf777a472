import { request as httpRequest } from 'node:http';

/** What the client saw of one request: an answer, or no answer at all (the runtime was down or was killed). */
export type Answer =
  | { ok: true; status: number; headers: Headers; text: string; json: unknown }
  | { ok: false; error: string };

/** A 5xx answer from the Worker: any is a loss. */
export interface ServerError {
  at: number;
  method: string;
  path: string;
  status: number;
  body: string;
}

/**
 * The run's HTTP client to the Worker: at most `concurrency` requests in flight, every 5xx answer
 * and every request left without an answer recorded with its time (to be matched with the kills).
 */
export class Gateway {
  readonly serverErrors: ServerError[] = [];
  readonly unanswered: { at: number; method: string; path: string; error: string }[] = [];
  requests = 0;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    readonly origin: string,
    private readonly concurrency: number,
  ) {}

  async call(method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; timeoutMs?: number } = {}): Promise<Answer> {
    await this.#slot();
    this.requests += 1;
    try {
      const res = await send(`${this.origin}${path}`, method, options.headers ?? {}, options.json, options.timeoutMs ?? 30_000);
      const { text } = res;
      if (res.status >= 500) this.serverErrors.push({ at: Date.now(), method, path, status: res.status, body: text.slice(0, 500) });
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // Left null: the caller checks what it needs.
      }
      return { ok: true, status: res.status, headers: res.headers, text, json };
    } catch (err) {
      const error = err instanceof Error ? `${(err as NodeJS.ErrnoException).code ?? err.name}: ${err.message}` : String(err);
      this.unanswered.push({ at: Date.now(), method, path, error });
      return { ok: false, error };
    } finally {
      this.#release();
    }
  }

  async #slot(): Promise<void> {
    if (this.#inFlight < this.concurrency) {
      this.#inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#inFlight -= 1;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One request on a connection of its own (no keep-alive): a reused connection the server is closing
 * at that moment fails without an answer, which would count against the Worker for nothing.
 */
function send(url: string, method: string, headers: Record<string, string>, json: unknown, timeoutMs: number): Promise<{ status: number; headers: Headers; text: string }> {
  const body = json === undefined ? undefined : JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method,
      agent: false,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }), ...headers },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const answer = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) answer.set(name, String(value));
        resolve({ status: res.statusCode ?? 0, headers: answer, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(body);
  });
}
