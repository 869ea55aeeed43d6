// A Producer on an embedded broker: node examples/producer.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from 'ringlog';

const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-example-'));
const cluster = await startCluster({ dataDir });
// Kafka's option names (or camelCase: lingerMs), Kafka's defaults: acks=all, idempotence on.
const producer = await cluster.producer({ 'linger.ms': 5, valueSerializer: 'json' });

// One record: a promise of its RecordMetadata.
const first = await producer.send({ topic: 'orders', key: 'customer-1', value: { item: 'book', qty: 1 } });
console.log('orders', first.partition, first.offset); // orders 0 0

// Millions of records: the callback form, with back-pressure when buffer.memory is spent.
let acknowledged = 0;
for (let i = 0; i < 100_000; i++) {
  const accepted = producer.send({ topic: 'orders', key: `customer-${i % 10}`, value: { i } }, (error) => {
    if (error === null) acknowledged++;
    else console.error(error);
  });
  if (!accepted) await producer.drained();
}
await producer.flush(); // everything sent so far is acknowledged (or failed)
console.log('acknowledged', acknowledged); // acknowledged 100000

await producer.close();
await cluster.close();
rmSync(dataDir, { recursive: true });
