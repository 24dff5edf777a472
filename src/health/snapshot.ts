import type { WindowStats } from './window';

/** How far back a node's health looks: outcomes older than this leave its figures and its failure rate. */
export const WINDOW_MS = 15 * 60_000;

/**
 * What a node's health object publishes in KV for readers that must not call it (the public models
 * route). `state` is the breaker as it was when written; an open node reads as down until a probe
 * closes it, whatever its `retry_at` (when the next probe may go).
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
