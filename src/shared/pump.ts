/**
 * Pump: how an I/O actor runs its "send what may go now" step. schedule() runs it once in the
 * next microtask however often it is asked in one turn; wakeAt() runs it at a time (the earliest
 * asked for wins), for backoffs and deadlines. One event-loop thread only.
 */
export class Pump {
  readonly #run: () => void;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #wakeAtMs = Infinity;

  constructor(run: () => void) {
    this.#run = run;
  }

  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#run();
    });
  }

  /** Runs the step at `atMs` (Date.now() time), unless a run is already due earlier. */
  wakeAt(atMs: number): void {
    if (atMs >= this.#wakeAtMs) return;
    clearTimeout(this.#timer);
    this.#wakeAtMs = atMs;
    this.#timer = setTimeout(() => {
      this.#wakeAtMs = Infinity;
      this.#run();
    }, Math.max(0, atMs - Date.now()));
  }

  /** Cancels the timed run, if any. */
  cancelTimer(): void {
    clearTimeout(this.#timer);
    this.#wakeAtMs = Infinity;
  }
}
