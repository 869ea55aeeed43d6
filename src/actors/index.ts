/**
 * ringlog's actor runtime: `import { ActorSystem, defineActor, ... } from 'ringlog/actors'`.
 */
export { defineActor, isActorDefinition } from './actor.js';
export type { ActorBehavior, ActorContext, ActorDefinition, ActorSpec } from './actor.js';
export { ActorSystem } from './actor-system.js';
export type { ActorRef, ActorSystemOptions, AskOptions, SpawnOptions } from './actor-system.js';
export { bytesCodec, jsonCodec, structCodec, utf8Codec, voidCodec } from './codec.js';
export type { Codec, StructFieldType, StructValue } from './codec.js';
export type { ActorStatus, WorkerStatus } from './host-protocol.js';
export { Supervisor, DEFAULT_SUPERVISOR_OPTIONS } from './supervisor.js';
export type { SupervisedChild, SupervisorOptions, SupervisorState } from './supervisor.js';
export { ChannelReader, ChannelWriter, createChannel } from '../shared/channel.js';
export type { ChannelHandle, FrameHandler, WaitResult } from '../shared/channel.js';
export * from '../shared/errors.js';
