import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { freePort } from '../scripts/free-port';

/** Resolves once `url` answers at all (any status), or rejects after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number, init?: RequestInit): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(err)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A child process started by the bench; its output is kept (last 4 KB) for error messages. */
export interface Child {
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export function startChild(command: string, args: string[], env: Record<string, string> = {}): Child {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** The provider simulator (simulator/main.ts) in a process of its own, once it answers. */
export async function startSimulator(env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ url: string; pid: number | null; stop(): Promise<void> }> {
  const port = await freePort();
  const sim = startChild(process.execPath, ['--import', 'tsx', 'simulator/main.ts'], { SIM_PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/__sim/health`, timeoutMs);
  } catch (err) {
    await sim.stop();
    throw new Error(`${String(err)}\n${sim.output()}`);
  }
  return { url, pid: sim.process.pid ?? null, stop: () => sim.stop() };
}

const CLOCK_TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) a process has used so far; null off Linux or when it is gone. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return null;
  }
}

/** Ids of this process's direct children whose command is `name` (e.g. the workerd Miniflare spawns). */
export function childPids(name: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (command === name && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * Waits until process `pid` used under `share` of a core over a whole `windowMs`, or `maxMs` passed:
 * work a server still owes from the step before (alarms, webhooks, snapshots) must not be billed to the
 * next measurement. Returns how long it waited, or null off Linux.
 */
export async function waitUntilIdle(pid: number, { share = 0.05, windowMs = 1_000, maxMs = 30_000 } = {}): Promise<number | null> {
  const started = Date.now();
  let before = processCpuSeconds(pid);
  if (before === null) return null;
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = processCpuSeconds(pid);
    if (after === null) return null;
    if (after - before < (share * windowMs) / 1000) break;
    before = after;
  }
  return Date.now() - started;
}

