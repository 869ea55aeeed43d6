import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OFFSET_INDEX, SparseIndex, TIME_INDEX } from '../../../src/shared/log/sparse-index.js';
import { useTempDirs } from './tmpdir.js';

const tempDir = useTempDirs();

describe('sparse index files', () => {
  it("writes Kafka's 8-byte offset index entries and finds the floor entry", () => {
    const path = join(tempDir(), '00000000000000000100.index');
    const index = SparseIndex.create(OFFSET_INDEX, path);
    index.append(10, 4_096);
    index.append(25, 8_200);
    index.close();
    expect(readFileSync(path).toString('hex')).toBe('0000000a00001000' + '0000001900002008');
    const reopened = SparseIndex.tryOpen(OFFSET_INDEX, path, 10_000)!;
    expect(reopened.floor(9)).toBeUndefined();
    expect(reopened.floor(10)).toEqual({ key: 10, value: 4_096 });
    expect(reopened.floor(24)).toEqual({ key: 10, value: 4_096 });
    expect(reopened.floor(1_000)).toEqual({ key: 25, value: 8_200 });
    reopened.close();
  });

  it("writes Kafka's 12-byte time index entries", () => {
    const path = join(tempDir(), '00000000000000000000.timeindex');
    const index = SparseIndex.create(TIME_INDEX, path);
    index.append(1_700_000_000_123, 7);
    index.close();
    expect(readFileSync(path).toString('hex')).toBe('0000018bcfe5687b' + '00000007');
  });

  it('refuses a damaged index so the caller rebuilds it', () => {
    const dir = tempDir();
    const path = join(dir, 'x.index');
    const index = SparseIndex.create(OFFSET_INDEX, path);
    index.append(10, 100);
    index.append(20, 200);
    index.close();
    expect(SparseIndex.tryOpen(OFFSET_INDEX, join(dir, 'missing.index'), 1_000)).toBeNull();
    expect(SparseIndex.tryOpen(OFFSET_INDEX, path, 150)).toBeNull(); // position past the log's end
    appendFileSync(path, Buffer.from([1, 2, 3])); // partial entry
    expect(SparseIndex.tryOpen(OFFSET_INDEX, path, 1_000)).toBeNull();
    writeFileSync(path, Buffer.from('0000001400000064' + '0000000a000000c8', 'hex')); // offsets go backwards
    expect(SparseIndex.tryOpen(OFFSET_INDEX, path, 1_000)).toBeNull();
  });

  it('truncates entries in memory and on disk', () => {
    const path = join(tempDir(), 'y.index');
    const index = SparseIndex.create(OFFSET_INDEX, path);
    for (let i = 1; i <= 5; i++) index.append(i * 10, i * 100);
    index.truncateWhile((relativeOffset) => relativeOffset < 30);
    expect(index.length).toBe(2);
    expect(readFileSync(path).length).toBe(16);
    index.append(31, 300);
    expect(index.floor(45)).toEqual({ key: 31, value: 300 });
    index.close();
  });
});
