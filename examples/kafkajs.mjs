// KafkaJS, unchanged, against a ringlog broker over TCP, beside ringlog's own producer speaking
// TCP to the same address: node examples/kafkajs.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createProducer, startCluster } from 'ringlog';

const dataDir = mkdtempSync(join(tmpdir(), 'ringlog-example-'));
// port 0: any free port on 127.0.0.1. (`ringlog broker` listens on 127.0.0.1:9092.)
const cluster = await startCluster({ dataDir, port: 0, brokerConfig: { 'group.initial.rebalance.delay.ms': 0 } });
const kafka = new Kafka({ clientId: 'example', brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING });

const producer = kafka.producer();
await producer.connect();
await producer.send({ topic: 'greetings', messages: [{ key: 'kafkajs', value: 'hello from KafkaJS' }] });
await producer.disconnect();

// ringlog's producer with bootstrap.servers: its sender worker opens the sockets, as to any Kafka.
const ringlogProducer = await createProducer({ bootstrapServers: cluster.bootstrapServers });
await ringlogProducer.send({ topic: 'greetings', key: 'ringlog', value: 'hello from ringlog' });
await ringlogProducer.close();

const consumer = kafka.consumer({ groupId: 'example' });
await consumer.connect();
await consumer.subscribe({ topics: ['greetings'], fromBeginning: true });
let received = 0;
const done = new Promise((resolve) => {
  consumer.run({
    eachMessage: async ({ partition, message }) => {
      console.log(partition, message.offset, `${message.key}: ${message.value}`); // 0 0 kafkajs: hello from KafkaJS ...
      if (++received === 2) resolve();
    },
  });
});
await done;
await consumer.disconnect(); // commits the offsets, leaves the group

await cluster.close();
rmSync(dataDir, { recursive: true });
