import type { WindowStats } from './window';

/** How far back a node's health looks: outcomes older than this leave its figures and its failure rate. */
export const WINDOW_MS = 15 * 60_000;

/**
 * What a node's health object publishes in KV for readers that must not call it (the public models
 * route). `state` is the breaker as it was when written: `open` with a `retry_at` already past reads
 * as half-open (a probe may go through).
 */
export interface NodeSnapshot {
  v: 1;
  node: string;
  state: 'closed' | 'open';
  retry_at: number | null;
  written_at: number;
  /** The window's figures per model this node served. */
  models: Record<string, WindowStats>;
}

export const snapshotKey = (node: string): string => `health:${node}`;
