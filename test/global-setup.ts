import { startSimulator } from '../simulator/server';

/** Starts the provider simulator on the port the config chose and stops it after the run. */
export default async function setup(): Promise<() => Promise<void>> {
  const sim = await startSimulator({ port: Number(process.env.SIM_PORT) });
  return () => sim.close();
}
