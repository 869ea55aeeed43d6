import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import type { KafkaClient } from '../../src/actors/kafka-client.js';
import { connectClient } from '../../src/actors/tcp-clients.js';
import { ApiKeys, encodeRequest, ErrorCodes } from '../../src/shared/protocol/index.js';
import { RecordBatchBuilder } from '../../src/shared/record-batch/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { decoded, RawSocket } from './raw-socket.js';

// Bad input over TCP: every connection gets Kafka's answers to its whole, valid requests and is
// otherwise closed; the broker never crashes, its memory stays bounded, and a well-behaved client
// on another connection is served throughout.

/** socket.request.max.bytes, Kafka's default: 100 MiB. */
const MAX_REQUEST_BYTES = 104_857_600;
const tempDir = useTempDirs();
let cluster: Cluster;
let bystander: { client: KafkaClient; roundTrips: number; failure: unknown; stop: () => Promise<void> };

/** A client that produces and fetches back, over and over, checking every answer. */
function startBystander(client: KafkaClient): typeof bystander {
  const state = { client, roundTrips: 0, failure: undefined as unknown, stop: async () => undefined };
  let running = true;
  const loop = (async () => {
    const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(1024) });
    builder.tryAppend({ timestamp: 1, key: null, value: Buffer.from('bystander') });
    const records = builder.build();
    while (running) {
      const produced = await client.request(ApiKeys.PRODUCE, { acks: 1, timeoutMs: 5_000, topicData: [{ name: 'bystander', partitionData: [{ index: 0, records }] }] }, { timeoutMs: 10_000 }) as { responses: { partitionResponses: { errorCode: number; baseOffset: bigint }[] }[] };
      const { errorCode, baseOffset } = produced.responses[0]!.partitionResponses[0]!;
      if (errorCode !== ErrorCodes.NONE) throw new Error(`bystander produce failed with ${errorCode}`);
      const fetched = await client.request(ApiKeys.FETCH, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 16, isolationLevel: 0,
        topics: [{ topic: 'bystander', partitions: [{ partition: 0, fetchOffset: baseOffset, partitionMaxBytes: 1 << 16 }] }],
      }, { version: 12, timeoutMs: 10_000 }) as { responses: { partitions: { records: Uint8Array | null }[] }[] };
      if ((fetched.responses[0]!.partitions[0]!.records?.length ?? 0) === 0) throw new Error(`bystander could not read offset ${baseOffset}`);
      state.roundTrips++;
    }
  })().catch((error: unknown) => { state.failure = error; });
  state.stop = async () => { running = false; await loop; };
  return state;
}

beforeAll(async () => {
  cluster = await startCluster({
    dataDir: tempDir(), logger: memoryLogger('fatal').logger, port: 0,
    brokerConfig: { 'connections.max.idle.ms': 2_000 },
  });
  const client = await connectClient(cluster.bootstrapServers);
  await client.request(ApiKeys.METADATA, { topics: [{ name: 'bystander' }], allowAutoTopicCreation: true });
  bystander = startBystander(client);
});

afterAll(async () => {
  await bystander.stop();
  bystander.client.close();
  await cluster.close();
});

/** Writes `bytes`, half-closes, and collects what the broker answered before it closed. */
async function sendAndEnd(bytes: Uint8Array): Promise<RawSocket> {
  const socket = await RawSocket.open(cluster.bootstrapServers);
  socket.socket.end(bytes);
  if (!(await socket.closedWithin(5_000))) throw new Error('the broker kept a half-closed connection open');
  return socket;
}

/** Writes `bytes` and expects the broker to close the connection by itself, answering nothing. */
async function expectClosedUnanswered(bytes: Uint8Array): Promise<void> {
  const socket = await RawSocket.open(cluster.bootstrapServers);
  socket.write(bytes);
  const closed = await socket.closedWithin(5_000);
  socket.close();
  expect(closed).toBe(true);
  expect(socket.frames).toEqual([]);
}

const sizePrefix = (size: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(size);
  return b;
};

/** Valid requests of several APIs and versions (header v1 and v2), to cut up and corrupt. */
const validFrames = (): Buffer[] => {
  const builder = new RecordBatchBuilder({ buffer: Buffer.alloc(1024) });
  builder.tryAppend({ timestamp: 1, key: Buffer.from('k'), value: Buffer.from('v') });
  const records = builder.build();
  return [
    encodeRequest({ apiKey: ApiKeys.METADATA, apiVersion: 4, correlationId: 1, clientId: 'f' }, { topics: [{ name: 'fuzz' }], allowAutoTopicCreation: false }),
    encodeRequest({ apiKey: ApiKeys.METADATA, apiVersion: 12, correlationId: 2, clientId: 'f' }, { topics: null }),
    encodeRequest({ apiKey: ApiKeys.API_VERSIONS, apiVersion: 3, correlationId: 3, clientId: 'f' }, { clientSoftwareName: 'f', clientSoftwareVersion: '1' }),
    encodeRequest({ apiKey: ApiKeys.PRODUCE, apiVersion: 9, correlationId: 4, clientId: 'f' }, { acks: 1, timeoutMs: 1_000, topicData: [{ name: 'fuzz', partitionData: [{ index: 0, records }] }] }),
    encodeRequest({ apiKey: ApiKeys.FETCH, apiVersion: 4, correlationId: 5, clientId: 'f' }, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, isolationLevel: 0, topics: [{ topic: 'fuzz', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }] }] }),
    encodeRequest({ apiKey: ApiKeys.JOIN_GROUP, apiVersion: 5, correlationId: 6, clientId: 'f' }, { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [] }),
  ];
};

describe('bad input over TCP', () => {
  it('random bytes: only whole, valid requests are answered, in order; anything else closes the connection', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 600 }), fc.boolean(), async (noise, withValidPrefix) => {
      const valid = validFrames()[1]!; // Metadata v12, correlation id 2
      const socket = await sendAndEnd(withValidPrefix ? Buffer.concat([valid, noise]) : noise);
      // Whatever was answered is an answer to a request that was sent: here only the valid one.
      for (const frame of socket.frames) expect(frame.readInt32BE(4)).toBe(2);
      if (withValidPrefix) expect(socket.frames).toHaveLength(1);
    }), { numRuns: 60 });
  }, 30_000);

  it('truncated frames get no answer, and the connection closes', async () => {
    const frames = validFrames();
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: frames.length - 1 }), fc.double({ min: 0, max: 0.999, noNaN: true }), async (which, cut) => {
      const frame = frames[which]!;
      const socket = await sendAndEnd(frame.subarray(0, Math.floor(frame.length * cut)));
      expect(socket.frames).toEqual([]);
    }), { numRuns: 40 });
  }, 30_000);

  it('sizes over socket.request.max.bytes, up to 2 GiB, and negative sizes close the connection at once', async () => {
    await fc.assert(fc.asyncProperty(
      fc.oneof(fc.integer({ min: MAX_REQUEST_BYTES + 1, max: 0x7fffffff }), fc.integer({ min: -0x80000000, max: -1 })),
      fc.uint8Array({ maxLength: 64 }),
      async (size, rest) => { await expectClosedUnanswered(Buffer.concat([sizePrefix(size), rest])); },
    ), { numRuns: 40 });
  }, 30_000);

  it('negative and impossible counts and lengths inside a request close the connection', async () => {
    // Metadata v4 (header v1, client id 'f'): the topics array's int32 count is at byte 15.
    const metadata = validFrames()[0]!;
    await fc.assert(fc.asyncProperty(fc.oneof(fc.integer({ min: -0x80000000, max: -2 }), fc.integer({ min: 2, max: 0x7fffffff })), async (count) => {
      const bad = Buffer.from(metadata);
      bad.writeInt32BE(count, 15);
      await expectClosedUnanswered(bad);
    }), { numRuns: 30 });
    // The client id's int16 length, negative (other than -1, null) or past the end.
    await fc.assert(fc.asyncProperty(fc.oneof(fc.integer({ min: -0x8000, max: -2 }), fc.integer({ min: metadata.length, max: 0x7fff })), async (length) => {
      const bad = Buffer.from(metadata);
      bad.writeInt16BE(length, 12);
      await expectClosedUnanswered(bad);
    }), { numRuns: 30 });
  }, 30_000);

  it('unknown API keys and versions close the connection; an unknown ApiVersions version is answered at v0', async () => {
    const served = new Map([[ApiKeys.METADATA, 12], [ApiKeys.PRODUCE, 11], [ApiKeys.FETCH, 17], [ApiKeys.JOIN_GROUP, 9]]);
    await fc.assert(fc.asyncProperty(
      fc.oneof(
        fc.record({ apiKey: fc.integer({ min: 100, max: 0x7fff }), apiVersion: fc.integer({ min: 0, max: 0x7fff }) }),
        fc.record({ apiKey: fc.integer({ min: -0x8000, max: -1 }), apiVersion: fc.integer({ min: 0, max: 20 }) }),
        fc.constantFrom(...served.keys()).chain((apiKey) => fc.record({ apiKey: fc.constant(apiKey), apiVersion: fc.integer({ min: served.get(apiKey)! + 1, max: 0x7fff }) })),
      ),
      async ({ apiKey, apiVersion }) => {
        const frame = Buffer.from(validFrames()[0]!);
        frame.writeInt16BE(apiKey, 4);
        frame.writeInt16BE(apiVersion, 6);
        await expectClosedUnanswered(frame);
      },
    ), { numRuns: 40 });
    await fc.assert(fc.asyncProperty(fc.integer({ min: 5, max: 0x7fff }), async (apiVersion) => {
      const frame = Buffer.from(validFrames()[2]!);
      frame.writeInt16BE(apiVersion, 6);
      const socket = await sendAndEnd(frame);
      expect(socket.frames).toHaveLength(1);
      const answer = decoded(ApiKeys.API_VERSIONS, 0, socket.frames[0]!);
      expect(answer.correlationId).toBe(3);
      expect(answer.body.errorCode).toBe(ErrorCodes.UNSUPPORTED_VERSION);
    }), { numRuns: 20 });
  }, 30_000);

  it('many connections claiming near-limit frames cost memory only for the bytes they sent', async () => {
    const before = process.memoryUsage().rss;
    const sockets = await Promise.all(Array.from({ length: 50 }, () => RawSocket.open(cluster.bootstrapServers)));
    for (const socket of sockets) socket.write(Buffer.concat([sizePrefix(MAX_REQUEST_BYTES), Buffer.alloc(1_000, 7)]));
    // Each claims 100 MiB and sends 1 KB: 5 GiB if the broker allocated what was claimed.
    let status = await cluster.broker(0).status();
    const deadline = Date.now() + 5_000;
    while (status.listener!.bufferedBytes < 50 * 1_004 && Date.now() < deadline) status = await cluster.broker(0).status();
    expect(status.connections).toBeGreaterThanOrEqual(50);
    // The bytes sent (size prefixes included), not the 5 GiB claimed.
    expect(status.listener!.bufferedBytes).toBeGreaterThanOrEqual(50 * 1_004);
    expect(status.listener!.bufferedBytes).toBeLessThan(1 << 20);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 << 20);
    for (const socket of sockets) socket.close();
  }, 30_000);

  it('the broker never crashed and the well-behaved client was served throughout', async () => {
    expect(bystander.failure).toBeUndefined();
    expect(bystander.roundTrips).toBeGreaterThan(10);
    expect(cluster.supervisor.restarts).toBe(0);
    const roundTrips = bystander.roundTrips;
    const status = await cluster.broker(0).status();
    expect(status.topics).toContain('bystander');
    const deadline = Date.now() + 5_000;
    while (bystander.roundTrips === roundTrips && Date.now() < deadline) await cluster.broker(0).status();
    expect(bystander.roundTrips).toBeGreaterThan(roundTrips);
  }, 30_000);
});
