import type { AccountDO } from './billing/account.do';
import type { TaskDO } from './tasks/task.do';

/** Every binding, variable and secret the Worker reads; the one place they are typed. */
export interface Env {
  KV: KVNamespace;
  IMAGES: R2Bucket;
  TASKS: DurableObjectNamespace<TaskDO>;
  ACCOUNTS: DurableObjectNamespace<AccountDO>;

  /** `production` or `development`; development allows loopback callback and input URLs. */
  ENVIRONMENT: string;
  /** Origin used in result-image URLs; empty means the origin of the creating request. */
  PUBLIC_BASE_URL: string;
  TASK_DEADLINE_SECONDS: string;
  POLL_INITIAL_MS: string;
  POLL_MAX_MS: string;
  /** Comma-separated seconds between webhook attempts; empty means the production schedule. */
  WEBHOOK_RETRY_SCHEDULE: string;

  INTERNAL_API_TOKEN: string;
  BFL_BASE_URL: string;
  BFL_API_KEY: string;
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
