import { resolve } from 'node:path';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { buildDocsAssets } from './scripts/build-docs-assets';
import { freePort } from './scripts/free-port';
import { PROVIDERS } from './src/providers';

process.env.SIM_PORT ??= String(await freePort());
// wrangler.toml's `[assets]` directory must exist before the plugin reads it; the plugin runs no `[build]`.
buildDocsAssets();
const simulatorUrl = `http://127.0.0.1:${process.env.SIM_PORT}`;
/** The per-address limit in tests (wrangler.toml's is 1,000 per 10 s): small, so a test reaches it in a few requests. */
const ADDRESS_LIMIT_IN_TESTS = 30;

export default defineConfig({
  // The zod the deployed bundle gets (see src/zod-lean.ts and wrangler.toml's [alias]), so tests run what we deploy.
  resolve: { alias: [{ find: /^zod$/, replacement: resolve(import.meta.dirname, 'src/zod-lean.ts') }] },
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: {
        // Test-only values: every provider points at the simulator, deadlines and retries are short.
        bindings: {
          ENVIRONMENT: 'development',
          INTERNAL_API_TOKEN: 'test-internal-token',
          PUBLIC_BASE_URL: '',
          TASK_DEADLINE_SECONDS: '6',
          POLL_INITIAL_MS: '50',
          POLL_MAX_MS: '400',
          WEBHOOK_RETRY_SCHEDULE: '1,2',
          SYNC_WAIT_SECONDS: '5',
          SIMULATOR_URL: simulatorUrl,
          TEST_ADDRESS_LIMIT: String(ADDRESS_LIMIT_IN_TESTS),
          // Tests poll many tasks of one account at once; those about rate limits set the limits they test.
          RATE_LIMIT_REQUESTS_PER_MINUTE: '100000',
          // Every provider's base URL and a placeholder key, from the adapters' declarations.
          ...Object.fromEntries(PROVIDERS.flatMap((p) => [[p.baseUrlVar, simulatorUrl], [p.secret, `test-${p.id}-key`]])),
        },
        ratelimits: { ADDRESS_RATE_LIMITER: { simple: { limit: ADDRESS_LIMIT_IN_TESTS, period: 10 } } },
      },
    }),
  ],
  test: {
    globalSetup: ['./test/global-setup.ts'],
    setupFiles: ['./test/quiet-worker-logs.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
