import { Hono, type Context } from 'hono';
import type { SimEnv } from './types';
import { rawBody, receivedHeaders } from './types';

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
export function createWebhookReceiver(baseUrl: () => string, sleep: (ms: number) => Promise<void>): Hono<SimEnv> {
  const receivers = new Map<string, RecordedDelivery[]>();

  async function receive(c: Context<SimEnv>, name: string): Promise<Response> {
    let deliveries = receivers.get(name);
    if (!deliveries) {
      deliveries = [];
      receivers.set(name, deliveries);
      const oldest = receivers.keys().next().value;
      if (receivers.size > MAX_RECEIVERS && oldest !== undefined) receivers.delete(oldest);
    }
    const attempt = deliveries.length + 1;
    const fail = Number(c.req.query('fail') ?? 0);
    const fixed = c.req.query('status');
    const answered = attempt <= fail ? 500 : fixed ? Number(fixed) : 204;
    deliveries.push({
      at: new Date().toISOString(),
      attempt,
      headers: receivedHeaders(c),
      body: (await rawBody(c)).toString('utf8'),
      answered,
    });
    const delay = Number(c.req.query('delay') ?? 0);
    if (delay > 0) await sleep(delay);
    // The Fetch API refuses a body with these statuses (Node never sent one for 204 and 304 either).
    if (answered === 204 || answered === 205 || answered === 304) return new Response(null, { status: answered });
    const headers: Record<string, string> =
      answered >= 300 && answered < 400 ? { location: `${baseUrl()}/__sim/webhooks/${name}-redirected` } : {};
    return Response.json({ received: attempt }, { status: answered, headers });
  }

  const NAME = '/:name{[\\w-]{1,128}}';
  return new Hono<SimEnv>()
    .post(NAME, (c) => receive(c, c.req.param('name')))
    .get(NAME, (c) => Response.json({ deliveries: receivers.get(c.req.param('name')) ?? [] }))
    .delete(NAME, (c) => {
      receivers.delete(c.req.param('name'));
      return new Response(null, { status: 204 });
    })
    .all(NAME, () => Response.json({ detail: 'Method Not Allowed' }, { status: 405, headers: { allow: 'GET, POST, DELETE' } }));
}
