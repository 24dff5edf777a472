import { Hono } from 'hono';
import type { Faults } from './faults';
import type { SimEnv } from './types';

/** The request a provider sends to a job's callback URL, built when the job is ready (it carries the result). */
export interface CallbackRequest {
  headers: Record<string, string>;
  body: string;
}

/** An async job as the simulator's job list knows it. */
export interface SimJob {
  provider: string;
  id: string;
  /** The provider's model path or endpoint, e.g. `flux-2-pro`. */
  model: string;
  prompt: string;
  created_at: number;
  /** When the job's final answer became readable, epoch ms; null for a job that never ends (`[sim:hang]`). */
  ready_at: number | null;
  /** The callback URL the submit named, and how to build the provider's request to it. */
  callback?: { url: string; request: () => CallbackRequest };
}

/** What became of a job's callback. */
export interface CallbackRecord {
  url: string;
  state: 'scheduled' | 'dropped' | 'sent' | 'failed';
  /** When the request went out, epoch ms. */
  sent_at: number | null;
  /** The status the receiver answered, or null when the request failed (`error`). */
  answered: number | null;
  /** When the receiver's answer arrived, epoch ms. */
  answered_at: number | null;
  error: string | null;
  /** The request as sent, so a test can replay it to a Worker the simulator cannot reach. */
  request: CallbackRequest | null;
}

type ListedJob = Omit<SimJob, 'callback'> & {
  callback: CallbackRecord | null;
  /** Status reads of the job. */
  polls: number;
  /** The first status read at or after the ready time: when the caller could have learnt the job had ended. */
  seen_ready_at: number | null;
};

const MAX_JOBS = 20_000;
const CALLBACK_TIMEOUT_MS = 10_000;

/**
 * Every async job the provider modules created, for tests and the bench (when did the provider
 * finish it, what did its callback do), and the sending of callbacks:
 *
 *   GET /__sim/jobs?prompt=TEXT&callback=TEXT&id=ID   `{ jobs: [...] }`, oldest first, filtered by a
 *                                                     substring of the prompt or the callback URL, or the id
 *
 * A job whose submit named a callback URL gets one POST at its ready time, as its provider sends it
 * (each provider module builds the request), unless the prompt says `[sim:callback=drop]`;
 * `[sim:callback-delay=N]` sends it N ms late. One attempt: what the providers retry is not
 * something the Worker relies on, since it polls as a fallback. Jobs that never end get none.
 * `/__sim/reset` leaves the list alone, so one test resetting faults cannot lose another's callbacks.
 */
export function createJobs(): { add(job: SimJob, faults: Faults): void; polled(provider: string, id: string): void; routes: Hono<SimEnv> } {
  const jobs = new Map<string, ListedJob>();

  async function send(listed: ListedJob, job: SimJob): Promise<void> {
    const record = listed.callback!;
    const request = job.callback!.request();
    record.request = request;
    record.sent_at = Date.now();
    try {
      const res = await fetch(record.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
      record.answered_at = Date.now();
      await res.body?.cancel();
      record.state = 'sent';
      record.answered = res.status;
    } catch (err) {
      record.state = 'failed';
      record.error = String((err as Error).cause ?? err);
    }
  }

  return {
    add(job, faults) {
      const key = `${job.provider}/${job.id}`;
      const { callback, ...rest } = job;
      const listed: ListedJob = {
        ...rest,
        polls: 0,
        seen_ready_at: null,
        callback: callback
          ? { url: callback.url, state: faults.callback_drop ? 'dropped' : 'scheduled', sent_at: null, answered: null, answered_at: null, error: null, request: null }
          : null,
      };
      jobs.set(key, listed);
      if (jobs.size > MAX_JOBS) jobs.delete(jobs.keys().next().value!);
      if (!callback || faults.callback_drop || job.ready_at === null) return;
      const due = job.ready_at + faults.callback_delay_ms;
      // Node's timers run on a monotonic clock and may fire a millisecond before `Date.now()` reaches
      // `due`; a callback built then would describe a job still pending, so it waits out the rest.
      // Unref'd: a pending callback must not keep the process alive once the server is closed.
      const fire = () => (Date.now() < due ? setTimeout(fire, due - Date.now() + 1).unref() : void send(listed, job));
      setTimeout(fire, Math.max(0, due - Date.now())).unref();
    },
    polled(provider, id) {
      const job = jobs.get(`${provider}/${id}`);
      if (!job) return;
      job.polls++;
      const now = Date.now();
      if (job.ready_at !== null && now >= job.ready_at) job.seen_ready_at ??= now;
    },
    routes: new Hono<SimEnv>().get('/', (c) => {
      const prompt = c.req.query('prompt');
      const url = c.req.query('callback');
      const id = c.req.query('id');
      const listed = [...jobs.values()].filter(
        (job) => (!prompt || job.prompt.includes(prompt)) && (!url || job.callback?.url.includes(url)) && (!id || job.id === id),
      );
      return Response.json({ jobs: listed });
    }),
  };
}
