/**
 * Producer state snapshots, `<offset>.snapshot` in a partition directory, in Kafka's format
 * (ProducerStateManager, snapshot version 1): the producer state of every batch below `offset`.
 *
 *   version int16 (1) | crc uint32 (CRC-32C of everything after it) | entry count int32 |
 *   entries: producer_id int64, epoch int16, last_sequence int32, last_offset int64,
 *            offset_delta int32 (last offset - first offset), timestamp int64 (max timestamp),
 *            coordinator_epoch int32 (-1), current_txn_first_offset int64 (-1)
 *
 * Kafka writes one entry per producer, its last batch. Ringlog writes one entry per cached batch,
 * oldest first, so that a restart keeps all five batches for duplicate detection; a reader that
 * keeps one entry per producer id, as Kafka's does (the last one read wins), still gets the last
 * batch, so the files stay readable by Kafka's tools.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../crc32c.js';
import { CorruptRecordError } from '../errors.js';
import { readInt64Number, writeInt64Number } from '../record-batch/header.js';
import { writeFileAtomically } from './checkpoint.js';
import { decrementSequence, type ProducerEntry } from './producer-state.js';
import { fileOffsets, segmentFileName } from './segment.js';

export const SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_VERSION = 1;
const CRC_OFFSET = 2;
const ENTRIES_OFFSET = CRC_OFFSET + 4;
const HEADER_BYTES = ENTRIES_OFFSET + 4;
const ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;
const NO_COORDINATOR_EPOCH = -1;
const NO_TXN_OFFSET = -1;

export function encodeProducerSnapshot(entries: readonly ProducerEntry[]): Buffer {
  const count = entries.reduce((sum, e) => sum + e.batches.length, 0);
  const out = Buffer.alloc(HEADER_BYTES + count * ENTRY_BYTES);
  out.writeInt16BE(SNAPSHOT_VERSION, 0);
  out.writeInt32BE(count, ENTRIES_OFFSET);
  let at = HEADER_BYTES;
  for (const { producerId, epoch, batches } of entries) {
    for (const batch of batches) {
      writeInt64Number(out, at, producerId);
      out.writeInt16BE(epoch, at + 8);
      out.writeInt32BE(batch.lastSeq, at + 10);
      writeInt64Number(out, at + 14, batch.lastOffset);
      out.writeInt32BE(batch.lastOffset - batch.firstOffset, at + 22);
      writeInt64Number(out, at + 26, batch.maxTimestamp);
      out.writeInt32BE(NO_COORDINATOR_EPOCH, at + 34);
      writeInt64Number(out, at + 38, NO_TXN_OFFSET);
      at += ENTRY_BYTES;
    }
  }
  out.writeUInt32BE(crc32c(out, ENTRIES_OFFSET), CRC_OFFSET);
  return out;
}

/** The producers in a snapshot; a CorruptRecordError naming `source` when it is not one. */
export function decodeProducerSnapshot(bytes: Buffer, source: string): ProducerEntry[] {
  const fail = (why: string): never => { throw new CorruptRecordError(`producer snapshot ${source}: ${why}`); };
  if (bytes.length < HEADER_BYTES) fail(`${bytes.length} bytes, shorter than its header`);
  if (bytes.readInt16BE(0) !== SNAPSHOT_VERSION) fail(`unknown version ${bytes.readInt16BE(0)}`);
  if (bytes.readUInt32BE(CRC_OFFSET) !== crc32c(bytes, ENTRIES_OFFSET)) fail('CRC-32C mismatch');
  const count = bytes.readInt32BE(ENTRIES_OFFSET);
  if (count < 0 || bytes.length !== HEADER_BYTES + count * ENTRY_BYTES) fail(`${count} entries do not fill ${bytes.length} bytes`);
  const producers = new Map<number, ProducerEntry>();
  for (let at = HEADER_BYTES; at < bytes.length; at += ENTRY_BYTES) {
    const producerId = readInt64Number(bytes, at);
    const epoch = bytes.readInt16BE(at + 8);
    const lastSeq = bytes.readInt32BE(at + 10);
    const lastOffset = readInt64Number(bytes, at + 14);
    const offsetDelta = bytes.readInt32BE(at + 22);
    const maxTimestamp = readInt64Number(bytes, at + 26);
    let entry = producers.get(producerId);
    if (entry === undefined || entry.epoch !== epoch) {
      entry = { producerId, epoch, batches: [] };
      producers.set(producerId, entry);
    }
    // Kafka writes last_offset -1 for a producer with no batch left (an epoch with nothing written yet).
    if (lastOffset >= 0) {
      entry.batches.push({ firstSeq: decrementSequence(lastSeq, offsetDelta), lastSeq, firstOffset: lastOffset - offsetDelta, lastOffset, maxTimestamp });
    }
  }
  return [...producers.values()];
}

/**
 * Writes the snapshot at `offset` (temporary file and rename, so a killed process never leaves half
 * of one). Not fsynced: a roll would otherwise stall the log writer for milliseconds. A snapshot a
 * power loss damages fails its CRC at open and the one before it is used, with a longer scan.
 */
export function writeProducerSnapshot(dir: string, offset: number, entries: readonly ProducerEntry[]): void {
  writeFileAtomically(dir, segmentFileName(offset, SNAPSHOT_SUFFIX), encodeProducerSnapshot(entries), { fsync: false });
}

/** The snapshot offsets found in a partition directory, ascending. */
export function snapshotOffsets(dir: string): number[] {
  return fileOffsets(dir, SNAPSHOT_SUFFIX);
}

export function readProducerSnapshot(dir: string, offset: number): ProducerEntry[] {
  const path = join(dir, segmentFileName(offset, SNAPSHOT_SUFFIX));
  return decodeProducerSnapshot(readFileSync(path), path);
}

export function deleteProducerSnapshot(dir: string, offset: number): void {
  rmSync(join(dir, segmentFileName(offset, SNAPSHOT_SUFFIX)), { force: true });
}
