import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// The README shows these files; they must keep running as shown.
describe('examples', () => {
  it('greeter.mjs answers from a worker thread', async () => {
    const { stdout } = await run(process.execPath, [new URL('../examples/greeter.mjs', import.meta.url).pathname]);
    expect(stdout).toContain('Hello, Kafka!');
    expect(stdout).toContain("kind: 'greeter'");
  });

  it('broker.mjs produces to and fetches from an embedded broker', async () => {
    const { stdout } = await run(process.execPath, [new URL('../examples/broker.mjs', import.meta.url).pathname], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(stdout).toBe('written at offset 0n\n0 hello\n1 kafka\n2 from\n3 ringlog\n');
  });

  it('producer.mjs sends with a promise and with callbacks, and flushes', async () => {
    const { stdout } = await run(process.execPath, [new URL('../examples/producer.mjs', import.meta.url).pathname], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(stdout).toBe('orders 0 0\nacknowledged 100000\n');
  });

  it('consumer.mjs consumes in a group with a rebalance listener, commits, and iterates an assigned partition', async () => {
    const { stdout } = await run(process.execPath, [new URL('../examples/consumer.mjs', import.meta.url).pathname], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(stdout).toBe("assigned orders-0\ncustomer-0 { order: 0 } at 0\ncustomer-1 { order: 1 } at 1\ncommitted 10\nrevoked 1\nlast order 9\n");
  });

  it('admin.mjs creates and describes topics, names refusals, lists offsets and describes a group', async () => {
    const { stdout } = await run(process.execPath, [new URL('../examples/admin.mjs', import.meta.url).pathname], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(stdout).toBe([
      'orders TOPIC_ALREADY_EXISTS', 'bad name INVALID_TOPIC_EXCEPTION', 'orders partition 0 led by 0, partition 1 led by 0', 'orders-0 ends at 5',
      'billing Stable range orders-0 orders-1', 'committed orders-0 5', 'committed orders-1 0', '',
    ].join('\n'));
  });

  it('kafkajs.mjs: KafkaJS and ringlog\'s producer over TCP, a KafkaJS consumer reads both', async () => {
    const { stdout } = await run(process.execPath, [new URL('../examples/kafkajs.mjs', import.meta.url).pathname], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    expect(stdout).toBe('0 0 kafkajs: hello from KafkaJS\n0 1 ringlog: hello from ringlog\n');
  });
});
