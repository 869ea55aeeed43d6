/**
 * KafkaClient: Kafka requests over one connection, as Kafka's NetworkClient does for one node.
 * It negotiates versions with ApiVersions (falling back to v0 when the broker answers
 * UNSUPPORTED_VERSION, as KIP-511 describes), encodes each request at the highest version both
 * sides speak, numbers it, and decodes the response. The transport is the embedded connection
 * today; a TCP one fits the same shape. Lives on one event-loop thread.
 */
import { ProtocolError } from '../shared/errors.js';
import { ApiKeys, decodeResponse, encodeRequest, ErrorCodes, supportedApi, type Body } from '../shared/protocol/index.js';

/** What carries Kafka frames (size prefix included) to a broker and back. */
export interface KafkaTransport {
  request(frame: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /** A request that gets no response (Produce with acks=0). */
  send(frame: Uint8Array): void;
  close(): void;
}

export interface KafkaClientOptions {
  clientId?: string;
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const API_VERSIONS_VERSION = 3;

export class KafkaClient {
  readonly #transport: KafkaTransport;
  readonly #clientId: string;
  readonly #requestTimeoutMs: number;
  /** apiKey → the highest version both sides speak; filled by negotiate(). */
  readonly #versions = new Map<number, number>();
  #nextCorrelationId = 1;

  constructor(transport: KafkaTransport, options: KafkaClientOptions = {}) {
    this.#transport = transport;
    this.#clientId = options.clientId ?? 'ringlog';
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  /** Asks the broker what it speaks; afterwards request() picks versions by itself. */
  async negotiate(): Promise<void> {
    let answer = await this.#call(ApiKeys.API_VERSIONS, API_VERSIONS_VERSION, { clientSoftwareName: 'ringlog', clientSoftwareVersion: '0.1.0' }, this.#requestTimeoutMs);
    if (answer.errorCode === ErrorCodes.UNSUPPORTED_VERSION) answer = await this.#call(ApiKeys.API_VERSIONS, 0, {}, this.#requestTimeoutMs);
    if (answer.errorCode !== ErrorCodes.NONE) throw new ProtocolError(`ApiVersions answered error code ${String(answer.errorCode)}`);
    this.#versions.clear();
    for (const broker of answer.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[]) {
      const ours = supportedApi(broker.apiKey);
      if (ours === undefined) continue;
      const max = Math.min(ours.maxVersion, broker.maxVersion);
      if (max >= Math.max(ours.minVersion, broker.minVersion)) this.#versions.set(broker.apiKey, max);
    }
  }

  /** The version request() uses for `apiKey`, or undefined when the broker does not serve it. */
  version(apiKey: number): number | undefined {
    return this.#versions.get(apiKey);
  }

  /** Sends a request at the negotiated (or a given) version and resolves with the decoded response. */
  request(apiKey: number, body: Body, options: { version?: number; timeoutMs?: number } = {}): Promise<Body> {
    return this.#call(apiKey, this.#versionFor(apiKey, options.version), body, options.timeoutMs ?? this.#requestTimeoutMs);
  }

  /** Sends a request that the broker answers with nothing (Produce with acks=0). */
  send(apiKey: number, body: Body, options: { version?: number } = {}): void {
    this.#transport.send(encodeRequest({ apiKey, apiVersion: this.#versionFor(apiKey, options.version), correlationId: this.#correlationId(), clientId: this.#clientId }, body));
  }

  close(): void {
    this.#transport.close();
  }

  #versionFor(apiKey: number, version: number | undefined): number {
    const chosen = version ?? this.#versions.get(apiKey);
    if (chosen === undefined) {
      throw new ProtocolError(this.#versions.size === 0 ? 'call negotiate() before request()' : `the broker does not serve API key ${apiKey}`);
    }
    return chosen;
  }

  #correlationId(): number {
    const id = this.#nextCorrelationId;
    this.#nextCorrelationId = id >= 0x7fff_ffff ? 1 : id + 1;
    return id;
  }

  async #call(apiKey: number, apiVersion: number, body: Body, timeoutMs: number): Promise<Body> {
    const correlationId = this.#correlationId();
    const response = await this.#transport.request(encodeRequest({ apiKey, apiVersion, correlationId, clientId: this.#clientId }, body), timeoutMs);
    // An ApiVersions error answer comes at v0 whatever was asked (KIP-511): decodeResponse handles it.
    const decoded = decodeResponse(apiKey, apiVersion, response.subarray(4));
    if (decoded.correlationId !== correlationId) {
      throw new ProtocolError(`response correlation id ${decoded.correlationId} does not match request ${correlationId}`);
    }
    return decoded.body;
  }
}
