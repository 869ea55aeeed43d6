/**
 * ActorSystem: spawns actors on the main thread or on named worker threads, hands out refs for
 * `tell` and `ask`, supervises the workers (one_for_one, see supervisor.ts) and shuts everything
 * down in order. Main thread only.
 */
import { IllegalStateError, TimeoutError } from '../shared/errors.js';
import { createRootLogger, type Logger } from '../shared/logger.js';
import { DEFAULT_CHANNEL_CAPACITY_BYTES } from '../shared/channel.js';
import { DEFAULT_MAX_BACKLOG_BYTES } from '../shared/ordered-writer.js';
import type { ActorBehavior, ActorDefinition } from './actor.js';
import type { WorkerStatus } from './host-protocol.js';
import { Mailbox } from './mailbox.js';
import { Supervisor, type SupervisorOptions } from './supervisor.js';
import { WorkerLink } from './worker-link.js';

export interface AskOptions {
  timeoutMs?: number;
}

export interface ActorRef<In, Out> {
  readonly id: number;
  readonly kind: string;
  /** 'main' or the name of the worker the actor runs on. */
  readonly location: string;
  /**
   * Fire and forget. Never blocks; messages to one actor arrive in the order told. Throws
   * MailboxFullError when the worker's inbox and backlog are full, WorkerExitedError while its
   * worker is down.
   */
  tell(message: In): void;
  /** Request and reply, failing with TimeoutError (ERR_ASK_TIMEOUT) after timeoutMs. */
  ask(message: In, options?: AskOptions): Promise<Out>;
}

export interface ActorSystemOptions {
  logger?: Logger;
  /** Supervision of the worker threads. */
  supervision?: SupervisorOptions;
  defaultAskTimeoutMs?: number;
  /** Bound on control-plane calls (spawn, status, shutdown). */
  controlTimeoutMs?: number;
  channelCapacityBytes?: number;
  /** Bytes a worker's inbox may queue beyond its ring before tell refuses. */
  maxBacklogBytes?: number;
  /** Messages a worker may hold in its actors' mailboxes before it stops reading its inbox. */
  maxQueuedMessages?: number;
  /** Supervise this system's workers under `parent`: past its restart intensity, the system escalates there. */
  parent?: Supervisor;
}

export interface SpawnOptions<Args> {
  args?: Args;
  /** Run on this named worker thread (started on first use); omit to run on the main thread. */
  worker?: string;
}

const DEFAULT_ASK_TIMEOUT_MS = 30_000;
const DEFAULT_CONTROL_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_QUEUED_MESSAGES = 10_000;

interface LocalActor {
  behavior: ActorBehavior<unknown, unknown>;
  mailbox: Mailbox<unknown, unknown>;
}

export class ActorSystem {
  readonly logger: Logger;
  readonly supervisor: Supervisor;
  readonly #options: Required<Omit<ActorSystemOptions, 'logger' | 'supervision' | 'parent'>>;
  readonly #links = new Map<string, WorkerLink>();
  readonly #locals = new Map<number, LocalActor>();
  #nextActorId = 1;
  #closed = false;

  constructor(options: ActorSystemOptions = {}) {
    this.logger = options.logger ?? createRootLogger();
    this.supervisor = new Supervisor('actor-system', this.logger, options.supervision);
    this.#options = {
      defaultAskTimeoutMs: options.defaultAskTimeoutMs ?? DEFAULT_ASK_TIMEOUT_MS,
      controlTimeoutMs: options.controlTimeoutMs ?? DEFAULT_CONTROL_TIMEOUT_MS,
      channelCapacityBytes: options.channelCapacityBytes ?? DEFAULT_CHANNEL_CAPACITY_BYTES,
      maxBacklogBytes: options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES,
      maxQueuedMessages: options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_MESSAGES,
    };
    // No children yet, so adding (and thereby starting) it completes at once.
    if (options.parent !== undefined) void options.parent.add(this.supervisor);
  }

  async spawn<In, Out, Args>(definition: ActorDefinition<In, Out, Args>, options: SpawnOptions<Args> = {}): Promise<ActorRef<In, Out>> {
    if (this.#closed) throw new IllegalStateError('actor system is shut down');
    const id = this.#nextActorId++;
    return options.worker === undefined
      ? this.#spawnLocal(id, definition, options.args as Args)
      : this.#spawnOnWorker(id, definition, options.worker, options.args);
  }

  /** Names of the worker threads this system started. */
  workers(): string[] {
    return [...this.#links.keys()];
  }

  /** A worker's status over its control plane (comlink). */
  async status(worker: string): Promise<WorkerStatus> {
    return this.#link(worker).status();
  }

  /**
   * Stops every worker (each drains its inbox and stops its actors), then the main-thread actors.
   * What has not stopped within timeoutMs is abandoned with a warning: workers are terminated,
   * main-thread actors are left to their fate.
   */
  async shutdown(timeoutMs = this.#options.controlTimeoutMs): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadlineMs = performance.now() + timeoutMs;
    await this.supervisor.stop(timeoutMs);
    for (const [id, local] of this.#locals) {
      const stopped = local.mailbox.idle().then(() => local.behavior.stop?.()).then(() => true);
      if (!(await Promise.race([stopped, resolveAfter(deadlineMs - performance.now(), false)]))) {
        this.logger.warn({ actorId: id }, 'main-thread actor did not stop before the shutdown deadline; abandoned');
      }
    }
    this.#locals.clear();
  }

  #link(worker: string): WorkerLink {
    const link = this.#links.get(worker);
    if (link === undefined) throw new IllegalStateError(`no worker named '${worker}' in this actor system`);
    return link;
  }

  async #spawnLocal<In, Out, Args>(id: number, definition: ActorDefinition<In, Out, Args>, args: Args): Promise<ActorRef<In, Out>> {
    const logger = this.logger.child({ actor: definition.kind, actorId: id, thread: 'main' });
    const behavior = await definition.create({ id, kind: definition.kind, logger }, args);
    const mailbox = new Mailbox<In, Out>(behavior, (error) => logger.error({ err: error }, 'tell handler failed'));
    this.#locals.set(id, { behavior, mailbox } as unknown as LocalActor);
    const defaultTimeoutMs = this.#options.defaultAskTimeoutMs;
    const isClosed = (): boolean => this.#closed;
    return {
      id,
      kind: definition.kind,
      location: 'main',
      tell(message) {
        if (isClosed()) throw new IllegalStateError('actor system is shut down');
        mailbox.enqueue(message);
      },
      ask(message, options = {}) {
        if (isClosed()) return Promise.reject(new IllegalStateError('actor system is shut down'));
        const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
        return new Promise<Out>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new TimeoutError('ERR_ASK_TIMEOUT', `ask to ${definition.kind}#${id} on main got no answer`, timeoutMs)),
            timeoutMs,
          );
          mailbox.enqueue(message, (error, result) => {
            clearTimeout(timer);
            if (error === undefined) resolve(result as Out);
            else reject(error);
          });
        });
      },
    };
  }

  async #spawnOnWorker<In, Out, Args>(id: number, definition: ActorDefinition<In, Out, Args>, worker: string, args: unknown): Promise<ActorRef<In, Out>> {
    if (definition.module === undefined) {
      throw new IllegalStateError(`actor kind '${definition.kind}' has no module, so it cannot run on a worker: pass module: import.meta.url to defineActor`);
    }
    let link = this.#links.get(worker);
    if (link === undefined) {
      link = new WorkerLink(worker, {
        logger: this.logger,
        channelCapacityBytes: this.#options.channelCapacityBytes,
        maxBacklogBytes: this.#options.maxBacklogBytes,
        maxQueuedMessages: this.#options.maxQueuedMessages,
        controlTimeoutMs: this.#options.controlTimeoutMs,
      });
      this.#links.set(worker, link);
      await this.supervisor.add(link);
    }
    await link.spawnActor({ actorId: id, module: definition.module, kind: definition.kind, args });
    const { input, output, kind } = definition;
    const defaultTimeoutMs = this.#options.defaultAskTimeoutMs;
    const target = link;
    const describe = (): string => `${kind}#${id} on worker ${worker}`;
    return {
      id,
      kind,
      location: worker,
      tell(message) {
        target.tell(id, input.encode(message));
      },
      async ask(message, options = {}) {
        const reply = await target.ask(id, input.encode(message), options.timeoutMs ?? defaultTimeoutMs, describe);
        return output.decode(reply);
      },
    };
  }
}

function resolveAfter<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => {
    setTimeout(() => resolve(value), Math.max(0, ms)).unref();
  });
}
