import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { KafkaClient } from '../../src/actors/kafka-client.js';
import { ProtocolError } from '../../src/shared/errors.js';
import { BROKER_APIS } from '../../src/actors/request-handler.js';
import { ApiKeys, SUPPORTED_APIS } from '../../src/shared/protocol/index.js';
import { kafkajsBatch } from '../shared/log/kafkajs-batches.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { memoryLogger } from './helpers.js';

const tempDir = useTempDirs();
const clusters: Cluster[] = [];
afterEach(async () => {
  await Promise.all(clusters.splice(0).map((c) => c.close()));
});

async function cluster(): Promise<Cluster> {
  const c = await startCluster({ dataDir: tempDir(), logger: memoryLogger().logger });
  clusters.push(c);
  return c;
}

describe('Kafka client', () => {
  it('negotiates the highest versions both sides speak, and none for APIs the broker does not serve', async () => {
    const client = await (await cluster()).client();
    expect(client.version(ApiKeys.PRODUCE)).toBe(11);
    expect(client.version(ApiKeys.FETCH)).toBe(17);
    expect(client.version(ApiKeys.METADATA)).toBe(12);
    expect(client.version(ApiKeys.JOIN_GROUP)).toBe(9);
    // An API the codec speaks and the broker does not serve (while there is one) gets no version.
    const unserved = SUPPORTED_APIS.find((api) => !BROKER_APIS.some((served) => served.apiKey === api.apiKey));
    if (unserved !== undefined) {
      expect(client.version(unserved.apiKey)).toBeUndefined();
      expect(() => client.request(unserved.apiKey, {})).toThrow(ProtocolError);
    }
  });

  it('refuses to guess a version before negotiating', async () => {
    const client = new KafkaClient(await (await cluster()).connect());
    expect(() => client.request(ApiKeys.METADATA, { topics: null })).toThrow('call negotiate() before request()');
  });

  it('produces and fetches by topic id at the negotiated versions, and sends acks=0 without waiting', async () => {
    const client = await (await cluster()).client();
    const metadata = await client.request(ApiKeys.METADATA, { topics: [{ name: 'ids' }], allowAutoTopicCreation: true }) as { topics: { topicId: string }[] };
    const records = (await kafkajsBatch(0, 4, 1_700_000_000_000)).bytes;
    client.send(ApiKeys.PRODUCE, { acks: 0, timeoutMs: 5_000, topicData: [{ name: 'ids', partitionData: [{ index: 0, records }] }] });
    const acked = await client.request(ApiKeys.PRODUCE, { acks: 1, timeoutMs: 5_000, topicData: [{ name: 'ids', partitionData: [{ index: 0, records }] }] }) as { responses: { partitionResponses: { baseOffset: bigint }[] }[] };
    expect(acked.responses[0]!.partitionResponses[0]!.baseOffset).toBe(4n); // the acks=0 batch went first, in order
    const fetched = await client.request(ApiKeys.FETCH, {
      maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20,
      topics: [{ topicId: metadata.topics[0]!.topicId, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    }) as { responses: { partitions: { errorCode: number; highWatermark: bigint }[] }[] };
    expect(fetched.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 8n });
  });
});
