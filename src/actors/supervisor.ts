/**
 * Supervisor: Erlang/OTP one_for_one supervision on the main thread. When a child crashes, only
 * that child is restarted, after an exponential backoff. More than `maxRestarts` crashes within
 * `withinMs` exceed the restart intensity: the supervisor stops all its children and escalates,
 * to its parent supervisor when it has one (for which it is just a crashed child) or else to
 * `onEscalate`. Every crash is logged with its cause. Main thread only.
 *
 * Events: 'crash' (child, error), 'restart' (child), 'escalate' (EscalationError).
 */
import { exponentialBackoffMs } from '../shared/backoff.js';
import { EventEmitter } from 'node:events';
import { EscalationError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/** Something a supervisor can start, stop, and hear crash. */
export interface SupervisedChild {
  readonly name: string;
  start(): Promise<void>;
  stop(timeoutMs?: number): Promise<void>;
  /** The supervisor's hook: called when the child dies without being asked to. */
  setCrashHandler(handler: (error: Error) => void): void;
}

export interface SupervisorOptions {
  /** Restart intensity: more crashes than this within `withinMs` escalate. OTP's MaxR. */
  maxRestarts?: number;
  /** OTP's MaxT, in milliseconds. */
  withinMs?: number;
  /** Backoff before the first restart; doubles with each crash still inside the window. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called when the intensity is exceeded and there is no parent supervisor. */
  onEscalate?: (error: EscalationError) => void;
}

export const DEFAULT_SUPERVISOR_OPTIONS = {
  maxRestarts: 3,
  withinMs: 5_000,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
} as const;

export type SupervisorState = 'running' | 'escalated' | 'stopped';

export class Supervisor extends EventEmitter implements SupervisedChild {
  readonly name: string;
  readonly #logger: Logger;
  readonly #maxRestarts: number;
  readonly #withinMs: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #onEscalate: (error: EscalationError) => void;
  readonly #children: SupervisedChild[] = [];
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  #crashTimesMs: number[] = [];
  #parentHandler: ((error: Error) => void) | undefined;
  #state: SupervisorState = 'running';
  restarts = 0;

  constructor(name: string, logger: Logger, options: SupervisorOptions = {}) {
    super();
    this.name = name;
    this.#logger = logger.child({ supervisor: name });
    this.#maxRestarts = options.maxRestarts ?? DEFAULT_SUPERVISOR_OPTIONS.maxRestarts;
    this.#withinMs = options.withinMs ?? DEFAULT_SUPERVISOR_OPTIONS.withinMs;
    this.#initialBackoffMs = options.initialBackoffMs ?? DEFAULT_SUPERVISOR_OPTIONS.initialBackoffMs;
    this.#maxBackoffMs = options.maxBackoffMs ?? DEFAULT_SUPERVISOR_OPTIONS.maxBackoffMs;
    this.#onEscalate = options.onEscalate ?? ((error) => this.#logger.fatal({ err: error }, 'supervisor escalated with no parent'));
  }

  get state(): SupervisorState {
    return this.#state;
  }

  get children(): readonly SupervisedChild[] {
    return this.#children;
  }

  /** Starts `child` and supervises it from now on. */
  async add(child: SupervisedChild): Promise<void> {
    if (this.#state !== 'running') throw new EscalationError(`supervisor ${this.name} is ${this.#state}; cannot add ${child.name}`);
    child.setCrashHandler((error) => this.#onChildCrash(child, error));
    this.#children.push(child);
    await child.start();
  }

  setCrashHandler(handler: (error: Error) => void): void {
    this.#parentHandler = handler;
  }

  /** (Re)starts every child: what a parent supervisor calls to restart this one. */
  async start(): Promise<void> {
    this.#state = 'running';
    this.#crashTimesMs = [];
    for (const child of this.#children) await child.start();
  }

  /** Stops every child, newest first, and cancels pending restarts. */
  async stop(timeoutMs?: number): Promise<void> {
    if (this.#state === 'running') this.#state = 'stopped';
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    for (const child of [...this.#children].reverse()) {
      try {
        await child.stop(timeoutMs);
      } catch (error) {
        this.#logger.warn({ child: child.name, err: error }, 'child did not stop cleanly');
      }
    }
  }

  #onChildCrash(child: SupervisedChild, error: Error): void {
    if (this.#state !== 'running') return;
    const nowMs = performance.now();
    this.#crashTimesMs = this.#crashTimesMs.filter((t) => nowMs - t < this.#withinMs);
    this.#crashTimesMs.push(nowMs);
    const crashesInWindow = this.#crashTimesMs.length;
    this.#logger.error({ child: child.name, err: error, crashesInWindow }, 'child crashed');
    this.emit('crash', child, error);
    if (crashesInWindow > this.#maxRestarts) {
      void this.#escalate(child, error);
      return;
    }
    const backoffMs = exponentialBackoffMs(crashesInWindow, this.#initialBackoffMs, this.#maxBackoffMs);
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (this.#state !== 'running') return;
      this.restarts++;
      this.#logger.info({ child: child.name, backoffMs }, 'restarting child');
      child.start().then(
        () => this.emit('restart', child),
        (startError: unknown) => this.#onChildCrash(child, startError instanceof Error ? startError : new Error(String(startError))),
      );
    }, backoffMs);
    this.#restartTimers.add(timer);
  }

  async #escalate(child: SupervisedChild, cause: Error): Promise<void> {
    this.#state = 'escalated';
    const error = new EscalationError(
      `supervisor ${this.name}: ${child.name} crashed more than ${this.#maxRestarts} times within ${this.#withinMs} ms`,
      { cause },
    );
    this.#logger.error({ err: error }, 'restart intensity exceeded; stopping children and escalating');
    await this.stop();
    this.emit('escalate', error);
    if (this.#parentHandler) this.#parentHandler(error);
    else this.#onEscalate(error);
  }
}
