import { z } from '@hono/zod-openapi';
import { MODELS } from '../catalog';
import type { ModelEntry } from '../catalog/types';
import type { Env } from '../env';
import { log } from '../log';
import { type NodeSnapshot, snapshotKey, WINDOW_MS } from './snapshot';

export const ModelStatusSchema = z
  .object({
    state: z.enum(['operational', 'degraded', 'down']).openapi({
      description:
        '`down`: no backend node of the model takes new tasks (each failed repeatedly and is out of rotation; a new task fails ' +
        'at once with `provider_unavailable`, refunded, until a probe succeeds). `degraded`: a node is out of rotation but another ' +
        'serves the model, or fewer than 90% of recent tasks succeeded (with at least 5 to judge by). `operational` otherwise, ' +
        'including a model with no recent tasks.',
    }),
    success_rate: z.number().min(0).max(1).nullable().openapi({
      description:
        "Of the recent tasks the model's nodes finished, the share they served; a moderated or refused request counts for neither " +
        'side, a task that failed over counts once per node it tried. Null without recent tasks.',
    }),
    p50_seconds: z.number().min(0).nullable().openapi({
      description:
        'Median time from the provider accepting the job to the result being ready, on the node that served most of the recent ' +
        'tasks. Null without a recent success.',
    }),
    window_seconds: z.number().int().openapi({ description: 'How far back the figures look.' }),
  })
  .openapi('ModelStatus', {
    description: 'Live signals from recent tasks; may lag by a few seconds (up to about a minute where the edge caches KV).',
  });

export type ModelStatus = z.infer<typeof ModelStatusSchema>;

/** Below this success rate a model is degraded, once it has MIN_DECIDED outcomes to judge by. */
export const DEGRADED_BELOW = 0.9;
const MIN_DECIDED = 5;

/** Whether a node is out of rotation as its snapshot tells: open, until a probe closes it again. */
function outOfRotation(snapshot: NodeSnapshot | undefined): boolean {
  return snapshot?.state === 'open';
}

/** A model's live status from its nodes' snapshots (a node without one has had no recent tasks). */
export function modelStatus(model: Pick<ModelEntry, 'id' | 'nodes'>, snapshots: ReadonlyMap<string, NodeSnapshot>): ModelStatus {
  let successes = 0;
  let failures = 0;
  let busiest: { successes: number; p50_ms: number | null } = { successes: 0, p50_ms: null };
  let closed = 0;
  for (const node of model.nodes) {
    const snapshot = snapshots.get(node.id);
    if (!outOfRotation(snapshot)) closed++;
    const stats = snapshot?.models[model.id];
    if (!stats) continue;
    successes += stats.successes;
    failures += stats.failures;
    if (stats.successes > busiest.successes) busiest = stats;
  }
  const decided = successes + failures;
  const success_rate = decided === 0 ? null : Math.round((successes / decided) * 10_000) / 10_000;
  const state =
    closed === 0
      ? 'down'
      : closed < model.nodes.length || (decided >= MIN_DECIDED && successes / decided < DEGRADED_BELOW)
        ? 'degraded'
        : 'operational';
  return {
    state,
    success_rate,
    p50_seconds: busiest.p50_ms === null ? null : Math.round(busiest.p50_ms) / 1000,
    window_seconds: WINDOW_MS / 1000,
  };
}

/** Snapshots read within this long are served from the isolate's memory: the models route is read far more than written. */
const MEMO_MS = 2_000;
/** Every backend node of the catalog: read together, in one KV read. */
const CATALOG_NODES = [...new Set(MODELS.flatMap((m) => m.nodes.map((n) => n.id)))].sort();
/**
 * The last snapshots read, kept resolved: a promise shared across requests would hang every reader
 * when the request that started the read is canceled (the runtime then answers them 500), so
 * readers that miss at the same moment each read KV themselves.
 */
let memo: { at: number; snapshots: Map<string, NodeSnapshot> } | null = null;

/**
 * The snapshots of the catalog's nodes, one KV read for all of them, kept by the isolate for up to
 * 2 s. A read that fails counts as no snapshots (every model operational, without figures) rather
 * than failing its reader.
 */
export async function nodeSnapshots(env: Env): Promise<Map<string, NodeSnapshot>> {
  if (memo && Date.now() - memo.at < MEMO_MS) return memo.snapshots;
  const snapshots = await readSnapshots(env, CATALOG_NODES);
  if (snapshots) memo = { at: Date.now(), snapshots };
  return snapshots ?? new Map();
}

/** The nodes' snapshots, or null when KV could not be read. */
async function readSnapshots(env: Env, nodes: readonly string[]): Promise<Map<string, NodeSnapshot> | null> {
  const found = new Map<string, NodeSnapshot>();
  try {
    const values = await env.KV.get<NodeSnapshot>(nodes.map(snapshotKey), 'json');
    for (const node of nodes) {
      const value = values.get(snapshotKey(node));
      if (value?.v === 1) found.set(node, value);
    }
    return found;
  } catch (err) {
    log.error('node_snapshots_unreadable', { nodes }, err);
    return null;
  }
}
