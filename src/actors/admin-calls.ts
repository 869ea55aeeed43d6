/**
 * How the Admin runs one call, as Kafka's KafkaAdminClient does: the call has a deadline (its
 * timeoutMs, or default.api.timeout.ms), each request within it at most request.timeout.ms; a
 * transient failure (a dropped connection, a request timeout, a retriable error code such as
 * NOT_COORDINATOR) is retried with Kafka's backoff until the deadline, and then the call fails with
 * TimeoutError ERR_ADMIN_TIMEOUT naming the call and its last error. A call over many resources
 * (topics, partitions, groups) keeps what each one settled to and retries only the rest. Main thread.
 */
import { exponentialBackoffMs, withJitter } from '../shared/backoff.js';
import { withTimeout } from '../shared/deadline.js';
import { ChannelClosedError, IllegalStateError, KafkaApiError, NetworkError, ResourceError, TimeoutError } from '../shared/errors.js';
import { ErrorCodes, kafkaError, supportedApi } from '../shared/protocol/index.js';
import type { BrokerClients } from './broker-clients.js';
import type { KafkaClient } from './kafka-client.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

type ResourceType = ResourceError['resourceType'];

/** The deadline passed while an attempt was under way (reported as the call's ERR_ADMIN_TIMEOUT). */
const ATTEMPT_TIMEOUT = 'ERR_ADMIN_ATTEMPT_TIMEOUT';

export interface CallSettings {
  requestTimeoutMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
}

/** One attempt's view of its call: requests bounded by what is left of the deadline. */
export class Attempt {
  readonly #clients: BrokerClients;
  readonly #deadlineMs: number;
  readonly #requestTimeoutMs: number;
  readonly #closed: () => boolean;

  constructor(clients: BrokerClients, deadlineMs: number, requestTimeoutMs: number, closed: () => boolean) {
    this.#clients = clients;
    this.#deadlineMs = deadlineMs;
    this.#requestTimeoutMs = requestTimeoutMs;
    this.#closed = closed;
  }

  /** What is left of the call's time, in ms (for requests that carry a timeout of their own). */
  get remainingMs(): number {
    return Math.max(0, this.#deadlineMs - Date.now());
  }

  /**
   * Sends a request to broker `nodeId` (null: any broker) at the version negotiated with it, the
   * body built for that version. A connection that failed or timed out is dropped, so the retry
   * reconnects.
   */
  async send(nodeId: number | null, apiKey: number, body: (version: number) => Body): Promise<{ nodeId: number; version: number; response: Body }> {
    if (this.#closed()) throw new ChannelClosedError('the admin client was closed');
    const target = nodeId === null ? await this.#clients.any() : { nodeId, client: await this.#clients.get(nodeId) };
    if (this.#closed()) {
      // Connected while close() ran: nothing may stay open after it.
      this.#clients.closeAll();
      throw new ChannelClosedError('the admin client was closed');
    }
    const version = versionOf(target.client, apiKey);
    try {
      const response = await target.client.request(apiKey, body(version), { timeoutMs: Math.max(1, Math.min(this.#requestTimeoutMs, this.remainingMs)) });
      return { nodeId: target.nodeId, version, response };
    } catch (error) {
      if (isTransient(error)) this.#clients.drop(target.nodeId);
      throw error;
    }
  }
}

function versionOf(client: KafkaClient, apiKey: number): number {
  const version = client.version(apiKey);
  if (version === undefined) throw new IllegalStateError(`the broker does not serve ${supportedApi(apiKey)?.name ?? `API key ${apiKey}`}, which this admin call needs`);
  return version;
}

/** Worth another attempt: the connection failed, a request timed out, or Kafka says retriable. */
function isTransient(error: unknown): boolean {
  if (error instanceof ResourceError) return false; // settled for good
  if (error instanceof NetworkError || error instanceof ChannelClosedError) return true;
  if (error instanceof TimeoutError) return error.code === 'ERR_REQUEST_TIMEOUT' || error.code === 'ERR_CONNECT_TIMEOUT';
  return error instanceof KafkaApiError && error.retriable;
}

export class AdminCalls {
  readonly #clients: BrokerClients;
  readonly #settings: CallSettings;
  readonly #sleeping = new Set<() => void>();
  #closed = false;

  constructor(clients: BrokerClients, settings: CallSettings) {
    this.#clients = clients;
    this.#settings = settings;
  }

  /** Runs `attempt` until it returns, fails for good, or `timeoutMs` runs out. */
  async run<T>(name: string, timeoutMs: number, attempt: (a: Attempt) => Promise<T>): Promise<T> {
    if (this.#closed) throw new IllegalStateError(`${name}: the admin client is closed`);
    const deadlineMs = Date.now() + timeoutMs;
    const timedOut = (lastError: unknown): TimeoutError => new TimeoutError('ERR_ADMIN_TIMEOUT', lastError === undefined
      ? `${name} did not complete`
      : `${name} did not complete; last error: ${(lastError as Error).message}`, timeoutMs);
    let lastError: unknown;
    const closed = (): boolean => this.#closed;
    for (let retry = 1; ; retry++) {
      try {
        // Connecting is bounded too: whatever the attempt waits on ends at the deadline.
        return await withTimeout(attempt(new Attempt(this.#clients, deadlineMs, this.#settings.requestTimeoutMs, closed)), deadlineMs - Date.now(), ATTEMPT_TIMEOUT, name);
      } catch (error) {
        if (this.#closed) throw new ChannelClosedError(`${name}: the admin client was closed`);
        if (error instanceof TimeoutError && error.code === ATTEMPT_TIMEOUT) throw timedOut(lastError);
        if (!isTransient(error)) throw error;
        lastError = error;
      }
      const backoffMs = withJitter(exponentialBackoffMs(retry, this.#settings.retryBackoffMs, this.#settings.retryBackoffMaxMs));
      if (Date.now() + backoffMs >= deadlineMs) throw timedOut(lastError);
      await this.#sleep(backoffMs);
    }
  }

  close(): void {
    this.#closed = true;
    this.#clients.closeAll();
    for (const wake of [...this.#sleeping]) wake();
  }

  /** A backoff that close() cuts short, so that no timer outlives the client. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleeping.add(wake);
    });
  }
}

/**
 * What each resource of a call settled to: a value, a ResourceError, or still pending (its last
 * transient error kept). An attempt settles what it can; pending ones go round again.
 */
export class Outcomes<V> {
  readonly #keys: readonly string[];
  readonly #values = new Map<string, V>();
  readonly #errors = new Map<string, ResourceError>();
  readonly #retrying = new Map<string, Error>();

  constructor(keys: readonly string[]) {
    this.#keys = keys;
  }

  /** Starts an attempt: the keys not settled yet, in the caller's order. */
  startAttempt(): string[] {
    this.#retrying.clear();
    return this.#pending();
  }

  #pending(): string[] {
    return this.#keys.filter((k) => !this.#values.has(k) && !this.#errors.has(k));
  }

  succeed(key: string, value: V): void {
    this.#values.set(key, value);
  }

  fail(key: string, error: ResourceError): void {
    this.#errors.set(key, error);
  }

  /**
   * `key` was answered error `code`: retried when `retriable` has it (Kafka's retriable codes for
   * this call, which must be retriable in Kafka's table), else it fails as a `resourceType`.
   */
  settleError(key: string, resourceType: ResourceType, code: number, message: string | null | undefined, retriable: ReadonlySet<number>): void {
    const error = kafkaError(code, message);
    if (retriable.has(code) && error.retriable) this.#retrying.set(key, error);
    else this.fail(key, new ResourceError(resourceType, key, error));
  }

  /**
   * Ends an attempt. A key the broker's answer left out fails (UNKNOWN_SERVER_ERROR); a key with a
   * retriable error throws it, so that the call goes round again.
   */
  endAttempt(resourceType: ResourceType): void {
    for (const key of this.#pending()) {
      const retry = this.#retrying.get(key);
      if (retry !== undefined) throw retry;
      this.fail(key, new ResourceError(resourceType, key, kafkaError(ErrorCodes.UNKNOWN_SERVER_ERROR, 'the broker\'s answer did not mention it')));
    }
  }

  /** The values in the caller's order; or the first failure, naming the others. */
  results(): V[] {
    const failed = this.#keys.flatMap((k) => this.#errors.get(k) ?? []);
    if (failed.length > 0) throw failed[0]!.withOthers(failed.slice(1));
    return this.#keys.map((k) => this.#values.get(k)!);
  }
}
