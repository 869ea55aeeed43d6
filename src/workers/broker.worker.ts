/**
 * Broker: a worker thread that is one Kafka broker. It starts its log writer worker, reopens the
 * partitions found on disk, and answers Kafka requests. (The main thread's BrokerLink holds the
 * data directory's lock, so that a restart after a crash can reopen it.)
 *
 * Start-up data: BrokerWorkerData (actors/broker-protocol.ts).
 * In:  control port (comlink BrokerControl): connect (a client's connection handles), status,
 *      pause/resume (requests wait meanwhile, as behind a stalled disk), shutdown; then, per connection, Kafka request frames on its requests channel.
 * Out: per connection, Kafka response frames on its responses channel, in request order; log lines
 *      on the log port.
 * Sleeping: every connection's reader sleeps in Atomics.waitAsync; the event loop stays free for
 *      timers (fetch long polls, produce timeouts, the retention check, group sessions and
 *      rebalances) and comlink.
 * Start-up: reopen the partitions on disk, then the group coordinator replays __consumer_offsets.
 * Shutdown: refuse new connections and requests, unload the groups (waiting JoinGroups and
 *      SyncGroups are answered, group timers cleared), let in-flight requests finish, close the log
 *      writer (flush, checkpoints, clean-shutdown marker).
 */
import { workerData } from 'node:worker_threads';
import { GroupApis } from '../actors/group-apis.js';
import { GroupCoordinator } from '../actors/group-coordinator.js';
import { GroupMetadataManager } from '../actors/group-metadata-manager.js';
import { LogWriterClient } from '../actors/log-writer-client.js';
import { ReplicaManager } from '../actors/replica-manager.js';
import { BROKER_APIS, RequestHandler } from '../actors/request-handler.js';
import { serveConnection, type ConnectionHandles } from '../actors/embedded-connection.js';
import type { BrokerControl, BrokerStatus, BrokerWorkerData } from '../actors/broker-protocol.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { createWorkerLogger } from '../shared/logger.js';
import { ProtocolError } from '../shared/errors.js';
import { ApiKeys, decodeRequestBody, decodeRequestHeader, encodeResponse, ErrorCodes } from '../shared/protocol/index.js';

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
const groups = new GroupApis(coordinator, groupStore, replicas, () => data.endpoint, groupLogger);
const handler = new RequestHandler(replicas, data.options, () => data.endpoint, BROKER_APIS, logger, groups);
const connections = new Set<Promise<void>>();
let stopping = false;
let requestsInFlight = 0;
/** Set while paused: requests wait for it before they are handled. */
let paused: { resumed: Promise<void>; resume: () => void } | null = null;

/** One request frame (size prefix included) to its response frame, or null when none is owed. */
async function onRequest(frame: Uint8Array): Promise<Uint8Array | null> {
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
    const response = await handler.handle(header, body);
    return response === null ? null : encodeResponse(header.apiKey, header.apiVersion, header.correlationId, response);
  } finally {
    requestsInFlight--;
  }
}

const control: BrokerControl = {
  async connect(handles: ConnectionHandles) {
    if (stopping) throw new Error('broker is shutting down');
    const served = serveConnection(handles, onRequest, (error) => logger.error({ err: error }, 'request failed'));
    connections.add(served);
    void served.finally(() => connections.delete(served));
  },
  async status(): Promise<BrokerStatus> {
    return { brokerId: data.options.brokerId, topics: [...replicas.topics().keys()], connections: connections.size, requestsInFlight };
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
logger.info({ logDir, topics: replicas.topics().size }, 'broker ready');
Comlink.expose(control, nodeEndpoint(data.control));
