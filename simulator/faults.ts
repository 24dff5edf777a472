/**
 * Fault switches. Each can be set per request, by a directive inside the prompt (which every
 * provider protocol carries unchanged), or for every request through `POST /__sim/faults`:
 *
 *   [sim:slow=2000]      the job takes 2000 ms (sync providers answer after that long)
 *   [sim:fail]           the job ends in the provider's own error state
 *   [sim:moderate]       the provider's input-moderation answer
 *   [sim:moderate-output] the provider's output-moderation answer (where it has one)
 *   [sim:hang]           the job never finishes (sync providers never answer)
 *   [sim:http=503]       every submit answers HTTP 503 (any status: 500, 429, 402 …)
 *   [sim:http=503x2]     only the first 2 submits with this prompt do
 *   [sim:garble]         a submit's 2xx answer is cut in half (malformed JSON), though the provider
 *                        did the work; `[sim:garble=1]` only the first time (applied in server.ts)
 *   [sim:nocredit]       the provider's out-of-credit answer
 *   [sim:status=cancelled] the job ends in this raw provider status (async providers): WaveSpeed's
 *                        `cancelled` or `timeout`, or a status the provider does not publish
 *                        (e.g. `Queued` at BFL), to show it is not polled forever
 *   [sim:gone]           the provider no longer serves the route: Imagen on the Gemini API since
 *                        Google disabled it (2026-08), answered as Google answers a model it lacks
 *   [sim:grain]          result images carry per-pixel noise, so they compress no better than a
 *                        photograph (a 1536×1024 PNG is 4.7 MB instead of a few KB): for memory
 *                        figures on big results
 *   [sim:callback=drop]  the job's callback (when the submit asked for one) is never sent
 *   [sim:callback-delay=500] the job's callback is sent 500 ms after the job is ready
 *                        (callbacks and the job list: see jobs.ts)
 *   [sim:drop=1]         the provider filters 1 of the images it makes and returns the rest
 *                        (providers that filter per image, e.g. Imagen)
 *   [sim:tenant=NAME]    the request counts against provider account NAME's in-flight limit instead of its
 *                        key's (simulator/capacity.ts), so a test can have a provider account of its own
 *   [sim:only=NAME]      the prompt's failure switches (all but `slow`) hit only the simulated
 *                        endpoint NAME; every other endpoint sees the prompt as clean. NAME is the
 *                        key a provider module passes to `kit.faults` and honours through
 *                        `forEndpoint` (e.g. `ideogram_v4_sync`), so a test can fail one backend node
 *                        of a model and let the next serve it.
 *
 * Rates (`fail_rate`, `moderate_rate`, `error_rate`, 0…1) make random faults for chaos runs.
 */
export interface Faults {
  latency_ms: number;
  fail: boolean;
  moderate: boolean;
  moderate_output: boolean;
  hang: boolean;
  http_status: number | null;
  http_times: number | null;
  no_credit: boolean;
  /** `[sim:status=NAME]`: the raw status the job ends in, or null for the usual outcome. */
  end_status: string | null;
  /** `[sim:only=NAME]`: the endpoint the failure switches are limited to, or null for all. */
  only: string | null;
  /** Images silently filtered out of a successful answer. */
  drop: number;
  /** `[sim:gone]`: the route is no longer served (where the provider module simulates that). */
  gone: boolean;
  /** `[sim:callback=drop]`: the job's callback is never sent. */
  callback_drop: boolean;
  /** `[sim:callback-delay=N]`: the job's callback goes out N ms after the job is ready. */
  callback_delay_ms: number;
  /** `[sim:grain]`: result images as large as photographs. */
  grain: boolean;
}

export interface GlobalFaults {
  latency_ms: number;
  fail_rate: number;
  moderate_rate: number;
  error_rate: number;
}

export const DEFAULT_GLOBAL_FAULTS: GlobalFaults = { latency_ms: 0, fail_rate: 0, moderate_rate: 0, error_rate: 0 };

export function faultsFromPrompt(prompt: string, global: GlobalFaults): Faults {
  const faults: Faults = {
    latency_ms: global.latency_ms,
    fail: Math.random() < global.fail_rate,
    moderate: Math.random() < global.moderate_rate,
    moderate_output: false,
    hang: false,
    http_status: Math.random() < global.error_rate ? 503 : null,
    http_times: null,
    no_credit: false,
    end_status: null,
    only: null,
    drop: 0,
    gone: false,
    grain: false,
    callback_drop: false,
    callback_delay_ms: 0,
  };
  for (const [, name, value] of prompt.matchAll(/\[sim:([a-z-]+)(?:=([\w.]+))?\]/g)) {
    switch (name) {
      case 'slow':
        faults.latency_ms = Number(value ?? 1000);
        break;
      case 'fail':
        faults.fail = true;
        break;
      case 'moderate':
        faults.moderate = true;
        break;
      case 'moderate-output':
        faults.moderate_output = true;
        break;
      case 'hang':
        faults.hang = true;
        break;
      case 'drop':
        faults.drop = Number(value ?? 1);
        break;
      case 'nocredit':
        faults.no_credit = true;
        break;
      case 'gone':
        faults.gone = true;
        break;
      case 'callback':
        faults.callback_drop = value === 'drop';
        break;
      case 'callback-delay':
        faults.callback_delay_ms = Number(value ?? 0);
        break;
      case 'grain':
        faults.grain = true;
        break;
      case 'status':
        faults.end_status = value ?? null;
        break;
      case 'only':
        faults.only = value ?? null;
        break;
      case 'http': {
        const [status, times] = (value ?? '500').split('x');
        faults.http_status = Number(status);
        faults.http_times = times ? Number(times) : null;
        break;
      }
    }
  }
  return faults;
}

/**
 * The faults as endpoint `name` sees them: when the prompt limits its failure switches to another
 * endpoint with `[sim:only=…]`, they are off here (latency still applies).
 */
export function forEndpoint<F extends Faults & { fail_http: boolean }>(faults: F, name: string): F {
  if (faults.only === null || faults.only === name) return faults;
  return {
    ...faults,
    fail: false,
    moderate: false,
    moderate_output: false,
    hang: false,
    http_status: null,
    http_times: null,
    no_credit: false,
    end_status: null,
    drop: 0,
    gone: false,
    fail_http: false,
  };
}
