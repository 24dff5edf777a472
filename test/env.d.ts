import type { Env as WorkerEnv } from '../src/env';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      /** Test-only: where the provider simulator listens. */
      SIMULATOR_URL: string;
    }
    interface GlobalProps {
      mainModule: typeof import('../src/index');
      durableNamespaces: 'TaskDO' | 'AccountDO';
    }
  }
}
