// The Worker's bindings and `GlobalProps` (for `exports.default` and `runInDurableObject`) come from the
// generated worker-configuration.d.ts; the tests add what only vitest.config.ts binds. src/ shares this
// TypeScript program, so it would type-check there too: src/ must not read it.
declare namespace Cloudflare {
  interface Env {
    /** Test-only: where the provider simulator listens. */
    SIMULATOR_URL: string;
    /** Test-only: the per-address rate limit vitest.config.ts gives `ADDRESS_RATE_LIMITER` (per 10 s). */
    TEST_ADDRESS_LIMIT: string;
  }
}
