/**
 * ringlog's public entry point: `import { startCluster, ... } from 'ringlog'`. The actor runtime
 * has its own entry, `ringlog/actors`. Type-only exports are listed apart.
 */
export { startCluster, Cluster, BrokerLink } from './actors/cluster.js';
export type { ClusterOptions } from './actors/cluster.js';
export { Producer } from './actors/producer.js';
export type { ProducerConfig, ProducerExtras, ProducerInterceptor, ProducerRecord, RecordMetadata, SendCallback } from './actors/producer.js';
export { PRODUCER_OPTIONS, resolveProducerOptions } from './shared/producer-config.js';
export type { ProducerOptions } from './shared/producer-config.js';
export { Consumer } from './actors/consumer.js';
export type {
  CommitCallback, ConsumerConfig, ConsumerExtras, ConsumerInterceptor, ConsumerRebalanceListener, ConsumerRecord, TopicPartition, TopicPartitionOffset,
} from './actors/consumer.js';
export { CONSUMER_OPTIONS, resolveConsumerOptions } from './shared/consumer-config.js';
export type { AssignorName, ConsumerOptions } from './shared/consumer-config.js';
export type { ConsumerHeader, DeserializerFunction, DeserializerSpec } from './shared/serializers.js';
export { partitionForKey } from './shared/partitioner.js';
export type { PartitionerFunction } from './shared/partitioner.js';
export type { HeadersInput, SerializerFunction, SerializerSpec } from './shared/serializers.js';
export { Admin } from './actors/admin.js';
export type { AdminCallOptions, AdminConfig, CreateTopicsOptions, ListTopicsOptions } from './actors/admin.js';
export type { NewTopic, OffsetQuery, OffsetSpec } from './actors/admin-input.js';
export type { CreatedTopic, ListedOffset, PartitionInfo, TopicDescription, TopicListing } from './actors/admin-topics.js';
export type { ConsumerGroupDescription, ConsumerGroupListing, GroupOffset, MemberDescription } from './actors/admin-groups.js';
export { ADMIN_OPTIONS, resolveAdminOptions } from './shared/admin-config.js';
export type { AdminOptions } from './shared/admin-config.js';
export { EmbeddedConnection } from './actors/embedded-connection.js';
export { KafkaClient } from './actors/kafka-client.js';
export { createProducer, createConsumer, createAdmin, connectClient } from './actors/tcp-clients.js';
export { TcpTransport, ReconnectBackoff } from './actors/tcp-transport.js';
export type { TcpTransportOptions } from './actors/tcp-transport.js';
export { ListenError } from './actors/tcp-listener.js';
export { InvalidFrameError } from './shared/frame-reader.js';
export type { KafkaClientOptions, KafkaTransport } from './actors/kafka-client.js';
export type { BrokerStatus } from './actors/broker-protocol.js';
export { BROKER_OPTIONS, resolveBrokerOptions } from './shared/broker-config.js';
export type { BrokerOptions } from './shared/broker-config.js';
export { parseProperties } from './shared/config.js';
export * from './shared/errors.js';

// Kafka's formats: the wire protocol, record batches, and the hashes the producer and broker use.
export {
  ApiKeys, ErrorCodes, SUPPORTED_APIS, decodeRequest, decodeResponse, encodeRequest, encodeResponse, kafkaError,
} from './shared/protocol/index.js';
export type { Body as ProtocolBody } from './shared/protocol/index.js';
export { RecordBatchBuilder, readBatchHeader, readRecords, scanBatches, registerCodec, Compression } from './shared/record-batch/index.js';
export type { RecordInput, RecordBatchHeader, ReadRecord, CompressionCodec } from './shared/record-batch/index.js';
export { compressBatchSync, decompressBatchSync } from './shared/record-batch/batch-compression.js';
export { CompressionPool } from './shared/compression-pool.js';
export type { CompressionPoolOptions } from './shared/compression-pool.js';
export { crc32c } from './shared/crc32c.js';
export { murmur2, toPositive } from './shared/murmur2.js';
