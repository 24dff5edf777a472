/**
 * Requests waiting for a task to change (`Prefer: wait`, the event stream), held in the task
 * object's memory: the object wakes them when it saves a change, so nothing polls it. Lost with the
 * object on a restart; their wait then simply times out and they ask again.
 */
export class Watchers {
  #waiting = new Set<() => void>();

  /** Resolves at the next `wakeAll`, or after `ms`, whichever comes first. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      this.#waiting.add(wake);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.#waiting]) wake();
  }
}
