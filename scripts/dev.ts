import { spawn } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { startSimulator } from '../simulator/server';
import { PROVIDERS } from '../src/providers';

/**
 * `npm run dev`: the provider simulator on SIM_PORT (8788) and the Worker under `wrangler dev` on
 * PORT (8787), with every provider base URL pointed at the simulator, so the whole flow runs
 * locally with no provider keys.
 */
const port = process.env.PORT ?? '8787';
const simPort = Number(process.env.SIM_PORT ?? 8788);

if (!existsSync('.dev.vars')) {
  copyFileSync('.dev.vars.example', '.dev.vars');
  console.log('created .dev.vars from .dev.vars.example');
}

const sim = await startSimulator({ port: simPort });
console.log(`provider simulator on ${sim.url} (fault switches: see simulator/faults.ts)`);

const vars: Record<string, string> = {
  ENVIRONMENT: 'development',
  // Result URLs on the dev server itself, whatever wrangler.toml says for production.
  PUBLIC_BASE_URL: `http://localhost:${port}`,
  TASK_DEADLINE_SECONDS: '120',
  POLL_INITIAL_MS: '500',
  POLL_MAX_MS: '3000',
  WEBHOOK_RETRY_SCHEDULE: '1,2,4,8',
  ...Object.fromEntries(PROVIDERS.map((p) => [p.baseUrlVar, sim.url])),
};

const wrangler = spawn(
  'npx',
  ['wrangler', 'dev', '--port', port, '--ip', '127.0.0.1', ...Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`])],
  { stdio: 'inherit', env: { ...process.env, WRANGLER_SEND_METRICS: 'false' } },
);

const stop = () => {
  wrangler.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
wrangler.on('exit', (code) => {
  void sim.close().then(() => process.exit(code ?? 0));
});
