import { resolve } from 'node:path';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { freePort } from './scripts/free-port';
import { PROVIDERS } from './src/providers';

process.env.SIM_PORT ??= String(await freePort());
const simulatorUrl = `http://127.0.0.1:${process.env.SIM_PORT}`;

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
          SIMULATOR_URL: simulatorUrl,
          // Every provider's base URL and a placeholder key, from the adapters' declarations.
          ...Object.fromEntries(PROVIDERS.flatMap((p) => [[p.baseUrlVar, simulatorUrl], [p.secret, `test-${p.id}-key`]])),
        },
      },
    }),
  ],
  test: {
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
