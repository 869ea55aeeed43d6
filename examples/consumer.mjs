// A Consumer in a group on an embedded broker: node examples/consumer.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from 'ringlog';

const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-example-'));
// As Kafka's shipped server.properties: the first rebalance of a group does not wait 3 s for more members.
const cluster = await startCluster({ dataDir, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
const producer = await cluster.producer({ valueSerializer: 'json' });
for (let i = 0; i < 10; i++) await producer.send({ topic: 'orders', key: `customer-${i % 3}`, value: { order: i } });
await producer.close();

// In a group: partitions come from the group's assignor; the listener runs inside poll().
const consumer = await cluster.consumer({
  'group.id': 'billing', 'auto.offset.reset': 'earliest', keyDeserializer: 'string', valueDeserializer: 'json',
});
consumer.subscribe(['orders'], {
  onPartitionsAssigned: (partitions) => console.log('assigned', partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')),
  onPartitionsRevoked: (partitions) => console.log('revoked', partitions.length),
});
let seen = 0;
while (seen < 10) {
  for (const record of await consumer.poll(1_000)) { // at most max.poll.records, in offset order
    if (seen++ < 2) console.log(record.key, record.value, 'at', record.offset);
  }
}
await consumer.commitSync(); // the positions poll() reached (auto-commit also commits every 5 s)
console.log('committed', (await consumer.committed([{ topic: 'orders', partition: 0 }]))[0].offset);
await consumer.close(); // commits, revokes, and leaves the group at once

// Without a group: assign partitions and iterate.
const reader = await cluster.consumer({ 'auto.offset.reset': 'earliest', valueDeserializer: 'json' });
reader.assign([{ topic: 'orders', partition: 0 }]);
for await (const record of reader) {
  if (record.offset === 9) {
    console.log('last order', record.value.order);
    break;
  }
}
await reader.close();
await cluster.close();
rmSync(dataDir, { recursive: true });
