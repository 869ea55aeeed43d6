// The Admin client on an embedded broker: node examples/admin.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceError, startCluster } from 'ringlog';

const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-example-'));
const cluster = await startCluster({ dataDir, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
// Embedded; createAdmin({ bootstrapServers: 'host:port' }) is the same Admin over TCP, to any Kafka.
const admin = await cluster.admin({ 'default.api.timeout.ms': 60_000 });

await admin.createTopics([{ name: 'orders', numPartitions: 2 }]);
try {
  await admin.createTopics([{ name: 'orders' }, { name: 'bad name' }]);
} catch (error) {
  if (!(error instanceof ResourceError)) throw error;
  for (const { resource, errorName } of error.failures) console.log(resource, errorName); // orders TOPIC_ALREADY_EXISTS, ...
}
const [orders] = await admin.describeTopics(['orders']);
console.log(orders.name, orders.partitions.map((p) => `partition ${p.partition} led by ${p.leader}`).join(', '));

const producer = await cluster.producer();
for (let i = 0; i < 5; i++) await producer.send({ topic: 'orders', partition: 0, value: `order ${i}` });
await producer.close();
const [end] = await admin.listOffsets([{ topic: 'orders', partition: 0, spec: 'latest' }]); // or 'earliest', { timestamp }
console.log('orders-0 ends at', end.offset);

const consumer = await cluster.consumer({ 'group.id': 'billing', 'auto.offset.reset': 'earliest', 'enable.auto.commit': false });
consumer.subscribe(['orders']);
for (let read = 0; read < 5;) read += (await consumer.poll(1_000)).length;
await consumer.commitSync();
const [billing] = await admin.describeConsumerGroups(['billing']);
console.log(billing.groupId, billing.state, billing.protocol, billing.members[0].assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(' '));
for (const { topic, partition, offset } of await admin.listConsumerGroupOffsets('billing')) console.log('committed', `${topic}-${partition}`, offset);
await consumer.close();

await admin.close();
await cluster.close();
rmSync(dataDir, { recursive: true });
