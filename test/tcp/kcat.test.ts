import { afterEach, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/actors/cluster.js';
import { connectClient } from '../../src/actors/tcp-clients.js';
import { partitionForKey } from '../../src/shared/partitioner.js';
import { ApiKeys } from '../../src/shared/protocol/index.js';
import { Compression } from '../../src/shared/record-batch/index.js';
import { memoryLogger } from '../actors/helpers.js';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { kcat, kcatRecords, kcatVersion, RECORD_FORMAT } from './kcat.js';
import { storedBatches, storedRecords } from './read-partition.js';

const tempDir = useTempDirs();
const clusters: Cluster[] = [];
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.close();
});

async function cluster(): Promise<Cluster> {
  const c = await startCluster({
    dataDir: tempDir(), logger: memoryLogger().logger, port: 0,
    brokerConfig: { 'num.partitions': 4, 'group.initial.rebalance.delay.ms': 0, 'offsets.topic.num.partitions': 4 },
  });
  clusters.push(c);
  return c;
}

const lines = (pairs: [string, string][]): string => pairs.map(([k, v]) => `${k}:${v}\n`).join('');

describe.skipIf(kcatVersion === null)(`kcat (librdkafka ${kcatVersion}) over TCP`, () => {
  it('-L: lists the broker at its advertised address and the topics', async () => {
    const c = await cluster();
    await kcat(['-b', c.bootstrapServers, '-P', '-t', 'listed'], { input: 'one\n' });
    const metadata = JSON.parse((await kcat(['-b', c.bootstrapServers, '-L', '-J'])).stdout.toString()) as {
      brokers: { id: number; name: string }[]; topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    expect(metadata.brokers).toEqual([{ id: 0, name: c.bootstrapServers }]);
    const listed = metadata.topics.find((t) => t.topic === 'listed')!;
    expect(listed.partitions.map((p) => [p.partition, p.leader])).toEqual([[0, 0], [1, 0], [2, 0], [3, 0]]);
  }, 30_000);

  // The broker stores batches as producers send them; kcat and ringlog's reader both read them back.
  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('-P: keyed records compressed with %s land on the Java partitioner\'s partitions, and read back', async (codec) => {
    const c = await cluster();
    const topic = `keyed-${codec}`;
    const pairs = Array.from({ length: 40 }, (_, i): [string, string] => [`key-${i * 31}`, `${codec} value ${i} ${'x'.repeat(i * 10)}`]);
    await kcat(['-b', c.bootstrapServers, '-P', '-t', topic, '-K:', '-z', codec, '-X', 'partitioner=murmur2_random'], { input: lines(pairs) });
    const consumed = kcatRecords((await kcat(['-b', c.bootstrapServers, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', RECORD_FORMAT])).stdout);
    expect(consumed).toHaveLength(pairs.length);
    for (const record of consumed) {
      const key = record.key!.toString();
      expect(record.partition).toBe(partitionForKey(Buffer.from(key), 4));
      expect(record.value!.toString()).toBe(pairs.find(([k]) => k === key)![1]);
    }
    // librdkafka sends a batch uncompressed when compressing does not make it smaller.
    const codecs = new Set<number>();
    for (let partition = 0; partition < 4; partition++) {
      const batches = await storedBatches(c.bootstrapServers, topic, partition);
      for (const b of batches) codecs.add(b.compression);
      expect(storedRecords(batches).map((r) => `${r.key}:${r.value}`)).toEqual(consumed.filter((r) => r.partition === partition).map((r) => `${r.key}:${r.value}`));
    }
    expect(codecs).toContain(Compression[codec]);
    expect([...codecs].every((id) => id === Compression[codec] || id === Compression.none)).toBe(true);
  }, 30_000);

  it('-C: consumes from the beginning, from a given offset and from the end', async () => {
    const c = await cluster();
    const client = await connectClient(c.bootstrapServers);
    await client.request(ApiKeys.CREATE_TOPICS, { topics: [{ name: 'ten', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5_000 });
    client.close();
    await kcat(['-b', c.bootstrapServers, '-P', '-t', 'ten'], { input: Array.from({ length: 10 }, (_, i) => `r${i}\n`).join('') });
    const consume = async (offset: string): Promise<string[]> => kcatRecords((await kcat(['-b', c.bootstrapServers, '-C', '-t', 'ten', '-p', '0', '-o', offset, '-e', '-q', '-f', RECORD_FORMAT])).stdout)
      .map((r) => `${r.offset}=${r.value}`);
    expect(await consume('beginning')).toEqual(Array.from({ length: 10 }, (_, i) => `${i}=r${i}`));
    expect(await consume('6')).toEqual(['6=r6', '7=r7', '8=r8', '9=r9']);
    expect(await consume('-3')).toEqual(['7=r7', '8=r8', '9=r9']); // relative to the end: ListOffsets latest
  }, 30_000);

  it('-G: consumes as a group member, commits, and the next member starts after the commits', async () => {
    const c = await cluster();
    const group = (): Promise<string[]> => kcat(['-b', c.bootstrapServers, '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', RECORD_FORMAT, 'grouped'], { timeoutMs: 30_000 })
      .then(({ stdout }) => kcatRecords(stdout).map((r) => r.value!.toString()).sort());
    await kcat(['-b', c.bootstrapServers, '-P', '-t', 'grouped', '-K:'], { input: lines(Array.from({ length: 20 }, (_, i) => [`k${i}`, `first-${String(i).padStart(2, '0')}`])) });
    expect(await group()).toEqual(Array.from({ length: 20 }, (_, i) => `first-${String(i).padStart(2, '0')}`));
    const client = await connectClient(c.bootstrapServers);
    const fetched = await client.request(ApiKeys.OFFSET_FETCH, { groupId: 'kcat-group', topics: null }, { version: 7 });
    client.close();
    expect((fetched.topics as { partitions: { committedOffset: bigint }[] }[])[0]!.partitions.reduce((n, p) => n + Number(p.committedOffset), 0)).toBe(20);
    await kcat(['-b', c.bootstrapServers, '-P', '-t', 'grouped', '-K:'], { input: lines(Array.from({ length: 5 }, (_, i) => [`k${i}`, `second-${i}`])) });
    expect(await group()).toEqual(['second-0', 'second-1', 'second-2', 'second-3', 'second-4']);
  }, 30_000);
});
