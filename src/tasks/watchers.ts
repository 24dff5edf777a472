const MAX_WAIT_MS = 60_000;

/**
 * Requests waiting for a task to change (`Prefer: wait`, the event stream), held in the task
 * object's memory: the object wakes them when it saves a change, so nothing polls it. Lost with the
 * object on a restart; their wait then simply times out and they ask again.
 */
export class Watchers {
  #waiting = new Set<() => void>();

  /** Resolves at the next `wakeAll`, or after `ms` (at most a minute: callers wanting longer ask again). */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, Math.min(ms, MAX_WAIT_MS)));
      this.#waiting.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}

/** Runs the work it is given one piece after another, each starting once the previous one settled. */
export function serially(): <T>(work: () => Promise<T>) => Promise<T> {
  let queue: Promise<void> = Promise.resolve();
  return (work) => {
    const run = queue.then(work);
    queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
}
