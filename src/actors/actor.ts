/**
 * Defining an actor: a kind name, codecs for what it receives and answers, and a factory that
 * builds its behaviour. The same definition runs on the main thread or on a worker; to run on a
 * worker, the definition must be an export of the module named by `module` (usually
 * `import.meta.url` of a built .js file), because code cannot be sent between threads.
 */
import type { Logger } from '../shared/logger.js';
import type { Codec } from './codec.js';

const ACTOR_DEFINITION = Symbol.for('ringlog.actorDefinition');

export interface ActorContext {
  /** The actor's id, unique within its actor system. */
  readonly id: number;
  readonly kind: string;
  /** A child logger bound to `{ actor: kind, actorId }`. */
  readonly logger: Logger;
}

export interface ActorBehavior<In, Out> {
  /**
   * Handles one message; the actor gets the next only after this returns (or its promise
   * settles). The result answers an `ask`; for a `tell` it is ignored. A throw answers the ask
   * with the error and the actor goes on with its next message.
   */
  receive(message: In): Out | Promise<Out>;
  /** Called once when the actor stops (system shutdown or worker stop). */
  stop?(): void | Promise<void>;
}

export interface ActorDefinition<In, Out, Args = undefined> {
  readonly [ACTOR_DEFINITION]: true;
  readonly kind: string;
  readonly module: string | undefined;
  readonly input: Codec<In>;
  readonly output: Codec<Out>;
  readonly create: (context: ActorContext, args: Args) => ActorBehavior<In, Out> | Promise<ActorBehavior<In, Out>>;
}

export interface ActorSpec<In, Out, Args> {
  kind: string;
  /** The module that exports this definition; required to spawn it on a worker. */
  module?: string;
  input: Codec<In>;
  output: Codec<Out>;
  create: (context: ActorContext, args: Args) => ActorBehavior<In, Out> | Promise<ActorBehavior<In, Out>>;
}

export function defineActor<In, Out, Args = undefined>(spec: ActorSpec<In, Out, Args>): ActorDefinition<In, Out, Args> {
  if (typeof spec.kind !== 'string' || spec.kind.length === 0) throw new TypeError('defineActor: kind must be a non-empty string');
  if (typeof spec.create !== 'function') throw new TypeError(`defineActor(${spec.kind}): create must be a function`);
  return Object.freeze({ [ACTOR_DEFINITION]: true as const, kind: spec.kind, module: spec.module, input: spec.input, output: spec.output, create: spec.create });
}

/** True for a value made by defineActor (in this copy of ringlog or another: the brand is global). */
export function isActorDefinition(value: unknown): value is ActorDefinition<unknown, unknown, unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ACTOR_DEFINITION] === true;
}
