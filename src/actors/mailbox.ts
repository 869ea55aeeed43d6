/**
 * Mailbox: an actor's queue of messages, handled one at a time. Synchronous handlers run back to
 * back; an async handler holds the mailbox until its promise settles. Used by main-thread actors
 * and by the worker host alike. Not thread-safe: one thread owns a mailbox.
 */
import type { ActorBehavior } from './actor.js';

/** Called with the handler's result or error; absent for a tell. */
export type Reply<Out> = (error: unknown, result?: Out) => void;

interface Envelope<In, Out> {
  message: In;
  reply: Reply<Out> | undefined;
}

export class Mailbox<In, Out> {
  readonly #behavior: ActorBehavior<In, Out>;
  readonly #onTellError: (error: unknown) => void;
  readonly #onHandled: () => void;
  #queue: Envelope<In, Out>[] = [];
  #head = 0;
  #running = false;
  #idleWaiters: (() => void)[] = [];
  handled = 0;

  constructor(behavior: ActorBehavior<In, Out>, onTellError: (error: unknown) => void, onHandled: () => void = () => undefined) {
    this.#behavior = behavior;
    this.#onTellError = onTellError;
    this.#onHandled = onHandled;
  }

  get depth(): number {
    return this.#queue.length - this.#head;
  }

  enqueue(message: In, reply?: Reply<Out>): void {
    this.#queue.push({ message, reply });
    if (!this.#running) {
      // Handle it after the caller's turn, never inside tell() or ask() itself.
      this.#running = true;
      queueMicrotask(() => void this.#run());
    }
  }

  /** Resolves when every message queued so far has been handled. */
  idle(): Promise<void> {
    if (!this.#running && this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #run(): Promise<void> {
    while (this.#head < this.#queue.length) {
      const envelope = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Envelope<In, Out>;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      try {
        let result = this.#behavior.receive(envelope.message);
        if (result instanceof Promise) result = await result;
        this.handled++;
        envelope.reply?.(undefined, result);
      } catch (error) {
        this.handled++;
        if (envelope.reply) envelope.reply(error);
        else this.#onTellError(error);
      }
      this.#onHandled();
    }
    this.#running = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
