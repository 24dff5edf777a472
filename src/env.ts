/**
 * Every binding, variable and secret the Worker reads: `Cloudflare.Env`, which `npm run types` generates
 * into worker-configuration.d.ts from wrangler.toml (bindings and `[vars]`) and .dev.vars.example (the
 * names of the secrets), and which `npm test` checks is not stale. Durable Object namespaces come out as
 * `DurableObjectNamespace<TaskDO>` / `<AccountDO>`, so RPC stubs stay typed.
 *
 * Vars are typed `string` (`--strict-vars=false`): tests and `npm run dev` bind other values than
 * wrangler.toml's. `config.ts` parses them once.
 */
export type Env = Cloudflare.Env;

/** Hono generics shared by every route module. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    accountId: string;
    keyId: string;
  };
}
