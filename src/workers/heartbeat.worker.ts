/**
 * Heartbeat: the worker that keeps one Consumer in its group (Kafka's coordinator and heartbeat
 * thread), independent of the main thread's event loop.
 *
 * Start-up data: HeartbeatWorkerData (actors/consumer-protocol.ts).
 * In:  control port (comlink HeartbeatControl): join, commit, committed, leave, close.
 *      Shared state (ConsumerSlot in layout.ts): POLL_CLOCK_MS, the time of the last poll(),
 *      which max.poll.interval.ms is checked against.
 * Out: events port: GroupEvent messages (rejoin-needed, lost), handled by the main thread's next
 *      poll(). Connector port (comlink, the main thread's Connector): embedded connections to
 *      brokers; with bootstrap.servers, TCP sockets of its own instead.
 *      Log lines on the log port.
 * Sleeping: timers for heartbeats and the poll deadline; requests are awaited, never blocked on.
 */
import { workerData } from 'node:worker_threads';
import { workerConnect } from '../actors/broker-clients.js';
import type { HeartbeatControl, HeartbeatWorkerData } from '../actors/consumer-protocol.js';
import { Membership } from '../actors/membership.js';
import type { Connector } from '../actors/sender-protocol.js';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { ConsumerSlot } from '../shared/layout.js';
import { createWorkerLogger } from '../shared/logger.js';

const data = workerData as HeartbeatWorkerData;
const logger = createWorkerLogger(data.log, data.logLevel, { actor: 'heartbeat', clientId: data.options.clientId, groupId: data.options.groupId });
const connector = Comlink.wrap<Connector>(nodeEndpoint(data.connector));
const state = new Int32Array(data.state);

/** The poll clock counts ms from `clockBaseMs` as a uint32; differences are taken modulo 2^32. */
const pollClock = (): number => ((Date.now() - data.clockBaseMs) - Atomics.load(state, ConsumerSlot.POLL_CLOCK_MS)) >>> 0;

const membership = new Membership(
  data.options,
  workerConnect({ bootstrapServers: data.bootstrapServers, connector, clientId: data.options.clientId, requestTimeoutMs: data.options.requestTimeoutMs, socket: data.options, logger }),
  pollClock,
  (event) => data.events.postMessage(event),
  logger,
);

const control: HeartbeatControl = {
  join: (subscription, owned) => membership.join(subscription, owned),
  commit: (offsets, generationId, memberId) => membership.commit(offsets, generationId, memberId),
  committed: (partitions) => membership.committed(partitions),
  leave: (reason) => membership.leave(reason),
  close() {
    membership.close();
    data.events.close();
    connector[Comlink.releaseProxy]();
  },
};
Comlink.expose(control, nodeEndpoint(data.control));
