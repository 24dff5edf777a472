import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';
import { freePort } from './scripts/free-port';

process.env.SIM_PORT ??= String(await freePort());
const simulatorUrl = `http://127.0.0.1:${process.env.SIM_PORT}`;

export default defineConfig({
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
          BFL_BASE_URL: simulatorUrl,
          BFL_API_KEY: 'test-bfl-key',
          WAVESPEED_BASE_URL: simulatorUrl,
          WAVESPEED_API_KEY: 'test-wavespeed-key',
          XAI_BASE_URL: simulatorUrl,
          XAI_API_KEY: 'test-xai-key',
          OPENAI_BASE_URL: simulatorUrl,
          OPENAI_API_KEY: 'test-openai-key',
          GEMINI_BASE_URL: simulatorUrl,
          GEMINI_API_KEY: 'test-gemini-key',
          IDEOGRAM_BASE_URL: simulatorUrl,
          IDEOGRAM_API_KEY: 'test-ideogram-key',
          RECRAFT_BASE_URL: simulatorUrl,
          RECRAFT_API_KEY: 'test-recraft-key',
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
