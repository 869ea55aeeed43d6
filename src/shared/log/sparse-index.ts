/**
 * SparseIndex: a segment's `.index` or `.timeindex` file, in Kafka's layouts (big-endian):
 *
 *   .index      8-byte entries   relativeOffset:int32 | position:int32     (position in the .log)
 *   .timeindex  12-byte entries  timestamp:int64      | relativeOffset:int32
 *
 * Both are sorted by their first column, and both columns strictly increase. Entries are appended
 * (Kafka preallocates and trims on roll; the trimmed file is these same bytes) and mirrored in
 * memory for binary search. New entries reach the file in one write per flushPending(), which
 * the segment calls after the log bytes they point at are written. Neither file is checksummed: a damaged one is detected on open and
 * rebuilt from the log. Owned by one thread.
 */
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { GrowableIndex } from './growable-index.js';

export interface IndexLayout {
  readonly suffix: '.index' | '.timeindex';
  readonly entryBytes: number;
  write(buffer: Buffer, key: number, value: number): void;
  readKey(buffer: Buffer, at: number): number;
  readValue(buffer: Buffer, at: number): number;
}

export const OFFSET_INDEX: IndexLayout = {
  suffix: '.index',
  entryBytes: 8,
  write: (b, relativeOffset, position) => { b.writeInt32BE(relativeOffset, 0); b.writeInt32BE(position, 4); },
  readKey: (b, at) => b.readInt32BE(at),
  readValue: (b, at) => b.readInt32BE(at + 4),
};

export const TIME_INDEX: IndexLayout = {
  suffix: '.timeindex',
  entryBytes: 12,
  write: (b, timestamp, relativeOffset) => { b.writeBigInt64BE(BigInt(timestamp), 0); b.writeInt32BE(relativeOffset, 8); },
  readKey: (b, at) => Number(b.readBigInt64BE(at)),
  readValue: (b, at) => b.readInt32BE(at + 8),
};

export class SparseIndex {
  readonly layout: IndexLayout;
  readonly path: string;
  readonly #entries = new GrowableIndex(2);
  #pending: Buffer;
  #pendingEntries = 0;
  #fd: number;

  private constructor(layout: IndexLayout, path: string, fd: number) {
    this.layout = layout;
    this.path = path;
    this.#fd = fd;
    this.#pending = Buffer.alloc(layout.entryBytes * 64);
  }

  /** Creates an empty index file, replacing whatever was there. */
  static create(layout: IndexLayout, path: string): SparseIndex {
    return new SparseIndex(layout, path, openSync(path, 'w+'));
  }

  /**
   * Opens an existing index. Returns null when it is missing or damaged: a partial entry, a column
   * that does not strictly increase, or a value at or past `valueLimit` (the log's size for an
   * offset index, the segment's relative next offset for a time index). The caller rebuilds it.
   */
  static tryOpen(layout: IndexLayout, path: string, valueLimit: number): SparseIndex | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return null;
    }
    if (bytes.length % layout.entryBytes !== 0) return null;
    const index = new SparseIndex(layout, path, openSync(path, 'r+'));
    let lastKey = -Infinity;
    let lastValue = -Infinity;
    for (let at = 0; at < bytes.length; at += layout.entryBytes) {
      const key = layout.readKey(bytes, at);
      const value = layout.readValue(bytes, at);
      if (key <= lastKey || value <= lastValue || value < 0 || value >= valueLimit) {
        index.close();
        return null;
      }
      index.#entries.push(key, value);
      lastKey = key;
      lastValue = value;
    }
    return index;
  }

  get length(): number {
    return this.#entries.length;
  }

  /** The last entry, or undefined when empty. */
  last(): { key: number; value: number } | undefined {
    const n = this.#entries.length;
    return n === 0 ? undefined : { key: this.#entries.get(n - 1, 0), value: this.#entries.get(n - 1, 1) };
  }

  /** The last entry's key, or undefined when empty (last() without the object, for the append path). */
  lastKey(): number | undefined {
    const n = this.#entries.length;
    return n === 0 ? undefined : this.#entries.get(n - 1, 0);
  }

  /** Adds an entry, in memory now and on disk at the next flushPending(). */
  append(key: number, value: number): void {
    const at = this.#pendingEntries * this.layout.entryBytes;
    if (at + this.layout.entryBytes > this.#pending.length) {
      const grown = Buffer.alloc(this.#pending.length * 2);
      this.#pending.copy(grown, 0, 0, at);
      this.#pending = grown;
    }
    this.layout.write(this.#pending.subarray(at), key, value);
    this.#pendingEntries++;
    this.#entries.push(key, value);
  }

  /** Writes the entries added since the last call, with one system call. */
  flushPending(): void {
    if (this.#pendingEntries === 0) return;
    const bytes = this.#pendingEntries * this.layout.entryBytes;
    const position = (this.#entries.length - this.#pendingEntries) * this.layout.entryBytes;
    for (let done = 0; done < bytes;) done += writeSync(this.#fd, this.#pending, done, bytes - done, position + done);
    this.#pendingEntries = 0;
  }

  /** The last entry whose key is <= `key`, or undefined when there is none. */
  floor(key: number): { key: number; value: number } | undefined {
    const i = this.#entries.lastAtOrBefore(0, key);
    return i < 0 ? undefined : { key: this.#entries.get(i, 0), value: this.#entries.get(i, 1) };
  }

  /** Keeps only the entries accepted by `keep`, which must hold for a prefix of the entries. */
  truncateWhile(keep: (key: number, value: number) => boolean): void {
    this.flushPending();
    let n = 0;
    while (n < this.#entries.length && keep(this.#entries.get(n, 0), this.#entries.get(n, 1))) n++;
    this.#entries.truncate(n);
    ftruncateSync(this.#fd, n * this.layout.entryBytes);
  }

  close(): void {
    if (this.#fd >= 0) {
      this.flushPending();
      closeSync(this.#fd);
    }
    this.#fd = -1;
  }
}
