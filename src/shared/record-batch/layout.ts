/**
 * RecordBatch v2 (magic 2) layout, declared once. Every other file indexes a batch through these
 * names. Source: Kafka's DefaultRecordBatch / DefaultRecord (see shared/reference/kafka-facts.md §2).
 *
 *   offset  field                 type     notes
 *        0  baseOffset            int64    assigned by the broker (patched; outside the CRC)
 *        8  batchLength           int32    bytes after this field = total size - LOG_OVERHEAD
 *       12  partitionLeaderEpoch  int32    set by the broker; -1 = none; outside the CRC
 *       16  magic                 int8     2
 *       17  crc                   uint32   CRC-32C of bytes [21, end)
 *       21  attributes            int16    compression | timestampType | transactional | control | deleteHorizon
 *       23  lastOffsetDelta       int32
 *       27  baseTimestamp         int64    first record's timestamp (-1 when empty)
 *       35  maxTimestamp          int64    largest record timestamp, or the log-append time
 *       43  producerId            int64    -1 = none
 *       51  producerEpoch         int16    -1 = none
 *       53  baseSequence          int32    -1 = none
 *       57  recordsCount          int32
 *       61  records…                       compressed as a whole when the compression bits say so
 *
 *   record = length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
 *            keyLength:varint key valueLength:varint value headersCount:varint headers…
 *   header = keyLength:varint key(UTF-8) valueLength:varint value     (-1 length = null)
 *
 * All fixed-width integers are big-endian.
 */

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = BASE_OFFSET_OFFSET + 8;
export const PARTITION_LEADER_EPOCH_OFFSET = BATCH_LENGTH_OFFSET + 4;
export const MAGIC_OFFSET = PARTITION_LEADER_EPOCH_OFFSET + 4;
export const CRC_OFFSET = MAGIC_OFFSET + 1;
export const ATTRIBUTES_OFFSET = CRC_OFFSET + 4;
export const LAST_OFFSET_DELTA_OFFSET = ATTRIBUTES_OFFSET + 2;
export const BASE_TIMESTAMP_OFFSET = LAST_OFFSET_DELTA_OFFSET + 4;
export const MAX_TIMESTAMP_OFFSET = BASE_TIMESTAMP_OFFSET + 8;
export const PRODUCER_ID_OFFSET = MAX_TIMESTAMP_OFFSET + 8;
export const PRODUCER_EPOCH_OFFSET = PRODUCER_ID_OFFSET + 8;
export const BASE_SEQUENCE_OFFSET = PRODUCER_EPOCH_OFFSET + 2;
export const RECORDS_COUNT_OFFSET = BASE_SEQUENCE_OFFSET + 4;
export const RECORDS_OFFSET = RECORDS_COUNT_OFFSET + 4;

/** Bytes of the batch header, up to and including recordsCount (61). */
export const RECORD_BATCH_OVERHEAD = RECORDS_OFFSET;
/** baseOffset + batchLength: the bytes that batchLength does not count (12). */
export const LOG_OVERHEAD = BATCH_LENGTH_OFFSET + 4;
/** The smallest legal batchLength: a header with no records (49). */
export const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD;
/** The CRC covers attributes to the end of the batch. */
export const CRC_START_OFFSET = ATTRIBUTES_OFFSET;

export const MAGIC_V2 = 2;

/** Compression ids of attribute bits 0-2 (Kafka's CompressionType). */
export const Compression = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
} as const;
export type CompressionId = (typeof Compression)[keyof typeof Compression];

/** Names for messages, indexed by compression id. */
export const COMPRESSION_NAMES: Readonly<Record<number, string>> = {
  [Compression.none]: 'none',
  [Compression.gzip]: 'gzip',
  [Compression.snappy]: 'snappy',
  [Compression.lz4]: 'lz4',
  [Compression.zstd]: 'zstd',
};

/** Attribute bit 3 (Kafka's TimestampType). */
export const TimestampType = {
  createTime: 0,
  logAppendTime: 1,
} as const;
export type TimestampTypeId = (typeof TimestampType)[keyof typeof TimestampType];

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_FLAG_MASK = 0x10;
export const CONTROL_FLAG_MASK = 0x20;
export const DELETE_HORIZON_FLAG_MASK = 0x40;

export const NO_TIMESTAMP = -1;
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

/** Length written for a null key, value or header value. */
export const NULL_LENGTH = -1;

/**
 * The smallest possible record: length, attributes, timestampDelta, offsetDelta, keyLength,
 * valueLength and headersCount, one byte each.
 */
export const MIN_RECORD_BYTES = 7;
/** Worst-case record bytes besides key, value and headers: 5 length + 1 attributes + 10 timestamp + 5 offset (Kafka's MAX_RECORD_OVERHEAD). */
export const MAX_RECORD_OVERHEAD = 21;
