/**
 * A task's side of its provider account's capacity (see capacity.do.ts), as the task's record keeps it.
 *
 *   ask ──granted──▶ held ──job ended / task ended / node changed──▶ release ──released──▶ free (or ask, on a new node)
 *   ask ──queued──▶ queued ──granted (pushed by the capacity object)──▶ held
 *   held ──the provider answered 429 anyway──▶ ask (reported with the ask: the capacity object lowers its limit and queues the task first)
 *   ask ──capacity object unreachable, 3 times──▶ bypass (the task goes on without a slot rather than not at all)
 */
export type SlotStatus = 'ask' | 'queued' | 'held' | 'release' | 'free' | 'bypass';

export interface SlotState {
  status: SlotStatus;
  /** The capacity pool (provider account) holding a slot or a place for the task; null when none does. */
  pool: string | null;
  /**
   * When the slot work is due: the ask (or, while queued, the safety re-ask in case a push was lost),
   * the lease renewal while held, the release; null when none is.
   */
  next_at: number | null;
  /** Consecutive failures to reach the capacity object. */
  failures: number;
  /** A provider 429 despite the slot, to report with the next ask. */
  throttled: { retry_after_ms: number | null } | null;
  /** `queue_position` while queued: 1 = next; it only goes down. */
  position: number | null;
}

/** What the capacity object answers a task asking for a slot. */
export type SlotAnswer = { granted: true; lease_ms: number } | { granted: false; position: number };
