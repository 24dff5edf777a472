import type { SimRequest, SimResponse } from './types';

/** One request a named receiver got, exactly as it arrived, with what it answered. */
export interface RecordedDelivery {
  at: string;
  /** 1 for the first request this receiver got. */
  attempt: number;
  headers: Record<string, string>;
  /** The raw body, unparsed, so tests can verify signatures over the exact bytes. */
  body: string;
  answered: number;
}

/** Receivers kept at once; the oldest is forgotten beyond this, as every test uses fresh names. */
const MAX_RECEIVERS = 1000;

/**
 * Webhook receivers for tests and local development, each addressed by a name of the caller's choice:
 *
 *   POST   /__sim/webhooks/<name>?fail=N       the first N requests answer 500, later ones 204
 *   POST   /__sim/webhooks/<name>?status=410   every request answers 410 (any status; 3xx come with a
 *                                              Location pointing at `<name>-redirected`)
 *   POST   /__sim/webhooks/<name>?delay=MS     answers after MS milliseconds
 *   GET    /__sim/webhooks/<name>              `{ deliveries: RecordedDelivery[] }`, oldest first
 *   DELETE /__sim/webhooks/<name>              forgets the receiver
 *
 * `/__sim/reset` leaves receivers alone, so a test resetting faults cannot wipe another's deliveries.
 */
export function createWebhookReceiver(baseUrl: () => string, sleep: (ms: number) => Promise<void>) {
  const receivers = new Map<string, RecordedDelivery[]>();

  async function receive(name: string, req: SimRequest): Promise<SimResponse> {
    let deliveries = receivers.get(name);
    if (!deliveries) {
      deliveries = [];
      receivers.set(name, deliveries);
      const oldest = receivers.keys().next().value;
      if (receivers.size > MAX_RECEIVERS && oldest !== undefined) receivers.delete(oldest);
    }
    const params = req.url.searchParams;
    const attempt = deliveries.length + 1;
    const fail = Number(params.get('fail') ?? 0);
    const fixed = params.get('status');
    const answered = attempt <= fail ? 500 : fixed ? Number(fixed) : 204;
    deliveries.push({
      at: new Date().toISOString(),
      attempt,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body: req.body.toString('utf8'),
      answered,
    });
    const delay = Number(params.get('delay') ?? 0);
    if (delay > 0) await sleep(delay);
    const headers: Record<string, string> =
      answered >= 300 && answered < 400 ? { location: `${baseUrl()}/__sim/webhooks/${name}-redirected` } : {};
    return { status: answered, headers, body: answered === 204 ? undefined : { received: attempt } };
  }

  return {
    /** Answers `/__sim/webhooks/<name>` requests; null for any other path. */
    async handle(req: SimRequest): Promise<SimResponse | null> {
      const match = req.url.pathname.match(/^\/__sim\/webhooks\/([\w-]{1,128})$/);
      if (!match) return null;
      const name = match[1]!;
      if (req.method === 'POST') return receive(name, req);
      if (req.method === 'GET') return { status: 200, body: { deliveries: receivers.get(name) ?? [] } };
      if (req.method === 'DELETE') {
        receivers.delete(name);
        return { status: 204 };
      }
      return { status: 405, headers: { allow: 'GET, POST, DELETE' }, body: { detail: 'Method Not Allowed' } };
    },
  };
}
