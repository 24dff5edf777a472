import { Hono } from 'hono';

/**
 * The floor for `npm run bench`: a bare Hono route answering a constant, bundled by wrangler and
 * served by Miniflare exactly like the gateway, so the difference between the two is the
 * gateway's own work (auth, validation, storage) and not the runtime, the bundler or the loopback.
 */
const app = new Hono();
app.get('/', (c) => c.json({ ok: true }));

export default app;
