/**
 * Encoding one record of a RecordBatch v2 (Kafka's DefaultRecord): its exact size, its worst-case
 * size, and writing it at a position. The builder sizes a record once, checks room, then writes.
 */
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../varint.js';
import { MAX_RECORD_OVERHEAD, NULL_LENGTH, RECORD_BATCH_OVERHEAD } from './layout.js';

export interface RecordHeader {
  key: string;
  /** null is a null header value, distinct from an empty one. */
  value: Uint8Array | null;
}

function sizeOfNullableBytes(bytes: Uint8Array | null): number {
  return bytes === null ? 1 : sizeOfVarint(bytes.length) + bytes.length;
}

/** Bytes of the headers section: count, then each key (UTF-8) and value with their lengths. */
export function sizeOfHeadersInBytes(headers: readonly RecordHeader[]): number {
  let size = sizeOfVarint(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i];
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    size += sizeOfVarint(keyBytes) + keyBytes + sizeOfNullableBytes(header.value);
  }
  return size;
}

/** Bytes after the length prefix: attributes, deltas, key, value, headers. */
export function sizeOfRecordBodyInBytes(
  offsetDelta: number,
  timestampDelta: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headersBytes: number,
): number {
  return 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta) + sizeOfNullableBytes(key) + sizeOfNullableBytes(value) + headersBytes;
}

/** Whole record bytes, length prefix included (Kafka's DefaultRecord.sizeInBytes). */
export function sizeOfRecordInBytes(
  offsetDelta: number,
  timestampDelta: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): number {
  const body = sizeOfRecordBodyInBytes(offsetDelta, timestampDelta, key, value, sizeOfHeadersInBytes(headers));
  return sizeOfVarint(body) + body;
}

/**
 * An upper bound on the bytes of a batch holding just this record, whatever its deltas
 * (Kafka's estimateBatchSizeUpperBound): what to allocate when a record is bigger than batch.size.
 */
export function batchSizeUpperBoundInBytes(key: Uint8Array | null, value: Uint8Array | null, headers: readonly RecordHeader[]): number {
  return RECORD_BATCH_OVERHEAD + MAX_RECORD_OVERHEAD + sizeOfNullableBytes(key) + sizeOfNullableBytes(value) + sizeOfHeadersInBytes(headers);
}

function writeNullableBytes(buf: Buffer, position: number, bytes: Uint8Array | null): number {
  if (bytes === null) return writeVarint(buf, position, NULL_LENGTH);
  const pos = writeVarint(buf, position, bytes.length);
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * Writes a record whose body size (sizeOfRecordBodyInBytes) is `bodyBytes` at `position`; returns
 * the position after it. The caller has checked that it fits.
 */
export function writeRecord(
  buf: Buffer,
  position: number,
  bodyBytes: number,
  offsetDelta: number,
  timestampDelta: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: readonly RecordHeader[],
): number {
  let pos = writeVarint(buf, position, bodyBytes);
  buf[pos++] = 0; // record attributes: unused by Kafka, always 0
  pos = writeVarlong(buf, pos, timestampDelta);
  pos = writeVarint(buf, pos, offsetDelta);
  pos = writeNullableBytes(buf, pos, key);
  pos = writeNullableBytes(buf, pos, value);
  pos = writeVarint(buf, pos, headers.length);
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i];
    const keyBytes = Buffer.byteLength(header.key, 'utf8');
    pos = writeVarint(buf, pos, keyBytes);
    pos += buf.write(header.key, pos, keyBytes, 'utf8');
    pos = writeNullableBytes(buf, pos, header.value);
  }
  return pos;
}
