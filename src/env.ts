import type { AccountDO } from './accounts/account.do';
import type { TaskDO } from './tasks/task.do';

/** Every binding, variable and secret the Worker reads; the one place they are typed. */
export interface Env {
  KV: KVNamespace;
  IMAGES: R2Bucket;
  TASKS: DurableObjectNamespace<TaskDO>;
  ACCOUNTS: DurableObjectNamespace<AccountDO>;

  /** `production` or `development`; development allows loopback callback and input URLs. */
  ENVIRONMENT: string;
  /** Origin of result-image URLs (`https://…`); required outside development, where empty means the request's origin. */
  PUBLIC_BASE_URL: string;
  TASK_DEADLINE_SECONDS: string;
  POLL_INITIAL_MS: string;
  POLL_MAX_MS: string;
  /** Comma-separated seconds between webhook attempts; empty means the production schedule. */
  WEBHOOK_RETRY_SCHEDULE: string;

  INTERNAL_API_TOKEN: string;

  /** Provider endpoints (vars) and keys (secrets); `npm run dev` and the tests point them at the simulator. */
  BFL_BASE_URL: string;
  BFL_API_KEY: string;
  WAVESPEED_BASE_URL: string;
  WAVESPEED_API_KEY: string;
  XAI_BASE_URL: string;
  XAI_API_KEY: string;
  OPENAI_BASE_URL: string;
  OPENAI_API_KEY: string;
  GEMINI_BASE_URL: string;
  GEMINI_API_KEY: string;
  IDEOGRAM_BASE_URL: string;
  IDEOGRAM_API_KEY: string;
  RECRAFT_BASE_URL: string;
  RECRAFT_API_KEY: string;
}

/** Hono generics shared by every route module. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    accountId: string;
    keyId: string;
  };
}
