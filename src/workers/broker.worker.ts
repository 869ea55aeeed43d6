/**
 * Broker: a worker thread that is one Kafka broker. It starts its log writer worker, reopens the
 * partitions found on disk, answers Kafka requests from embedded connections and, when it has a
 * listener, from TCP clients. (The main thread's BrokerLink holds the data directory's lock, so
 * that a restart after a crash can reopen it.)
 *
 * Runs here: the request handler and group coordinator, the partitions' read side, the TCP
 *      listener and its connections (tcp-listener.ts, tcp-connection.ts).
 * Start-up data: BrokerWorkerData (actors/broker-protocol.ts).
 * In:  control port (comlink BrokerControl): connect (a client's connection handles), status,
 *      pause/resume (requests wait meanwhile, as behind a stalled disk), shutdown; then, per
 *      embedded connection, Kafka request frames on its requests channel; per TCP socket, Kafka
 *      request frames (int32 size prefix, request header v1/v2).
 * Out: per connection, Kafka response frames in request order (on its responses channel, or on
 *      its socket); log lines on the log port (the listener's bound and advertised address among
 *      them); status() reports that address too.
 * Sleeping: every connection's reader sleeps in Atomics.waitAsync, sockets in the event loop; the
 *      loop stays free for timers (fetch long polls, produce timeouts, the retention check, group
 *      sessions and rebalances, idle connections) and comlink.
 * Start-up: reopen the partitions on disk, the group coordinator replays __consumer_offsets, then
 *      the listener binds (so a client never reaches a broker that is not ready).
 * Shutdown: refuse new connections and requests, unload the groups (waiting JoinGroups and
 *      SyncGroups are answered, group timers cleared), stop reading sockets and send what they are
 *      owed, let in-flight requests finish, close the log writer (flush, checkpoints,
 *      clean-shutdown marker).
 */
import { workerData } from 'node:worker_threads';
import { GroupApis } from '../actors/group-apis.js';
import { GroupCoordinator } from '../actors/group-coordinator.js';
import { GroupMetadataManager } from '../actors/group-metadata-manager.js';
import { LogWriterClient } from '../actors/log-writer-client.js';
import { ReplicaManager } from '../actors/replica-manager.js';
import { BROKER_APIS, recycleFetchRecords, RequestHandler } from '../actors/request-handler.js';
import { serveConnection, type ConnectionHandles } from '../actors/embedded-connection.js';
import type { BrokerControl, BrokerEndpointInfo, BrokerStatus, BrokerWorkerData } from '../actors/broker-protocol.js';
import { TcpListener } from '../actors/tcp-listener.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { formatHostPort } from '../shared/listeners.js';
import { createWorkerLogger } from '../shared/logger.js';
import { ProtocolError } from '../shared/errors.js';
import { ChunkPool } from '../shared/chunk-pool.js';
import { ApiKeys, decodeRequestBody, decodeRequestHeader, encodeResponse, ErrorCodes, type FrameAllocator } from '../shared/protocol/index.js';

const data = workerData as BrokerWorkerData;
const logger = createWorkerLogger(data.log, data.logLevel, { actor: 'broker', brokerId: data.options.brokerId });
const logDir = data.options.logDirs[0]!;
const logWriter = new LogWriterClient({ logDir, logger });
const replicas = new ReplicaManager(logWriter, data.options, logger);
const groupLogger = logger.child({ actor: 'group-coordinator' });
const groupStore = new GroupMetadataManager(replicas, { offsetsTopicNumPartitions: data.options.offsetsTopicNumPartitions, commitTimeoutMs: data.options.offsetsCommitTimeoutMs }, groupLogger);
const coordinator = new GroupCoordinator(groupStore, {
  initialRebalanceDelayMs: data.options.groupInitialRebalanceDelayMs,
  minSessionTimeoutMs: data.options.groupMinSessionTimeoutMs,
  maxSessionTimeoutMs: data.options.groupMaxSessionTimeoutMs,
}, groupLogger);
/** What Metadata and FindCoordinator answer as this broker: the advertised listener once bound. */
let endpoint: BrokerEndpointInfo = data.endpoint;
const groups = new GroupApis(coordinator, groupStore, replicas, () => endpoint, groupLogger);
const handler = new RequestHandler(replicas, data.options, () => endpoint, BROKER_APIS, logger, groups);
let listener: TcpListener | null = null;
/** Unanswered requests per TCP connection, and queued response bytes, before it stops being read. */
const TCP_MAX_IN_FLIGHT = 256;
const TCP_MAX_QUEUED_BYTES = 16 << 20;
/** How long shutdown lets TCP clients receive the answers they are owed. */
const TCP_SHUTDOWN_DRAIN_MS = 5_000;
/** Recycled response frame memory kept at most: a few maximal fetch answers. */
const RESPONSE_FRAME_POOL_BYTES = 16 << 20;
const connections = new Set<Promise<void>>();
let stopping = false;
let requestsInFlight = 0;
/** Set while paused: requests wait for it before they are handled. */
let paused: { resumed: Promise<void>; resume: () => void } | null = null;

/** Memory of large response frames on embedded connections, back once they are in the ring. */
const responseFrames = new ChunkPool(RESPONSE_FRAME_POOL_BYTES);
const pooledFrame = (bytes: number): Buffer => responseFrames.lend(bytes);
const frameWritten = (frame: Uint8Array): void => responseFrames.giveBack(frame);

/**
 * One request frame (size prefix included) to its response frame, or null when none is owed.
 * `allocate` gives the response frame's memory.
 */
async function onRequest(frame: Uint8Array, clientHost?: string, allocate?: FrameAllocator): Promise<Uint8Array | null> {
  if (paused !== null) await paused.resumed;
  const bytes = frame.subarray(4);
  const header = decodeRequestHeader(bytes);
  const served = BROKER_APIS.find((api) => api.apiKey === header.apiKey);
  if (served === undefined || header.apiVersion < served.minVersion || header.apiVersion > served.maxVersion) {
    // Kafka's rule: an ApiVersions version it does not know is answered at v0 with the ranges it does.
    if (header.apiKey === ApiKeys.API_VERSIONS) {
      return encodeResponse(ApiKeys.API_VERSIONS, 0, header.correlationId, { errorCode: ErrorCodes.UNSUPPORTED_VERSION, apiKeys: BROKER_APIS, throttleTimeMs: 0 });
    }
    throw new ProtocolError(`API key ${header.apiKey} version ${header.apiVersion} is not supported`);
  }
  requestsInFlight++;
  try {
    const body = decodeRequestBody(header, bytes);
    const response = await handler.handle(header, body, clientHost);
    if (response === null) return null;
    const encoded = encodeResponse(header.apiKey, header.apiVersion, header.correlationId, response, allocate);
    if (header.apiKey === ApiKeys.FETCH) recycleFetchRecords(response);
    return encoded;
  } finally {
    requestsInFlight--;
  }
}

const control: BrokerControl = {
  async connect(handles: ConnectionHandles) {
    if (stopping) throw new Error('broker is shutting down');
    const served = serveConnection(handles, (request) => onRequest(request, undefined, pooledFrame), (error) => logger.error({ err: error }, 'request failed'), frameWritten);
    connections.add(served);
    void served.finally(() => connections.delete(served));
  },
  async status(): Promise<BrokerStatus> {
    return {
      brokerId: data.options.brokerId, topics: [...replicas.topics().keys()],
      connections: connections.size + (listener?.connectionCount ?? 0), requestsInFlight,
      listener: listener === null ? null : { bound: listener.address, advertised: { host: endpoint.host, port: endpoint.port }, readPaused: listener.readPausedCount, bufferedBytes: listener.bufferedBytes },
    };
  },
  async pause() {
    if (paused !== null) return;
    let resume = (): void => undefined;
    const resumed = new Promise<void>((resolve) => { resume = resolve; });
    paused = { resumed, resume };
    logger.warn('paused: requests wait until resume');
  },
  async resume() {
    paused?.resume();
    paused = null;
  },
  async shutdown() {
    stopping = true;
    paused?.resume();
    paused = null;
    // Answers JoinGroup and SyncGroup long polls (NOT_COORDINATOR) and clears the group timers.
    coordinator.shutdown();
    await listener?.close(TCP_SHUTDOWN_DRAIN_MS);
    clearInterval(retention);
    await logWriter.close();
    logger.info('broker stopped');
  },
};

// Retention on Kafka's schedule: whole old segments go every log.retention.check.interval.ms.
const retention = setInterval(() => {
  replicas.applyRetention().then(
    (deletedSegments) => {
      if (deletedSegments > 0) logger.info({ deletedSegments }, 'retention deleted old segments');
    },
    (error: unknown) => logger.error({ err: error }, 'retention check failed'),
  );
}, data.options.logRetentionCheckIntervalMs);
retention.unref();

await replicas.loadExisting();
await coordinator.startup(); // replays __consumer_offsets
if (data.listener !== null) {
  listener = await TcpListener.start(data.listener.bind, onRequest, {
    maxFrameBytes: data.options.socketRequestMaxBytes,
    idleMs: data.options.connectionsMaxIdleMs,
    maxInFlight: TCP_MAX_IN_FLIGHT,
    maxQueuedBytes: TCP_MAX_QUEUED_BYTES,
  }, logger.child({ actor: 'tcp-listener' }));
  const advertised = data.listener.advertised;
  endpoint = { nodeId: data.options.brokerId, host: advertised.host, port: advertised.port === 0 ? listener.address.port : advertised.port };
  logger.info({ listening: formatHostPort(listener.address), advertised: formatHostPort(endpoint) }, 'listening for Kafka clients');
}
logger.info({ logDir, topics: replicas.topics().size }, 'broker ready');
Comlink.expose(control, nodeEndpoint(data.control));
