/**
 * KeyedTimers: one pending timeout per key on this thread's event loop. Scheduling a key again
 * replaces its timeout (a heartbeat pushing a session deadline back), and cancelAll() clears
 * every one, so that an owner shutting down leaves none behind. Not thread-safe.
 */
export class KeyedTimers {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** Runs `onExpire` after `delayMs` unless the key is scheduled again or cancelled first. */
  schedule(key: string, delayMs: number, onExpire: () => void): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      onExpire();
    }, Math.max(0, delayMs));
    this.#timers.set(key, timer);
  }

  has(key: string): boolean {
    return this.#timers.has(key);
  }

  cancel(key: string): void {
    const timer = this.#timers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(key);
  }

  cancelAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  get size(): number {
    return this.#timers.size;
  }
}
