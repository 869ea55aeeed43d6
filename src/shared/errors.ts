/**
 * The error hierarchy. Every ringlog error has a stable `code` and a `retriable` flag.
 * Errors cross threads as plain `{ code, message, ... }` objects (structured clone keeps only
 * built-in error types) and are rebuilt as the right class by `errorFromWire`.
 */

export interface WireError {
  code: string;
  message: string;
  /** Extra fields some classes carry (a config key, a Kafka error code, ...). */
  detail?: Record<string, string | number | boolean | null>;
}

export class RinglogError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }

  override get name(): string {
    return this.constructor.name;
  }

  /** The fields a subclass needs to be rebuilt on another thread. */
  protected wireDetail(): WireError['detail'] {
    return undefined;
  }

  toWire(): WireError {
    const detail = this.wireDetail();
    return detail === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, detail };
  }
}

/** A configuration value is wrong; `key` names the option. */
export class ConfigError extends RinglogError {
  readonly key: string;
  constructor(key: string, message: string) {
    super('ERR_CONFIG', `${key}: ${message}`);
    this.key = key;
  }
  protected override wireDetail(): WireError['detail'] {
    return { key: this.key };
  }
}

/**
 * A bounded wait ran out. The code names the wait (ERR_ASK_TIMEOUT, ERR_CHANNEL_WRITE_TIMEOUT, ...)
 * so callers and logs can tell one timeout from another.
 */
export class TimeoutError extends RinglogError {
  readonly timeoutMs: number;
  constructor(code: string, message: string, timeoutMs: number) {
    super(code, `${message} (timed out after ${timeoutMs} ms)`, { retriable: true });
    this.timeoutMs = timeoutMs;
  }
  protected override wireDetail(): WireError['detail'] {
    return { timeoutMs: this.timeoutMs };
  }
}

/** The worker that hosted an actor exited (crashed or was stopped) before it answered. */
export class WorkerExitedError extends RinglogError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_WORKER_EXITED', message, { retriable: true, cause: options.cause });
  }
}

/** A record batch failed validation: bad length, magic, CRC, counts or varints. */
export class CorruptRecordError extends RinglogError {
  constructor(message: string) {
    super('ERR_CORRUPT_RECORD', message);
  }
}

/** A batch uses a compression no codec is registered for: not corrupt, just not readable here. */
export class UnsupportedCompressionError extends RinglogError {
  readonly compression: number;
  constructor(compression: number, message: string) {
    super('ERR_UNSUPPORTED_COMPRESSION', message);
    this.compression = compression;
  }
  protected override wireDetail(): WireError['detail'] {
    return { compression: this.compression };
  }
}

/** A Kafka protocol frame could not be decoded (truncated, bad length, unknown API or version). */
export class ProtocolError extends RinglogError {
  constructor(message: string) {
    super('ERR_PROTOCOL', message);
  }
}

/** An operation was called in a state that does not allow it (closed channel, stopped actor, ...). */
export class IllegalStateError extends RinglogError {
  constructor(message: string) {
    super('ERR_ILLEGAL_STATE', message);
  }
}

/** A channel was closed by its writer or torn down; nothing more will arrive. */
export class ChannelClosedError extends RinglogError {
  constructor(message: string) {
    super('ERR_CHANNEL_CLOSED', message);
  }
}

/** A connection to a broker failed or dropped: whether requests in flight were handled is unknown. */
export class NetworkError extends RinglogError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_NETWORK', message, { retriable: true, cause: options.cause });
  }
}

/** A message is larger than the channel can ever hold. */
export class FrameTooLargeError extends RinglogError {
  constructor(message: string) {
    super('ERR_FRAME_TOO_LARGE', message);
  }
}

/** A supervisor gave up: its children crashed more often than its restart intensity allows. */
export class EscalationError extends RinglogError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_ESCALATED', message, { cause: options.cause });
  }
}

/** A record is larger than a producer setting allows; `setting` names it (max.request.size, buffer.memory). */
export class RecordTooLargeError extends RinglogError {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super('ERR_RECORD_TOO_LARGE', message);
    this.setting = setting;
  }
  protected override wireDetail(): WireError['detail'] {
    return { setting: this.setting };
  }
}

/** A value could not be serialized or deserialized; the message names the field and the reason. */
export class SerializationError extends RinglogError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_SERIALIZATION', message, options);
  }
}

/** An error answered by a Kafka broker, carrying Kafka's numeric error code. */
export class KafkaApiError extends RinglogError {
  readonly errorCode: number;
  readonly errorName: string;
  constructor(errorCode: number, errorName: string, message: string, retriable: boolean) {
    super('ERR_KAFKA_API', `${errorName} (${errorCode}): ${message}`, { retriable });
    this.errorCode = errorCode;
    this.errorName = errorName;
  }
  protected override wireDetail(): WireError['detail'] {
    return { errorCode: this.errorCode, errorName: this.errorName, retriable: this.retriable };
  }
}

/**
 * A broker refused an operation on one resource, as the per-topic or per-group error code of an
 * admin response: `resource` names it ('topic', 'orders'; 'partition', 'orders-3'; 'group', 'billing').
 * When an admin call fails for several resources, it rejects with the first, and `failures` lists all.
 */
export class ResourceError extends KafkaApiError {
  readonly resourceType: 'topic' | 'partition' | 'group';
  readonly resource: string;
  #failures: readonly ResourceError[] = [this];
  constructor(resourceType: 'topic' | 'partition' | 'group', resource: string, cause: KafkaApiError) {
    super(cause.errorCode, cause.errorName, '', cause.retriable);
    this.message = `${resourceType} '${resource}': ${cause.message}`;
    this.resourceType = resourceType;
    this.resource = resource;
  }
  /** Every resource the call failed for, this one first (a getter: no cycle for loggers to follow). */
  get failures(): readonly ResourceError[] {
    return this.#failures;
  }
  /** Records the other resources that failed in the same call. */
  withOthers(others: readonly ResourceError[]): this {
    this.#failures = [this, ...others];
    return this;
  }
  protected override wireDetail(): WireError['detail'] {
    return { ...super.wireDetail(), resourceType: this.resourceType, resource: this.resource };
  }
}

/** A caller's argument is wrong (an empty list, a negative count, a missing name); `argument` names it. */
export class InvalidArgumentError extends RinglogError {
  readonly argument: string;
  constructor(argument: string, message: string) {
    super('ERR_INVALID_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
  protected override wireDetail(): WireError['detail'] {
    return { argument: this.argument };
  }
}

/** An actor's mailbox (its worker's inbox and backlog) is full; the message was not taken. */
export class MailboxFullError extends RinglogError {
  constructor(message: string) {
    super('ERR_MAILBOX_FULL', message, { retriable: true });
  }
}

/** An unexpected failure inside an actor's handler, carried back to the asker. */
export class ActorError extends RinglogError {
  constructor(message: string) {
    super('ERR_ACTOR', message);
  }
}

/** subscribe() or a group operation without a usable group.id (null, empty or blank). */
export class InvalidGroupIdError extends RinglogError {
  constructor(message: string) {
    super('ERR_INVALID_GROUP_ID', message);
  }
}

/**
 * A consumer cannot tell where to read: no committed offset and auto.offset.reset=none
 * (ERR_NO_OFFSET_FOR_PARTITION), or the position is outside the log and auto.offset.reset=none
 * (ERR_OFFSET_OUT_OF_RANGE). `partitions` names them as topic-partition.
 */
export class PartitionOffsetError extends RinglogError {
  readonly partitions: readonly string[];
  constructor(code: 'ERR_NO_OFFSET_FOR_PARTITION' | 'ERR_OFFSET_OUT_OF_RANGE', partitions: readonly string[], message: string) {
    super(code, message);
    this.partitions = partitions;
  }
  protected override wireDetail(): WireError['detail'] {
    return { partitions: this.partitions.join(',') };
  }
}

/**
 * An offset commit the group refused for good: the member is no longer in the group, or its
 * generation is gone (the group rebalanced), as Kafka's CommitFailedException.
 */
export class CommitFailedError extends RinglogError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_COMMIT_FAILED', message, options);
  }
}

const str = (d: WireError['detail'], k: string, fallback: string): string =>
  d && typeof d[k] === 'string' ? (d[k] as string) : fallback;
const num = (d: WireError['detail'], k: string, fallback: number): number =>
  d && typeof d[k] === 'number' ? (d[k] as number) : fallback;

/** Rebuilds an error that crossed a thread boundary as the class its code names. */
export function errorFromWire(wire: WireError): RinglogError {
  const { code, message, detail } = wire;
  switch (code) {
    case 'ERR_CONFIG': {
      const key = str(detail, 'key', '');
      const prefix = `${key}: `;
      return new ConfigError(key, message.startsWith(prefix) ? message.slice(prefix.length) : message);
    }
    case 'ERR_WORKER_EXITED':
      return new WorkerExitedError(message);
    case 'ERR_CORRUPT_RECORD':
      return new CorruptRecordError(message);
    case 'ERR_PROTOCOL':
      return new ProtocolError(message);
    case 'ERR_UNSUPPORTED_COMPRESSION':
      return new UnsupportedCompressionError(num(detail, 'compression', -1), message);
    case 'ERR_ILLEGAL_STATE':
      return new IllegalStateError(message);
    case 'ERR_CHANNEL_CLOSED':
      return new ChannelClosedError(message);
    case 'ERR_NETWORK':
      return new NetworkError(message);
    case 'ERR_FRAME_TOO_LARGE':
      return new FrameTooLargeError(message);
    case 'ERR_ESCALATED':
      return new EscalationError(message);
    case 'ERR_KAFKA_API': {
      const err = new KafkaApiError(num(detail, 'errorCode', -1), str(detail, 'errorName', 'UNKNOWN_SERVER_ERROR'), '', detail?.retriable === true);
      const resourceType = str(detail, 'resourceType', '');
      const rebuilt = resourceType === 'topic' || resourceType === 'partition' || resourceType === 'group' ? new ResourceError(resourceType, str(detail, 'resource', ''), err) : err;
      rebuilt.message = message;
      return rebuilt;
    }
    case 'ERR_INVALID_ARGUMENT': {
      const argument = str(detail, 'argument', '');
      const prefix = `${argument}: `;
      return new InvalidArgumentError(argument, message.startsWith(prefix) ? message.slice(prefix.length) : message);
    }
    case 'ERR_ACTOR':
      return new ActorError(message);
    case 'ERR_RECORD_TOO_LARGE':
      return new RecordTooLargeError(str(detail, 'setting', ''), message);
    case 'ERR_SERIALIZATION':
      return new SerializationError(message);
    case 'ERR_MAILBOX_FULL':
      return new MailboxFullError(message);
    case 'ERR_INVALID_GROUP_ID':
      return new InvalidGroupIdError(message);
    case 'ERR_NO_OFFSET_FOR_PARTITION':
    case 'ERR_OFFSET_OUT_OF_RANGE': {
      const partitions = str(detail, 'partitions', '');
      return new PartitionOffsetError(code, partitions === '' ? [] : partitions.split(','), message);
    }
    case 'ERR_COMMIT_FAILED':
      return new CommitFailedError(message);
    default:
      if (code.endsWith('_TIMEOUT')) {
        const err = new TimeoutError(code, '', num(detail, 'timeoutMs', 0));
        err.message = message;
        return err;
      }
      return new RinglogError(code, message);
  }
}

/** The wire form of any thrown value: ringlog errors keep their code, others become ERR_ACTOR. */
export function errorToWire(err: unknown): WireError {
  if (err instanceof RinglogError) return err.toWire();
  if (err instanceof Error) return { code: 'ERR_ACTOR', message: `${err.name}: ${err.message}` };
  return { code: 'ERR_ACTOR', message: String(err) };
}
