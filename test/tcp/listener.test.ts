import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import { connectClient } from '../../src/actors/tcp-clients.js';
import { ConfigError } from '../../src/shared/errors.js';
import { listenerPlan } from '../../src/shared/listeners.js';
import { ApiKeys, encodeRequest, ErrorCodes } from '../../src/shared/protocol/index.js';
import { RecordBatchBuilder } from '../../src/shared/record-batch/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { decoded, RawSocket } from './raw-socket.js';

/** Decoded bodies follow the schemas, not TS types: the tests index them freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const tempDir = useTempDirs();
const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});

async function cluster(brokerConfig: Record<string, unknown> = {}): Promise<Cluster> {
  const c = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, port: 0, brokerConfig });
  open.push(c);
  return c;
}

/** A ringlog KafkaClient over TCP, and a topic created by its Metadata request. */
async function clientWithTopic(c: Cluster, topic: string): Promise<KafkaClient> {
  const client = await connectClient(c.bootstrapServers);
  open.push(client);
  await client.request(ApiKeys.METADATA, { topics: [{ name: topic }], allowAutoTopicCreation: true });
  return client;
}

async function raw(c: Cluster): Promise<RawSocket> {
  const socket = await RawSocket.open(c.bootstrapServers);
  open.push(socket);
  return socket;
}

function batchOf(valueBytes: number, records = 1): Uint8Array {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(valueBytes * records + 1024) });
  for (let i = 0; i < records; i++) builder.tryAppend({ timestamp: 1, key: null, value: Buffer.alloc(valueBytes, i) });
  return builder.build();
}

describe('listener configuration', () => {
  it('binds 127.0.0.1 by default, broker k on port + k, and advertises what listeners say', () => {
    expect(listenerPlan('', '', 9092, 2)).toEqual({ bind: { host: '127.0.0.1', port: 9094 }, advertised: { host: '127.0.0.1', port: 9094 } });
    expect(listenerPlan('', '', 0, 3)!.bind.port).toBe(0);
    expect(listenerPlan('', '')).toBeNull();
    expect(listenerPlan('PLAINTEXT://0.0.0.0:19092', 'PLAINTEXT://kafka.example:9092')).toEqual({ bind: { host: '0.0.0.0', port: 19092 }, advertised: { host: 'kafka.example', port: 9092 } });
    expect(listenerPlan('PLAINTEXT://[::1]:0', '')).toEqual({ bind: { host: '::1', port: 0 }, advertised: { host: '::1', port: 0 } });
    expect(() => listenerPlan('PLAINTEXT://0.0.0.0:9092', '')).toThrow(ConfigError);
    expect(() => listenerPlan('SSL://host:9093', '')).toThrow('ringlog speaks PLAINTEXT only');
    expect(() => listenerPlan('PLAINTEXT://a:1,PLAINTEXT://b:2', '')).toThrow('one listener per broker');
  }, 30_000);

  it('refuses a bad listener at start-up, naming the key', async () => {
    await expect(startCluster({ dataDir: tempDir(), logger: memoryLogger().logger, brokerConfig: { listeners: 'localhost:9092' } }))
      .rejects.toThrow("listeners: 'localhost:9092' is not NAME://host:port");
  }, 30_000);
});

describe('TCP listener', () => {
  it('serves on an ephemeral port and answers Metadata and FindCoordinator with the advertised address', async () => {
    const c = await cluster({ 'group.initial.rebalance.delay.ms': 0 });
    const [host, port] = c.bootstrapServers.split(':');
    expect(host).toBe('127.0.0.1');
    expect(Number(port)).toBeGreaterThan(0);
    expect(c.broker(0).address).toBe(c.bootstrapServers);
    const client = await connectClient(c.bootstrapServers);
    open.push(client);
    const metadata: Loose = await client.request(ApiKeys.METADATA, { topics: [{ name: 'm' }], allowAutoTopicCreation: true });
    expect(metadata.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: Number(port), rack: null }]);
    expect(metadata.topics[0].partitions[0].leaderId).toBe(0);
    const coordinator: Loose = await client.request(ApiKeys.FIND_COORDINATOR, { key: 'g', keyType: 0, coordinatorKeys: ['g'] });
    expect(coordinator.coordinators[0]).toMatchObject({ key: 'g', nodeId: 0, host: '127.0.0.1', port: Number(port), errorCode: 0 });
    expect((await c.broker(0).status()).listener).toMatchObject({ bound: { host: '127.0.0.1', port: Number(port) }, advertised: { host: '127.0.0.1', port: Number(port) } });
  }, 30_000);

  it('advertises advertised.listeners, not the bound address', async () => {
    const c = await cluster({ listeners: 'PLAINTEXT://127.0.0.1:0', 'advertised.listeners': 'PLAINTEXT://broker.example:19092' });
    expect(c.bootstrapServers).toBe('broker.example:19092');
    const { bound } = (await c.broker(0).status()).listener!;
    const client = await connectClient(`127.0.0.1:${bound.port}`);
    open.push(client);
    const metadata: Loose = await client.request(ApiKeys.METADATA, { topics: [] });
    expect(metadata.brokers[0]).toMatchObject({ host: 'broker.example', port: 19092 });
  }, 30_000);

  it('answers pipelined requests in request order, from one write or byte by byte, header v1 and v2 alike', async () => {
    const c = await cluster();
    const socket = await raw(c);
    socket.request(ApiKeys.METADATA, 12, 1, { topics: [{ name: 'p' }], allowAutoTopicCreation: true });
    await socket.frameCount(1);
    socket.frames.length = 0;
    // A produce that waits for the log writer, then requests that are answered at once: order holds.
    const frames = [
      { key: ApiKeys.PRODUCE, version: 9, body: { acks: -1, timeoutMs: 5_000, topicData: [{ name: 'p', partitionData: [{ index: 0, records: batchOf(100) }] }] } },
      { key: ApiKeys.METADATA, version: 1, body: { topics: [{ name: 'p' }] } }, // request header v1
      { key: ApiKeys.API_VERSIONS, version: 3, body: { clientSoftwareName: 'raw', clientSoftwareVersion: '1' } }, // header v2
      { key: ApiKeys.METADATA, version: 12, body: { topics: null } },
    ];
    const bytes = Buffer.concat(frames.map((f, i) => encodeRequest({ apiKey: f.key, apiVersion: f.version, correlationId: 100 + i, clientId: 'raw' }, f.body)));
    socket.write(bytes);
    const answers = await socket.frameCount(4);
    expect(answers.map((frame, i) => decoded(frames[i]!.key, frames[i]!.version, frame).correlationId)).toEqual([100, 101, 102, 103]);
    // The same bytes one at a time.
    for (const byte of bytes) socket.write(Buffer.of(byte));
    const again = await socket.frameCount(8);
    expect(again.slice(4).map((frame, i) => decoded(frames[i]!.key, frames[i]!.version, frame).correlationId)).toEqual([100, 101, 102, 103]);
    expect((decoded(ApiKeys.PRODUCE, 9, again[4]!).body as Loose).responses[0].partitionResponses[0].baseOffset).toBe(1n);
  }, 30_000);

  it('answers pipelined Metadata requests that auto-create one topic with all its partitions, never half made', async () => {
    const socket = await raw(await cluster({ 'num.partitions': 4 }));
    socket.write(Buffer.concat(Array.from({ length: 5 }, (_, i) => encodeRequest({ apiKey: ApiKeys.METADATA, apiVersion: 12, correlationId: i, clientId: 'raw' }, { topics: [{ name: 'racing' }], allowAutoTopicCreation: true }))));
    const answers = (await socket.frameCount(5)).map((frame) => decoded(ApiKeys.METADATA, 12, frame).body as Loose);
    expect(answers.map((a) => [a.topics[0].errorCode, a.topics[0].partitions.length])).toEqual(Array.from({ length: 5 }, () => [0, 4]));
  }, 30_000);

  it('answers an unknown ApiVersions version at v0 with UNSUPPORTED_VERSION and its ranges', async () => {
    const socket = await raw(await cluster());
    const future = encodeRequest({ apiKey: ApiKeys.API_VERSIONS, apiVersion: 3, correlationId: 8, clientId: 'raw' }, {});
    future.writeInt16BE(99, 6); // the request header's api_version: one the broker has never heard of
    socket.write(future);
    const [answer] = await socket.frameCount(1);
    const body = decoded(ApiKeys.API_VERSIONS, 0, answer!) as Loose;
    expect(body.correlationId).toBe(8);
    expect(body.body.errorCode).toBe(ErrorCodes.UNSUPPORTED_VERSION);
    expect(body.body.apiKeys.length).toBeGreaterThan(10);
  }, 30_000);

  it('closes the connection on a negative or oversized frame size before allocating, and on an unknown API', async () => {
    const c = await cluster({ 'socket.request.max.bytes': 1_000_000 });
    const negative = await raw(c);
    negative.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    expect(await negative.closedWithin(5_000)).toBe(true);
    const huge = await raw(c);
    huge.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])); // claims 2 GiB, sends 3 bytes
    expect(await huge.closedWithin(5_000)).toBe(true);
    const justOver = await raw(c);
    const over = Buffer.alloc(4);
    over.writeInt32BE(1_000_001);
    justOver.write(over);
    expect(await justOver.closedWithin(5_000)).toBe(true);
    const unknown = await raw(c);
    unknown.request(ApiKeys.METADATA, 12, 1, { topics: null });
    const bad = Buffer.from([0, 0, 0, 10, 0x7f, 0x00, 0, 0, 0, 0, 0, 2, 0xff, 0xff]); // api key 32512
    unknown.write(bad);
    expect(await unknown.closedWithin(5_000)).toBe(true);
    expect(unknown.frames).toHaveLength(1); // the answer owed before the bad request still went out
    // The broker is fine: a new client is served.
    const client = await connectClient(c.bootstrapServers);
    open.push(client);
    const metadata: Loose = await client.request(ApiKeys.METADATA, { topics: [] });
    expect(metadata.brokers).toHaveLength(1);
  }, 30_000);

  it('answers a batch over message.max.bytes with MESSAGE_TOO_LARGE and keeps the connection', async () => {
    const client = await clientWithTopic(await cluster({ 'message.max.bytes': 10_000 }), 'big');
    const produce = (records: Uint8Array): Promise<{ responses: { partitionResponses: { errorCode: number }[] }[] }> =>
      client.request(ApiKeys.PRODUCE, { acks: 1, timeoutMs: 5_000, topicData: [{ name: 'big', partitionData: [{ index: 0, records }] }] }) as never;
    expect((await produce(batchOf(20_000))).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCodes.MESSAGE_TOO_LARGE);
    expect((await produce(batchOf(100))).responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCodes.NONE);
  }, 30_000);

  it('answers Produce v0-2 carrying an old message set with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const c = await cluster();
    const client = await clientWithTopic(c, 'old');
    const messageSetV1 = Buffer.alloc(40);
    messageSetV1.writeInt32BE(28, 8); // message size
    messageSetV1[16] = 1; // magic 1
    const answer: Loose = await client.request(ApiKeys.PRODUCE, { acks: 1, timeoutMs: 5_000, topicData: [{ name: 'old', partitionData: [{ index: 0, records: messageSetV1 }] }] }, { version: 2 });
    expect(answer.responses[0].partitionResponses[0].errorCode).toBe(ErrorCodes.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  }, 30_000);

  it('closes connections idle for connections.max.idle.ms, not busy ones', async () => {
    const c = await cluster({ 'connections.max.idle.ms': 300 });
    const idle = await raw(c);
    const started = Date.now();
    expect(await idle.closedWithin(5_000)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // A long-polling fetch (1 s, longer than the idle limit) is answered, not cut off.
    const busy = await raw(c);
    busy.request(ApiKeys.METADATA, 12, 1, { topics: [{ name: 'idle' }], allowAutoTopicCreation: true });
    await busy.frameCount(1);
    busy.request(ApiKeys.FETCH, 4, 2, { replicaId: -1, maxWaitMs: 1_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, topics: [{ topic: 'idle', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }] });
    const [, fetched] = await busy.frameCount(2);
    expect(decoded(ApiKeys.FETCH, 4, fetched!).correlationId).toBe(2);
    expect(await busy.closedWithin(5_000)).toBe(true);
  }, 30_000);

  it('stops reading a client that does not read its answers, and resumes when it does', async () => {
    const c = await cluster();
    const client = await clientWithTopic(c, 'bp');
    await client.request(ApiKeys.PRODUCE, { acks: 1, timeoutMs: 5_000, topicData: [{ name: 'bp', partitionData: [{ index: 0, records: batchOf(1_000_000) }] }] });
    const socket = await raw(c);
    socket.socket.pause(); // reads nothing: answers pile up in the broker
    const requests = 60; // 60 fetches of 1 MB each: more than the broker's 16 MiB of queued answers and the socket buffers
    for (let i = 0; i < requests; i++) {
      socket.request(ApiKeys.FETCH, 4, i, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 2 << 20, isolationLevel: 0, topics: [{ topic: 'bp', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 2 << 20 }] }] });
    }
    const deadline = Date.now() + 5_000;
    let status = await c.broker(0).status();
    while (status.listener!.readPaused === 0 && Date.now() < deadline) status = await c.broker(0).status();
    expect(status.listener!.readPaused).toBe(1);
    socket.socket.resume();
    const answers = await socket.frameCount(requests, 30_000);
    expect(answers.map((f) => f.readInt32BE(4))).toEqual(Array.from({ length: requests }, (_, i) => i));
    expect((await c.broker(0).status()).listener!.readPaused).toBe(0);
  }, 60_000);

  it('rebinds the same port after a crash, and a client reconnects', async () => {
    const c = await cluster();
    const address = c.bootstrapServers;
    const client = await connectClient(address, { reconnectBackoffMs: 10, reconnectBackoffMaxMs: 100 });
    open.push(client);
    await client.request(ApiKeys.METADATA, { topics: [] });
    const restarted = new Promise<void>((resolve) => c.supervisor.once('restart', () => resolve()));
    await c.broker(0).kill();
    await restarted;
    expect(c.bootstrapServers).toBe(address);
    // The first request may meet the old, dropped connection; the transport reconnects for the next.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const metadata: Loose = await client.request(ApiKeys.METADATA, { topics: [] }, { timeoutMs: 2_000 });
        expect(metadata.brokers[0].port).toBe(Number(address.split(':')[1]));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }, 30_000);
});
