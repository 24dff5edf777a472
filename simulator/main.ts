import { durationModeFromEnv } from './durations';
import { startSimulator } from './server';

const port = Number(process.env.SIM_PORT ?? process.argv.find((a) => a.startsWith('--port='))?.slice(7) ?? 8788);
const sim = await startSimulator({ port, durations: durationModeFromEnv(process.env.SIM_DURATIONS) });
console.log(`provider simulator listening on ${sim.url}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void sim.close().then(() => process.exit(0));
  });
}
