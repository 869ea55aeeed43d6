/**
 * RequestHandler: answers Kafka API requests, decoded, as Kafka's KafkaApis does for one broker:
 * ApiVersions, Metadata, CreateTopics, DeleteTopics, Produce, Fetch, ListOffsets and InitProducerId. Bodies are the protocol
 * codec's objects (field names of the JSON schemas in camelCase, int64 as bigint); the transport
 * (ring channel or TCP) decodes before and encodes after. Lives in the broker worker.
 * The consumer-group APIs go to GroupApis (group-apis.ts).
 */
import type { BrokerOptions } from '../shared/broker-config.js';
import type { KafkaApiError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { OFFSETS_TOPIC } from '../shared/offsets-topic-format.js';
import { MAGIC_OFFSET, MAGIC_V2 } from '../shared/record-batch/layout.js';
import { ApiKeys, ErrorCodes, SUPPORTED_APIS, type SupportedApi } from '../shared/protocol/index.js';
import { ProducerIdManager } from './producer-id-manager.js';
import { recycleRead } from './log-writer-client.js';
import { invalidTopicName, ReplicaManager } from './replica-manager.js';
import { GROUP_APIS_SERVED, GroupApis } from './group-apis.js';

/** A decoded body, indexed freely: the generic codec's shapes follow the schemas, not TS types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = Record<string, any>;

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
}

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/**
 * What this broker serves, and from which versions: Fetch from the RecordBatch v2 versions.
 * Produce from v0, as Kafka 3.x advertised it, because librdkafka (Debian's 2.0.2) compresses
 * with gzip, snappy or lz4 only when the broker lists Produce v0; a v0-2 request, whose message
 * sets predate RecordBatch v2, is answered UNSUPPORTED_FOR_MESSAGE_FORMAT.
 */
const SERVED: Readonly<Record<number, number>> = {
  ...GROUP_APIS_SERVED,
  [ApiKeys.PRODUCE]: 0,
  [ApiKeys.FETCH]: 4,
  [ApiKeys.LIST_OFFSETS]: 0,
  [ApiKeys.METADATA]: 0,
  [ApiKeys.API_VERSIONS]: 0,
  [ApiKeys.CREATE_TOPICS]: 0,
  [ApiKeys.DELETE_TOPICS]: 0,
  [ApiKeys.INIT_PRODUCER_ID]: 0,
};

/** The ApiVersions list: the codec's ranges for the APIs served, narrowed to what is handled. */
export const BROKER_APIS: readonly SupportedApi[] = SUPPORTED_APIS
  .filter((api) => SERVED[api.apiKey] !== undefined)
  .map((api) => ({ ...api, minVersion: Math.max(api.minVersion, SERVED[api.apiKey]!) }));

const CLUSTER_ID = 'ringlog-cluster-00000A';
/** Produce v3 is the first that must carry RecordBatch v2 (magic 2). */
const FIRST_RECORD_BATCH_PRODUCE_VERSION = 3;

/** True when `records` starts with a RecordBatch v2 (magic byte 2), as Produce v3+ requires. */
function isRecordBatchV2(records: Uint8Array | null): boolean {
  return records !== null && records.length > MAGIC_OFFSET && records[MAGIC_OFFSET] === MAGIC_V2;
}
const NO_AUTHORIZED_OPERATIONS = -2147483648;
/** Brokers a replica can be placed on: this one. */
const BROKER_COUNT = 1;

/**
 * Why CreateTopics cannot make `name` (Kafka's checks, before anything is created, so validateOnly
 * answers as a real create would), or null. A replication factor of -1 is the default, 1 here.
 */
function refuseTopic(name: string, partitions: number, replicationFactor: number, replicas: ReplicaManager): { errorCode: number; errorMessage: string } | null {
  const invalid = invalidTopicName(name);
  if (invalid !== null) return { errorCode: ErrorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: invalid };
  if (replicas.partitionCount(name) !== undefined) return { errorCode: ErrorCodes.TOPIC_ALREADY_EXISTS, errorMessage: `topic '${name}' already exists` };
  if (!Number.isInteger(partitions) || partitions < 1) return { errorCode: ErrorCodes.INVALID_PARTITIONS, errorMessage: `a topic needs at least one partition, got ${partitions}` };
  if (replicationFactor === 0 || replicationFactor < -1) {
    return { errorCode: ErrorCodes.INVALID_REPLICATION_FACTOR, errorMessage: 'Replication factor must be larger than 0, or -1 to use the default value.' };
  }
  if (replicationFactor > BROKER_COUNT) {
    return {
      errorCode: ErrorCodes.INVALID_REPLICATION_FACTOR,
      errorMessage: `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${BROKER_COUNT} broker(s) are registered.`,
    };
  }
  return null;
}
/** Kafka's Uuid.ZERO_UUID as printed: the "no topic id" value. */
const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Once a Fetch response is encoded, the record sets it carried (read for it alone, and copied
 * into the frame) go back to the log writer client for later reads.
 */
export function recycleFetchRecords(response: Body): void {
  for (const topic of response.responses as Body[]) {
    for (const partition of topic.partitions as Body[]) if (partition.records != null) recycleRead(partition.records as Uint8Array);
  }
}

export class RequestHandler {
  readonly #groups: GroupApis | null;
  readonly #replicas: ReplicaManager;
  readonly #options: BrokerOptions;
  readonly #endpoint: () => BrokerEndpoint;
  readonly #supported: readonly SupportedApi[];
  readonly #logger: Logger;
  readonly #producerIds: ProducerIdManager;

  /** `groups` serves the group APIs (FindCoordinator ... ListGroups); without it they are refused. */
  constructor(replicas: ReplicaManager, options: BrokerOptions, endpoint: () => BrokerEndpoint, supported: readonly SupportedApi[], logger: Logger, groups: GroupApis | null = null) {
    this.#groups = groups;
    this.#replicas = replicas;
    this.#options = options;
    this.#endpoint = endpoint;
    this.#supported = supported;
    this.#logger = logger;
    this.#producerIds = new ProducerIdManager(options.logDirs[0]!);
  }

  /**
   * The response body, or null when the request gets none (Produce with acks=0). `clientHost` is
   * the client's address as group descriptions report it (a TCP peer's; the embedded default).
   */
  async handle(header: RequestHeader, body: Body, clientHost?: string): Promise<Body | null> {
    switch (header.apiKey) {
      case ApiKeys.API_VERSIONS:
        return { errorCode: ErrorCodes.NONE, apiKeys: this.#supported.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })), throttleTimeMs: 0 };
      case ApiKeys.METADATA:
        return this.#metadata(header.apiVersion, body);
      case ApiKeys.CREATE_TOPICS:
        return this.#createTopics(body);
      case ApiKeys.DELETE_TOPICS:
        return this.#deleteTopics(header.apiVersion, body);
      case ApiKeys.PRODUCE:
        return this.#produce(body, header.apiVersion);
      case ApiKeys.FETCH:
        return this.#fetch(header.apiVersion, body);
      case ApiKeys.LIST_OFFSETS:
        return this.#listOffsets(body);
      case ApiKeys.INIT_PRODUCER_ID:
        return this.#producerIds.initProducerId(header.apiVersion, body);
      default:
        if (this.#groups !== null && GroupApis.serves(header.apiKey)) return this.#groups.handle(header, body, clientHost);
        throw new RangeError(`request handler: API key ${header.apiKey} is not served`);
    }
  }

  async #metadata(version: number, body: Body): Promise<Body> {
    const self = this.#endpoint();
    // v0: an empty list meant all topics; from v1 null means all and an empty list none.
    const requested: Body[] | null = body.topics === null || (version === 0 && body.topics.length === 0) ? null : body.topics;
    const autoCreate = this.#options.autoCreateTopicsEnable && (body.allowAutoTopicCreation ?? true);
    const names: (string | null)[] = requested === null ? [...this.#replicas.topics().keys()] : requested.map((t) => t.name ?? this.#replicas.topicName(t.topicId) ?? null);
    const topics: Body[] = [];
    for (const [i, name] of names.entries()) {
      if (name === null) {
        topics.push({ errorCode: ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, name: null, topicId: requested?.[i]?.topicId ?? ZERO_TOPIC_ID, isInternal: false, partitions: [], topicAuthorizedOperations: NO_AUTHORIZED_OPERATIONS });
        continue;
      }
      let errorCode: number = ErrorCodes.NONE;
      if (this.#replicas.partitionCount(name) === undefined) {
        errorCode = autoCreate ? (await this.#replicas.createTopic(name, this.#options.numPartitions)).errorCode : ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION;
      }
      await this.#replicas.topicReady(name); // being created by another request: answer it whole
      const count = this.#replicas.partitionCount(name) ?? 0;
      topics.push({
        errorCode,
        name,
        topicId: this.#replicas.topicId(name) ?? ZERO_TOPIC_ID,
        isInternal: name === OFFSETS_TOPIC,
        partitions: Array.from({ length: errorCode === ErrorCodes.NONE ? count : 0 }, (_, partitionIndex) => ({
          errorCode: ErrorCodes.NONE,
          partitionIndex,
          leaderId: self.nodeId,
          leaderEpoch: 0,
          replicaNodes: [self.nodeId],
          isrNodes: [self.nodeId],
          offlineReplicas: [],
        })),
        topicAuthorizedOperations: NO_AUTHORIZED_OPERATIONS,
      });
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: self.nodeId, host: self.host, port: self.port, rack: null }],
      clusterId: CLUSTER_ID,
      controllerId: self.nodeId,
      topics,
      clusterAuthorizedOperations: NO_AUTHORIZED_OPERATIONS,
    };
  }

  async #createTopics(body: Body): Promise<Body> {
    const topics: Body[] = [];
    for (const topic of body.topics as Body[]) {
      const partitions = topic.numPartitions === -1 ? this.#options.numPartitions : topic.numPartitions;
      const result = refuseTopic(topic.name, partitions, topic.replicationFactor, this.#replicas)
        ?? (body.validateOnly ? { errorCode: ErrorCodes.NONE } : await this.#replicas.createTopic(topic.name, partitions));
      const created = result.errorCode === ErrorCodes.NONE;
      topics.push({
        name: topic.name,
        topicId: this.#replicas.topicId(topic.name) ?? ZERO_TOPIC_ID,
        errorCode: result.errorCode,
        errorMessage: 'errorMessage' in result ? (result.errorMessage ?? null) : null,
        numPartitions: created ? partitions : -1,
        replicationFactor: created ? 1 : -1,
        configs: created ? [] : null,
      });
    }
    return { throttleTimeMs: 0, topics };
  }

  async #deleteTopics(version: number, body: Body): Promise<Body> {
    // v0-5 name topics; v6 names or ids them.
    const wanted: { name: string | null; topicId: string }[] = version >= 6
      ? (body.topics as Body[]).map((t) => ({ name: t.name ?? this.#replicas.topicName(t.topicId) ?? null, topicId: t.topicId }))
      : (body.topicNames as string[]).map((name) => ({ name, topicId: ZERO_TOPIC_ID }));
    const responses: Body[] = [];
    for (const { name, topicId } of wanted) {
      const id = name === null ? topicId : (this.#replicas.topicId(name) ?? topicId);
      const result = name === null
        ? { errorCode: ErrorCodes.UNKNOWN_TOPIC_ID, errorMessage: `no topic with id ${topicId}` }
        : await this.#replicas.deleteTopic(name);
      responses.push({ name, topicId: id, errorCode: result.errorCode, errorMessage: result.errorMessage ?? null });
    }
    return { throttleTimeMs: 0, responses };
  }

  async #produce(body: Body, version: number): Promise<Body | null> {
    const acks = Number(body.acks);
    const timeoutMs = Number(body.timeoutMs);
    const waiting: { response: Body; acknowledged: Promise<KafkaApiError | undefined> }[] = [];
    const responses: Body[] = [];
    for (const topic of body.topicData as Body[]) {
      const partitionResponses: Body[] = [];
      for (const data of topic.partitionData as Body[]) {
        const response: Body = {
          index: data.index, errorCode: ErrorCodes.NONE, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n,
          recordErrors: [], errorMessage: null,
        };
        partitionResponses.push(response);
        if (acks !== 0 && acks !== 1 && acks !== -1) {
          Object.assign(response, { errorCode: ErrorCodes.INVALID_REQUIRED_ACKS, errorMessage: `acks must be -1, 0 or 1, not ${acks}` });
          continue;
        }
        if (version < FIRST_RECORD_BATCH_PRODUCE_VERSION && !isRecordBatchV2(data.records)) {
          Object.assign(response, { errorCode: ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT, errorMessage: 'message format v0 and v1 are not supported: send RecordBatch v2 (Produce v3+)' });
          continue;
        }
        // Only the group coordinator writes to an internal topic (Kafka's internalTopicsAllowed).
        if (topic.name === OFFSETS_TOPIC) {
          Object.assign(response, { errorCode: ErrorCodes.INVALID_TOPIC_EXCEPTION, errorMessage: `cannot append to internal topic ${OFFSETS_TOPIC}` });
          continue;
        }
        const result = this.#replicas.append(topic.name, data.index, data.records);
        if (result.errorCode !== ErrorCodes.NONE) {
          Object.assign(response, { errorCode: result.errorCode, errorMessage: result.errorMessage ?? null });
          this.#logger.debug({ topic: topic.name, partition: data.index, errorCode: result.errorCode, why: result.errorMessage }, 'produce refused');
          continue;
        }
        Object.assign(response, { baseOffset: BigInt(result.baseOffset), logStartOffset: BigInt(result.logStartOffset), logAppendTimeMs: BigInt(result.logAppendTimeMs) });
        waiting.push({ response, acknowledged: result.acknowledged });
      }
      responses.push({ name: topic.name, partitionResponses });
    }
    if (acks === 0) return null;
    // What is not acknowledged within the request's own timeout is answered REQUEST_TIMED_OUT.
    const timedOut = Symbol('timed out');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof timedOut>((resolve) => { timer = setTimeout(() => resolve(timedOut), Math.max(0, timeoutMs)); });
    for (const { response, acknowledged } of waiting) {
      const outcome = await Promise.race([acknowledged, deadline]);
      if (outcome === timedOut) {
        Object.assign(response, { errorCode: ErrorCodes.REQUEST_TIMED_OUT, errorMessage: `not written within the request's ${timeoutMs} ms` });
      } else if (outcome !== undefined) {
        Object.assign(response, { errorCode: outcome.errorCode, errorMessage: outcome.message, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n });
      }
    }
    clearTimeout(timer);
    return { responses, throttleTimeMs: 0 };
  }

  async #fetch(version: number, body: Body): Promise<Body> {
    const deadlineMs = performance.now() + Math.max(0, Number(body.maxWaitMs));
    const minBytes = Math.max(0, Number(body.minBytes));
    const wanted = (body.topics as Body[]).map((t) => ({
      name: (version >= 13 ? this.#replicas.topicName(t.topicId) : t.topic) as string | undefined,
      topic: t,
    }));
    for (;;) {
      const { responses, bytes, errors } = await this.#readFetch(version, body, wanted);
      const remainingMs = deadlineMs - performance.now();
      if (bytes >= minBytes || errors || remainingMs <= 0) {
        return { throttleTimeMs: 0, errorCode: ErrorCodes.NONE, sessionId: 0, responses };
      }
      // Long poll: wait for any of these partitions to grow, or the deadline.
      const partitions = wanted.flatMap((w) => (w.name === undefined ? [] : (w.topic.partitions as Body[]).map((p) => ({ topic: w.name!, partition: p.partition as number, offset: Number(p.fetchOffset) }))));
      const wait = this.#replicas.waitForData(partitions, remainingMs);
      // Data that came while the read above was being awaited woke nobody: look again now that we listen.
      if (partitions.some((p) => this.#replicas.availableFrom(p.topic, p.partition, p.offset))) wait.cancel();
      await wait.done;
    }
  }

  async #readFetch(version: number, body: Body, wanted: { name: string | undefined; topic: Body }[]): Promise<{ responses: Body[]; bytes: number; errors: boolean }> {
    let budget = Number(body.maxBytes ?? 0x7fffffff);
    let bytes = 0;
    let errors = false;
    const responses: Body[] = [];
    for (const { name, topic } of wanted) {
      const partitions: Body[] = [];
      for (const p of topic.partitions as Body[]) {
        const result = name === undefined
          ? { errorCode: ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, logStartOffset: -1, records: null }
          : budget > 0
            ? await this.#replicas.fetch(name, p.partition, Number(p.fetchOffset), Math.min(Number(p.partitionMaxBytes), budget))
            : { ...(await this.#replicas.fetch(name, p.partition, Number(p.fetchOffset), 0)), records: new Uint8Array(0) };
        const size = result.records?.length ?? 0;
        bytes += size;
        budget -= size;
        if (result.errorCode !== ErrorCodes.NONE) errors = true;
        partitions.push({
          partitionIndex: p.partition,
          errorCode: result.errorCode,
          highWatermark: BigInt(result.highWatermark),
          lastStableOffset: BigInt(result.highWatermark),
          logStartOffset: BigInt(result.logStartOffset),
          abortedTransactions: version >= 4 ? [] : null,
          preferredReadReplica: -1,
          records: result.records,
        });
      }
      responses.push({ topic: name ?? '', topicId: topic.topicId ?? ZERO_TOPIC_ID, partitions });
    }
    return { responses, bytes, errors };
  }

  async #listOffsets(body: Body): Promise<Body> {
    const topics: Body[] = [];
    for (const topic of body.topics as Body[]) {
      const partitions: Body[] = [];
      for (const p of topic.partitions as Body[]) {
        const found = await this.#replicas.listOffset(topic.name, p.partitionIndex, Number(p.timestamp));
        partitions.push({
          partitionIndex: p.partitionIndex,
          errorCode: found.errorCode,
          oldStyleOffsets: found.offset >= 0 ? [BigInt(found.offset)] : [],
          timestamp: BigInt(found.timestamp),
          offset: BigInt(found.offset),
          leaderEpoch: 0,
        });
      }
      topics.push({ name: topic.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  }
}
