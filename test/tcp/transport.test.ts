import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { connectClient, createProducer } from '../../src/actors/tcp-clients.js';
import { TcpConnector } from '../../src/actors/tcp-connector.js';
import { ReconnectBackoff, TcpTransport } from '../../src/actors/tcp-transport.js';
import { ConfigError, IllegalStateError, NetworkError, TimeoutError } from '../../src/shared/errors.js';
import { parseHostPorts } from '../../src/shared/listeners.js';
import { ApiKeys, encodeRequest } from '../../src/shared/protocol/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { storedBatches, storedRecords } from './read-partition.js';

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function cluster(): Promise<Cluster> {
  const c = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port: 0 });
  open.push(c);
  return c;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A peer that accepts and hangs up at once, to see in-flight requests fail. */
async function hangingUpServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { server, port: (server.address() as { port: number }).port };
}

const metadataFrame = (correlationId: number): Buffer => encodeRequest({ apiKey: ApiKeys.METADATA, apiVersion: 12, correlationId, clientId: 't' }, { topics: [] });

describe('TcpTransport', () => {
  it('backs off exponentially between failed attempts, with jitter, up to the maximum', () => {
    const backoff = new ReconnectBackoff(100, 1_000);
    expect(backoff.delayMs).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      backoff.failed();
      delays.push(backoff.delayMs);
    }
    expect(delays[0]).toBeGreaterThanOrEqual(75);
    expect(delays[0]).toBeLessThanOrEqual(120);
    expect(delays[2]).toBeGreaterThanOrEqual(315);
    expect(delays[5]).toBeLessThanOrEqual(1_200);
    expect(delays[5]).toBeGreaterThanOrEqual(795);
    backoff.succeeded();
    expect(backoff.delayMs).toBe(0);
  }, 30_000);

  it('fails with a retriable NetworkError when nothing listens, and waits out the backoff before trying again', async () => {
    const transport = new TcpTransport({ host: '127.0.0.1', port: await closedPort() }, { reconnectBackoffMs: 200, reconnectBackoffMaxMs: 200 });
    open.push(transport);
    const first = await transport.request(metadataFrame(1), 5_000).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(NetworkError);
    expect((first as NetworkError).retriable).toBe(true);
    const started = performance.now();
    await expect(transport.request(metadataFrame(2), 5_000)).rejects.toBeInstanceOf(NetworkError);
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  }, 30_000);

  it('sends what was asked while connecting, in order, and matches every answer', async () => {
    const c = await cluster();
    const transport = new TcpTransport(parseHostPorts(c.bootstrapServers)[0]!);
    open.push(transport);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => transport.request(metadataFrame(i + 1), 5_000)));
    expect(answers.map((frame) => Buffer.from(frame).readInt32BE(4))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  }, 30_000);

  it('fails requests in flight when the connection drops, and reconnects for the next', async () => {
    const { port } = await hangingUpServer();
    const transport = new TcpTransport({ host: '127.0.0.1', port }, { reconnectBackoffMs: 10 });
    open.push(transport);
    await expect(transport.request(metadataFrame(1), 5_000)).rejects.toThrow(/closed/);
    await expect(transport.request(metadataFrame(2), 5_000)).rejects.toBeInstanceOf(NetworkError); // a new connection, dropped again
  }, 30_000);

  it('times a request out with ERR_REQUEST_TIMEOUT when the broker does not answer', async () => {
    const c = await cluster();
    const client = await connectClient(c.bootstrapServers);
    open.push(client);
    await c.broker(0).pause();
    const error = await client.request(ApiKeys.METADATA, { topics: [] }, { timeoutMs: 200 }).catch((e: unknown) => e);
    await c.broker(0).resume();
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('ERR_REQUEST_TIMEOUT');
    expect((await client.request(ApiKeys.METADATA, { topics: [] })).brokers).toHaveLength(1); // the connection goes on
  }, 30_000);
});

describe('TcpConnector', () => {
  it('bootstraps past a dead server, learns the broker\'s advertised address, and connects by node id', async () => {
    const c = await cluster();
    const connector = new TcpConnector(parseHostPorts(`127.0.0.1:${await closedPort()},${c.bootstrapServers}`), { clientId: 't', requestTimeoutMs: 5_000, logger: memoryLogger().logger });
    const bootstrap = await connector.connect(null);
    open.push(bootstrap.client);
    expect(bootstrap.nodeId).toBe(0); // the bootstrap server is broker 0's advertised address
    expect(connector.nodes.get(0)).toEqual(parseHostPorts(c.bootstrapServers)[0]);
    const direct = await connector.connect(0);
    open.push(direct.client);
    expect(direct.client.version(ApiKeys.PRODUCE)).toBe(11);
    await expect(connector.connect(7)).rejects.toBeInstanceOf(IllegalStateError);
  }, 30_000);
});

describe('createProducer over TCP', () => {
  it('needs bootstrap servers', () => {
    expect(() => createProducer({})).toThrow(ConfigError);
    expect(() => createProducer({ bootstrapServers: 'no-port' })).toThrow("bootstrapServers: 'no-port' is not host:port");
  }, 30_000);

  it('sends from its sender worker over TCP and goes on after the broker restarts', async () => {
    const c = await cluster();
    const producer = await createProducer<string, string>({
      bootstrapServers: c.bootstrapServers, logger: memoryLogger().logger, keySerializer: 'string', valueSerializer: 'string',
      'linger.ms': 0, 'retry.backoff.ms': 20, 'request.timeout.ms': 3_000, // idempotent, Kafka's default
    });
    open.push({ close: () => producer.close() });
    const before = await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic: 'restart', key: `k${i}`, value: `before ${i}` })));
    expect(before.map((m) => m.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const restarted = new Promise<void>((resolve) => c.supervisor.once('restart', () => resolve()));
    await c.broker(0).kill();
    const after = Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic: 'restart', key: `k${i}`, value: `after ${i}` })));
    await restarted;
    const acked = await after;
    const offsets = acked.map((m) => m.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    const values = storedRecords(await storedBatches(c.bootstrapServers, 'restart', 0)).map((r) => r.value!.toString());
    expect(values.slice(0, 100)).toEqual(Array.from({ length: 100 }, (_, i) => `before ${i}`));
    // Each acknowledged record is there once, in order: retries across the restart did not duplicate.
    expect(values.slice(100)).toEqual(Array.from({ length: 100 }, (_, i) => `after ${i}`));
  }, 30_000);
});
