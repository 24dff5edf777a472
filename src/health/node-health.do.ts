import { DurableObject } from 'cloudflare:workers';
import { config } from '../config';
import type { Env } from '../env';
import { log } from '../log';
import { admit, type Admission, type Breaker, CLOSED, nodeState, record, reopensAt } from './breaker';
import { type NodeSnapshot, snapshotKey, WINDOW_MS } from './snapshot';
import { type NodeOutcome, type Sample, summarize, type WindowStats } from './window';

/** Outcomes kept beyond which the oldest go, whatever the window: a bound on the work of each summary. */
const MAX_SAMPLES = 5_000;
/** KV takes at most one write per second per key; snapshots are written at most this often. */
const SNAPSHOT_MIN_INTERVAL_MS = 2_000;
/** While outcomes remain in the window (or the breaker is open), the snapshot is rewritten this often, so old outcomes leave it. */
const SNAPSHOT_REFRESH_MS = 60_000;

/** A node's health as its object sees it now: breaker, and the window's figures overall and per model. */
export interface NodeStats {
  node: string;
  state: ReturnType<typeof nodeState>;
  /** When an open breaker lets a probe through; null while closed. */
  retry_at: number | null;
  consecutive_failures: number;
  window_seconds: number;
  overall: WindowStats;
  models: Record<string, WindowStats>;
}

/**
 * One object per backend node (`idFromName(node id)`): the node's recent outcomes (a sliding window
 * in SQLite) and its circuit breaker (breaker.ts). Tasks ask `admit` before each submit to the node
 * and `report` how their turn on it ended; nothing else writes here. For the public models route it
 * keeps a snapshot in KV (`health:<node>`), written by its alarm at most every 2 s, so readers never
 * call the object.
 */
export class NodeHealthDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS samples (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         at INTEGER NOT NULL,
         model TEXT NOT NULL,
         kind TEXT NOT NULL CHECK (kind IN ('success', 'failure', 'neutral')),
         duration_ms INTEGER
       );
       CREATE INDEX IF NOT EXISTS samples_at ON samples (at);`,
    );
  }

  get #settings() {
    return { cooldownMs: config(this.env).nodeCooldownMs };
  }

  /** The object is named by its node's id, which it cannot read back: callers say it, and it is kept for the snapshot's key. */
  #remember(node: string): void {
    if (this.ctx.storage.kv.get<string>('node') !== node) this.ctx.storage.kv.put('node', node);
  }

  #breaker(): Breaker {
    return this.ctx.storage.kv.get<Breaker>('breaker') ?? CLOSED;
  }

  #samples(since: number): Sample[] {
    return this.ctx.storage.sql
      .exec<{ at: number; model: string; kind: Sample['kind']; duration_ms: number | null }>(
        'SELECT at, model, kind, duration_ms FROM samples WHERE at >= ? ORDER BY seq',
        since,
      )
      .toArray();
  }

  /**
   * Whether task `taskId` may send work to node `node` now: yes while the breaker is closed; once
   * its cool-down is over, to one probe task at a time; otherwise refused until `retry_at`.
   */
  async admit(node: string, taskId: string): Promise<Admission> {
    this.#remember(node);
    const before = this.#breaker();
    const { admission, breaker } = admit(before, taskId, Date.now(), this.#settings);
    if (breaker !== before) this.ctx.storage.kv.put('breaker', breaker);
    return admission;
  }

  /** Records how a task's turn on node `node` ended, for `model`; moves the breaker. */
  async report(node: string, model: string, outcome: NodeOutcome): Promise<void> {
    const now = Date.now();
    const { sql, kv } = this.ctx.storage;
    this.#remember(node);
    sql.exec(
      'INSERT INTO samples (at, model, kind, duration_ms) VALUES (?, ?, ?, ?)',
      now,
      model,
      outcome.kind,
      outcome.kind === 'success' ? Math.max(0, Math.round(outcome.duration_ms)) : null,
    );
    sql.exec('DELETE FROM samples WHERE at < ? OR seq <= (SELECT MAX(seq) FROM samples) - ?', now - WINDOW_MS, MAX_SAMPLES);
    const before = this.#breaker();
    const counts = sql
      .exec<{ successes: number; failures: number }>(
        `SELECT COALESCE(SUM(kind = 'success'), 0) AS successes, COALESCE(SUM(kind = 'failure'), 0) AS failures FROM samples WHERE at >= ?`,
        before.since,
      )
      .one();
    const after = record(before, outcome.kind, counts, now);
    if (after !== before) kv.put('breaker', after);
    if (after.state !== before.state) {
      log.warn(after.state === 'open' ? 'node_breaker_opened' : 'node_breaker_closed', { node, model, consecutive_failures: after.consecutive_failures });
    }
    await this.#scheduleSnapshot(now);
  }

  /** The node's health now; with `model`, `models` holds that model only. What a poll schedule can read durations from. */
  async stats(model?: string): Promise<NodeStats> {
    return this.#stats(Date.now(), model);
  }

  #stats(now: number, model?: string): NodeStats {
    const breaker = this.#breaker();
    const samples = this.#samples(now - WINDOW_MS);
    const byModel = new Map<string, Sample[]>();
    for (const sample of samples) {
      if (model !== undefined && sample.model !== model) continue;
      const list = byModel.get(sample.model);
      if (list) list.push(sample);
      else byModel.set(sample.model, [sample]);
    }
    return {
      node: this.ctx.storage.kv.get<string>('node') ?? '',
      state: nodeState(breaker, now, this.#settings),
      retry_at: breaker.state === 'open' ? reopensAt(breaker, this.#settings) : null,
      consecutive_failures: breaker.consecutive_failures,
      window_seconds: WINDOW_MS / 1000,
      overall: summarize(samples, now - WINDOW_MS),
      models: Object.fromEntries([...byModel].map(([id, list]) => [id, summarize(list, now - WINDOW_MS)])),
    };
  }

  async #scheduleSnapshot(now: number): Promise<void> {
    const lastWritten = this.ctx.storage.kv.get<number>('snapshot_written_at') ?? 0;
    const at = Math.max(now, lastWritten + SNAPSHOT_MIN_INTERVAL_MS);
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > at) await this.ctx.storage.setAlarm(at);
  }

  /** Writes the KV snapshot; keeps rewriting it while it has outcomes to age out or an open breaker to show. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const stats = this.#stats(now);
    if (!stats.node) return;
    const snapshot: NodeSnapshot = {
      v: 1,
      node: stats.node,
      state: stats.state === 'closed' ? 'closed' : 'open',
      retry_at: stats.retry_at,
      written_at: now,
      models: stats.models,
    };
    await this.env.KV.put(snapshotKey(stats.node), JSON.stringify(snapshot));
    this.ctx.storage.kv.put('snapshot_written_at', now);
    const busy = stats.state !== 'closed' || stats.overall.successes + stats.overall.failures + stats.overall.neutral > 0;
    if (busy) await this.ctx.storage.setAlarm(now + SNAPSHOT_REFRESH_MS);
  }
}

/** The health object of backend node `node`. */
export function nodeHealthStub(env: Env, node: string): DurableObjectStub<NodeHealthDO> {
  return env.NODE_HEALTH.get(env.NODE_HEALTH.idFromName(node));
}
