/**
 * The main thread's Connector (sender-protocol.ts) on a MessagePort of its own, for a client worker
 * that opens connections to brokers: the worker gets `port` in its start-up data.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import type { ConnectionHandles } from './embedded-connection.js';
import type { Connector } from './sender-protocol.js';

export function exposeConnector(connect: (nodeId: number | null) => Promise<{ nodeId: number; handles: ConnectionHandles }>): { port: MessagePort; close: () => void } {
  const channel = new MessageChannel();
  const connector: Connector = { connect };
  Comlink.expose(connector, nodeEndpoint(channel.port1));
  return { port: channel.port2, close: () => channel.port1.close() };
}
