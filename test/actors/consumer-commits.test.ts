import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { exposeConnector } from '../../src/actors/connector.js';
import type { TopicPartitionOffset } from '../../src/actors/consumer.js';
import { CommitFailedError, TimeoutError } from '../../src/shared/errors.js';
import { describeGroup } from './group-members.js';
import { createTopic, pollUntil, produce, QUICK, useConsumerTests } from './consumers.js';

const { start, consumer } = useConsumerTests();
const p0 = { topic: 'ledger', partition: 0 };

describe('Consumer offsets', () => {
  it('commitSync commits the positions poll() reached, or the offsets given; committed() reads them back', async () => {
    const { cluster } = await start();
    await produce(cluster, 'ledger', 50);
    const committedSeen: TopicPartitionOffset[][] = [];
    const c = await consumer(cluster, { 'group.id': 'books', 'enable.auto.commit': false, 'max.poll.records': 20, interceptors: [{ onCommit: (o) => { committedSeen.push([...o]); } }] });
    c.assign([p0]);
    expect(await c.committed([p0])).toEqual([null]);
    await pollUntil(c, (r) => r.length >= 20);
    const position = await c.position(p0);
    await c.commitSync();
    expect(await c.committed([p0])).toEqual([{ ...p0, offset: position, metadata: '', leaderEpoch: 0 }]);
    await c.commitSync([{ ...p0, offset: 7, metadata: 'checkpoint' }]);
    expect(await c.committed([p0])).toEqual([{ ...p0, offset: 7, metadata: 'checkpoint', leaderEpoch: -1 }]);
    expect(committedSeen.map((o) => o.map((x) => x.offset))).toEqual([[position], [7]]);
    // A new consumer of the group starts at the committed offset.
    await c.close();
    const next = await consumer(cluster, { 'group.id': 'books' });
    next.assign([p0]);
    expect((await pollUntil(next, (r) => r.length > 0))[0]!.offset).toBe(7);
  });

  it('commitAsync calls back in commit order and never retries; without a group the callback gets the error', async () => {
    const { cluster } = await start();
    await produce(cluster, 'ledger', 30);
    const c = await consumer(cluster, { 'group.id': 'async', 'enable.auto.commit': false });
    c.assign([p0]);
    const order: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      for (let i = 1; i <= 20; i++) {
        c.commitAsync([{ ...p0, offset: i }], (error, offsets) => {
          if (error !== null) reject(error);
          order.push(offsets[0]!.offset);
          if (i === 20) resolve();
        });
      }
    });
    await done;
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await c.committed([p0]))[0]!.offset).toBe(20);

    const loner = await consumer(cluster);
    loner.assign([p0]);
    const error = await new Promise<Error | null>((resolve) => loner.commitAsync([{ ...p0, offset: 1 }], resolve));
    expect(error).toMatchObject({ code: 'ERR_INVALID_GROUP_ID' });
  });

  it('commitSync retries while the coordinator does not answer, and fails with a TimeoutError at its timeout', async () => {
    const { cluster, lines } = await start();
    await produce(cluster, 'ledger', 5);
    const c = await consumer(cluster, { 'group.id': 'patient', 'enable.auto.commit': false, 'request.timeout.ms': 300, 'fetch.max.wait.ms': 100 });
    c.assign([p0]);
    await pollUntil(c, (r) => r.length === 5);
    await cluster.broker().pause();
    const error = await c.commitSync(undefined, 1_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'ERR_COMMIT_TIMEOUT' });
    expect((error as Error).message).toContain('offsets of ledger-0 not committed');
    // Retried, then succeeds once the broker answers again.
    const committing = c.commitSync(undefined, 10_000);
    const deadline = Date.now() + 5_000;
    while (lines.filter((l) => l.msg === 'offset commit failed; retrying').length < 3) {
      if (Date.now() > deadline) throw new Error('no retry seen');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await cluster.broker().resume();
    await committing;
    expect((await c.committed([p0]))[0]!.offset).toBe(5);
  });

  it('a commit after the group moved on is a CommitFailedError', async () => {
    const { cluster, client } = await start();
    await produce(cluster, 'ledger', 5);
    const c = await consumer(cluster, { 'group.id': 'late', 'max.poll.interval.ms': 500, 'session.timeout.ms': 1_500, 'enable.auto.commit': false });
    c.subscribe(['ledger']);
    await pollUntil(c, (r) => r.length === 5);
    const admin = await client();
    const deadline = Date.now() + 5_000;
    while ((await describeGroup(admin, 'late')).groupState !== 'Empty') {
      if (Date.now() > deadline) throw new Error('the member did not leave');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await expect(c.commitSync()).rejects.toThrow(CommitFailedError);
    await expect(c.commitSync()).rejects.toThrow('poll again to rejoin');
  });

  it('committed offsets survive a broker restart', async () => {
    const { cluster, dataDir } = await start();
    await produce(cluster, 'ledger', 10);
    const c = await consumer(cluster, { 'group.id': 'durable', 'enable.auto.commit': false });
    c.subscribe(['ledger']);
    await pollUntil(c, (r) => r.length === 10);
    await c.commitSync([{ ...p0, offset: 6 }]);
    await c.close();
    await cluster.close();
    const again = await start({}, dataDir);
    const next = await consumer(again.cluster, { 'group.id': 'durable' });
    expect(await next.committed([p0])).toEqual([{ ...p0, offset: 6, metadata: '', leaderEpoch: -1 }]);
    next.subscribe(['ledger']);
    expect((await pollUntil(next, (r) => r.length === 4)).map((r) => r.offset)).toEqual([6, 7, 8, 9]);
  });

  it('at least once: a consumer killed hard mid-stream is replaced, the group re-delivers from the last commit and skips nothing', async () => {
    const { cluster, client } = await start();
    const perPartition = 1_000;
    await createTopic(await client(), 'stream', 2);
    await produce(cluster, 'stream', 2 * perPartition, { partitions: 2 });
    const config = { ...QUICK, 'group.id': 'alo', 'auto.commit.interval.ms': 50, 'max.poll.records': 20, 'session.timeout.ms': 600 };
    const processed = new SharedArrayBuffer(2 * perPartition * 4);
    const seen = new Int32Array(processed);
    const connector = exposeConnector((nodeId) => cluster.openConnection(nodeId));
    const worker = new Worker(new URL('../fixtures/consumer-worker.mjs', import.meta.url), {
      workerData: { connector: connector.port, config, topic: 'stream', processed, recordsPerPartition: perPartition },
      transferList: [connector.port],
    });
    const count = (): number => seen.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
    const deadline = Date.now() + 10_000;
    while (count() < 600) {
      if (Date.now() > deadline) throw new Error(`the worker consumer processed only ${count()} records`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await Promise.all([worker.terminate(), once(worker, 'exit')]);
    connector.close();
    const killedAt = count();
    expect(killedAt).toBeLessThan(2 * perPartition);

    const replacement = await consumer(cluster, { 'group.id': 'alo', 'max.poll.records': 100, 'enable.auto.commit': false });
    replacement.subscribe(['stream']);
    const first = new Map<number, number>();
    const until = Date.now() + 15_000;
    while (seen.some((v) => v === 0)) {
      if (Date.now() > until) throw new Error(`${seen.filter((v) => v === 0).length} records never came back`);
      for (const r of await replacement.poll(100)) {
        if (!first.has(r.partition)) first.set(r.partition, r.offset);
        seen[r.partition * perPartition + r.offset]! += 1;
      }
    }
    // Nothing skipped: every record was handled by one consumer or the other, some twice.
    expect(seen.every((v) => v > 0)).toBe(true);
    // The replacement started each partition exactly at the killed consumer's last commit.
    const committed = await replacement.committed([{ topic: 'stream', partition: 0 }, { topic: 'stream', partition: 1 }]);
    for (const partition of [0, 1]) expect(first.get(partition)).toBe(committed[partition]?.offset ?? 0);
  }, 30_000);

  it('a clean close commits what was consumed: the next member of the group goes on without a duplicate', async () => {
    const { cluster } = await start();
    await produce(cluster, 'ledger', 400);
    const a = await consumer(cluster, { 'group.id': 'relay', 'max.poll.records': 30 });
    a.subscribe(['ledger']);
    const first = await pollUntil(a, (r) => r.length >= 150);
    await a.close();
    const b = await consumer(cluster, { 'group.id': 'relay', 'max.poll.records': 30 });
    b.subscribe(['ledger']);
    const second = await pollUntil(b, (r) => first.length + r.length >= 400);
    const offsets = [...first, ...second].map((r) => r.offset);
    expect(offsets).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });
});
