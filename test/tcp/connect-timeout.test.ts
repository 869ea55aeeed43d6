import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startCluster } from '../../src/actors/cluster.js';
import { createProducer } from '../../src/actors/tcp-clients.js';
import { ReconnectBackoff, TcpTransport } from '../../src/actors/tcp-transport.js';
import { TimeoutError } from '../../src/shared/errors.js';
import { resolveConsumerOptions } from '../../src/shared/consumer-config.js';
import { resolveProducerOptions } from '../../src/shared/producer-config.js';
import { ApiKeys, encodeRequest } from '../../src/shared/protocol/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { silentListener } from './silent-listener.js';
import { logged, until } from './wait.js';

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function silentPort(): Promise<number> {
  const listener = await silentListener();
  open.push(listener);
  return listener.port;
}

const metadataFrame = (correlationId: number): Buffer => encodeRequest({ apiKey: ApiKeys.METADATA, apiVersion: 12, correlationId, clientId: 't' }, { topics: [] });

describe('socket.connection.setup.timeout.ms', () => {
  it('is in both clients\' tables with Kafka\'s defaults', () => {
    for (const options of [resolveProducerOptions({}), resolveConsumerOptions({})]) {
      expect(options).toMatchObject({ socketConnectionSetupTimeoutMs: 10_000, socketConnectionSetupTimeoutMaxMs: 30_000, reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1_000 });
    }
    expect(resolveProducerOptions({ 'socket.connection.setup.timeout.ms': '250' }).socketConnectionSetupTimeoutMs).toBe(250);
    expect(() => resolveConsumerOptions({ 'socket.connection.setup.timeout.max.ms': 0 })).toThrow('socket.connection.setup.timeout.max.ms');
  });

  it('doubles per failed attempt in a row up to the maximum, ±20%, and starts again after a success', () => {
    const backoff = new ReconnectBackoff(50, 1_000, 1_000, 5_000);
    const bounds: number[] = [];
    for (let i = 0; i < 5; i++) {
      bounds.push(backoff.setupTimeoutMs());
      backoff.failed();
    }
    const expected = [1_000, 2_000, 4_000, 5_000, 5_000];
    bounds.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(expected[i]! * 0.8);
      expect(ms).toBeLessThanOrEqual(expected[i]! * 1.2);
    });
    backoff.succeeded();
    expect(backoff.setupTimeoutMs()).toBeLessThanOrEqual(1_200);
    // A timeout above its maximum is used as it is, as Kafka does.
    expect(new ReconnectBackoff(50, 1_000, 3_000, 1_000).setupTimeoutMs()).toBeGreaterThanOrEqual(2_400);
  });

  it('bounds a connect that never completes with ERR_CONNECT_TIMEOUT, longer on the next attempt', async () => {
    const port = await silentPort();
    const transport = new TcpTransport({ host: '127.0.0.1', port }, { connectTimeoutMs: 100, connectTimeoutMaxMs: 1_000, reconnectBackoffMs: 10, reconnectBackoffMaxMs: 10 });
    open.push(transport);
    const first = await transport.request(metadataFrame(1), 30_000).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TimeoutError);
    expect(first).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT', retriable: true });
    expect((first as TimeoutError).message).toContain(`cannot connect to 127.0.0.1:${port} within socket.connection.setup.timeout.ms`);
    expect((first as TimeoutError).timeoutMs).toBeLessThanOrEqual(120);
    const second = await transport.request(metadataFrame(2), 30_000).catch((e: unknown) => e);
    expect(second).toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    expect((second as TimeoutError).timeoutMs).toBeGreaterThanOrEqual(160);
  }, 30_000);

  it('fails createProducer (idempotent: it needs a producer id) after max.block.ms of connect timeouts, naming the unreachable server', async () => {
    const port = await silentPort();
    const started = await createProducer({
      bootstrapServers: `127.0.0.1:${port}`, logger: memoryLogger().logger,
      'socket.connection.setup.timeout.ms': 100, 'socket.connection.setup.timeout.max.ms': 200, 'max.block.ms': 1_000,
    }).catch((e: unknown) => e);
    expect(started).toBeInstanceOf(TimeoutError);
    expect(started).toMatchObject({ code: 'ERR_INIT_PRODUCER_ID_TIMEOUT', timeoutMs: 1_000, message: expect.stringContaining(`127.0.0.1:${port}`) });
  }, 30_000);

  it('lets createProducer wait for a broker that starts listening after it (within max.block.ms)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve)); // nothing listens there now: connects are refused
    const { logger, lines } = memoryLogger();
    const starting = createProducer({ bootstrapServers: `127.0.0.1:${port}`, logger, acks: 'all', 'retry.backoff.ms': 20, 'max.block.ms': 20_000 });
    await until('a refused attempt to get a producer id', () => lines.some((l) => l.msg === 'could not get a producer id; retrying'), 10_000);
    const cluster = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port });
    open.push(cluster);
    const producer = await starting;
    open.push({ close: () => producer.close() });
    const metadata = await producer.send({ topic: 'late', value: Buffer.from('hello') });
    expect(metadata).toMatchObject({ topic: 'late', partition: 0, offset: 0 });
  }, 30_000);

  it('fails a send to an unreachable bootstrap server within max.block.ms, saying it could not connect', async () => {
    const port = await silentPort();
    const producer = await createProducer({
      bootstrapServers: `127.0.0.1:${port}`, logger: memoryLogger().logger, 'enable.idempotence': false, acks: '1',
      'socket.connection.setup.timeout.ms': 100, 'socket.connection.setup.timeout.max.ms': 200, 'max.block.ms': 1_500,
    });
    open.push({ close: () => producer.close(1_000) });
    const sent = await producer.send({ topic: 'nowhere', value: Buffer.from('x') }).catch((e: unknown) => e);
    expect(sent).toBeInstanceOf(TimeoutError);
    expect(sent).toMatchObject({ code: 'ERR_METADATA_TIMEOUT' });
    expect((sent as Error).message).toContain(`cannot connect to 127.0.0.1:${port} within socket.connection.setup.timeout.ms`);
  }, 30_000);

  it('fails batches within delivery.timeout.ms when the leader\'s advertised address never answers', async () => {
    const port = await silentPort();
    // A classic misconfiguration: the broker advertises an address its clients cannot reach.
    const { logger, lines } = memoryLogger();
    const cluster = await startCluster({ dataDir: tempDir(), logger, brokerConfig: { listeners: 'PLAINTEXT://127.0.0.1:0', 'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}` } });
    open.push(cluster);
    const listening = (await logged(lines, 'listening for Kafka clients')).listening as string;
    const producer = await createProducer({
      bootstrapServers: listening, logger: memoryLogger().logger, 'linger.ms': 0, 'retry.backoff.ms': 20,
      'socket.connection.setup.timeout.ms': 100, 'socket.connection.setup.timeout.max.ms': 200, 'request.timeout.ms': 1_000, 'delivery.timeout.ms': 2_000,
    });
    open.push({ close: () => producer.close(1_000) });
    const sent = await producer.send({ topic: 'unreachable-leader', value: Buffer.from('x') }).catch((e: unknown) => e);
    expect(sent).toBeInstanceOf(TimeoutError);
    expect(sent).toMatchObject({ code: 'ERR_DELIVERY_TIMEOUT' });
    expect((sent as Error).message).toContain(`cannot connect to 127.0.0.1:${port} within socket.connection.setup.timeout.ms`);
  }, 30_000);
});
