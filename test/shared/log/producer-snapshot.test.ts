import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError } from '../../../src/shared/errors.js';
import {
  decodeProducerSnapshot, deleteProducerSnapshot, encodeProducerSnapshot, readProducerSnapshot, snapshotOffsets, writeProducerSnapshot,
} from '../../../src/shared/log/producer-snapshot.js';
import type { ProducerEntry } from '../../../src/shared/log/producer-state.js';
import { crc32c } from '../../../src/shared/crc32c.js';
import { useTempDirs } from './tmpdir.js';

const tempDir = useTempDirs();
const T0 = 1_700_000_000_000;

const producers: ProducerEntry[] = [
  { producerId: 1_000, epoch: 3, batches: [
    { firstSeq: 0, lastSeq: 4, firstOffset: 10, lastOffset: 14, maxTimestamp: T0 },
    { firstSeq: 5, lastSeq: 5, firstOffset: 20, lastOffset: 20, maxTimestamp: T0 + 5 },
  ] },
  // A batch whose sequences wrapped past Int32 max.
  { producerId: 2 ** 50, epoch: 0, batches: [{ firstSeq: 0x7fff_fffe, lastSeq: 1, firstOffset: 30, lastOffset: 33, maxTimestamp: T0 + 9 }] },
];

describe('producer snapshot', () => {
  it("writes Kafka's version-1 layout: version, CRC-32C of the rest, then 46-byte entries, one per cached batch", () => {
    const bytes = encodeProducerSnapshot(producers);
    expect(bytes.length).toBe(2 + 4 + 4 + 3 * 46);
    expect(bytes.readInt16BE(0)).toBe(1);
    expect(bytes.readUInt32BE(2)).toBe(crc32c(bytes, 6));
    expect(bytes.readInt32BE(6)).toBe(3);
    // The last entry of producer 1000 is its newest batch: what Kafka's reader keeps.
    const second = 10 + 46;
    expect([bytes.readBigInt64BE(second), bytes.readInt16BE(second + 8), bytes.readInt32BE(second + 10), bytes.readBigInt64BE(second + 14)])
      .toEqual([1_000n, 3, 5, 20n]);
    expect([bytes.readInt32BE(second + 22), bytes.readBigInt64BE(second + 26), bytes.readInt32BE(second + 34), bytes.readBigInt64BE(second + 38)])
      .toEqual([0, BigInt(T0 + 5), -1, -1n]);
    expect(decodeProducerSnapshot(bytes, 'test')).toEqual(producers);
  });

  it('refuses a snapshot whose bytes changed, naming it', () => {
    const bytes = encodeProducerSnapshot(producers);
    bytes[20]! ^= 0x01;
    expect(() => decodeProducerSnapshot(bytes, 'x.snapshot')).toThrow(CorruptRecordError);
    expect(() => decodeProducerSnapshot(bytes, 'x.snapshot')).toThrow('producer snapshot x.snapshot: CRC-32C mismatch');
    expect(() => decodeProducerSnapshot(bytes.subarray(0, 8), 'short')).toThrow('shorter than its header');
  });

  it('names files by offset, lists them in order, and leaves no temporary file', () => {
    const dir = tempDir();
    writeProducerSnapshot(dir, 300, producers);
    writeProducerSnapshot(dir, 20, []);
    writeFileSync(join(dir, '00000000000000000020.log'), '');
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000020.log', '00000000000000000020.snapshot', '00000000000000000300.snapshot']);
    expect(snapshotOffsets(dir)).toEqual([20, 300]);
    expect(readProducerSnapshot(dir, 300)).toEqual(producers);
    expect(readProducerSnapshot(dir, 20)).toEqual([]);
    deleteProducerSnapshot(dir, 20);
    expect(existsSync(join(dir, '00000000000000000020.snapshot'))).toBe(false);
  });
});
