/**
 * Files in a log directory beside the partition directories, in Kafka's formats:
 *
 *   recovery-point-offset-checkpoint, log-start-offset-checkpoint:
 *       line 1: version (0); line 2: entry count; then one line per partition: `topic partition offset`
 *   .kafka_cleanshutdown: present only after a clean shutdown; its presence skips recovery
 *   .lock: held by the running broker, so a second one on the same directory refuses to start
 *   <topic>-<partition>/partition.metadata: `version: 0` and `topic_id: <id>` lines, the id being
 *       Kafka's Uuid.toString(): 16 bytes in URL-safe base64 without padding
 *
 * Checkpoints are written to a temporary file, fsynced, and renamed over the old one, so a crash
 * leaves either the old or the new checkpoint, never half of one (writeFileAtomically).
 */
import { closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CorruptRecordError, IllegalStateError } from '../errors.js';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const LOCK_FILE = '.lock';

const CHECKPOINT_VERSION = 0;

export interface CheckpointEntry {
  topic: string;
  partition: number;
  offset: number;
}

/** Keyed by `topic-partition` (partitionKey). */
export type OffsetCheckpoint = Map<string, CheckpointEntry>;

export function partitionKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function writeCheckpoint(dir: string, name: string, offsets: OffsetCheckpoint): void {
  const lines = [String(CHECKPOINT_VERSION), String(offsets.size)];
  for (const { topic, partition, offset } of offsets.values()) lines.push(`${topic} ${partition} ${offset}`);
  writeFileAtomically(dir, name, `${lines.join('\n')}\n`);
}

/**
 * Replaces `dir/name` with `data` so that a crash leaves the old file or the new one, never a mix:
 * write a temporary file, fsync it, rename it over the old one, fsync the directory (the rename).
 * With `fsync: false` only a killed process is covered, not a machine that loses power: for files
 * that carry their own checksum and can be rebuilt.
 */
export function writeFileAtomically(dir: string, name: string, data: string | Uint8Array, options: { fsync?: boolean } = {}): void {
  const durable = options.fsync ?? true;
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  if (!durable) return;
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Reads a checkpoint; a missing file is empty, a malformed one a CorruptRecordError naming it. */
export function readCheckpoint(dir: string, name: string): OffsetCheckpoint {
  let text: string;
  try {
    text = readFileSync(join(dir, name), 'utf8');
  } catch {
    return new Map();
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const fail = (why: string): never => { throw new CorruptRecordError(`${join(dir, name)}: ${why}`); };
  if (lines[0] !== String(CHECKPOINT_VERSION)) fail(`unknown version '${lines[0] ?? ''}'`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count !== lines.length - 2) fail(`says ${lines[1]} entries, has ${lines.length - 2}`);
  const result: OffsetCheckpoint = new Map();
  for (const line of lines.slice(2)) {
    const parts = line.trim().split(/\s+/);
    const partition = Number(parts[1]);
    const offset = Number(parts[2]);
    if (parts.length !== 3 || !Number.isSafeInteger(partition) || !Number.isSafeInteger(offset)) fail(`bad line '${line}'`);
    result.set(partitionKey(parts[0]!, partition), { topic: parts[0]!, partition, offset });
  }
  return result;
}

/**
 * Takes the directory's lock file, exclusively. A lock left by a process that is gone is taken
 * over; one held by a live process refuses with an IllegalStateError naming it.
 */
export function acquireDirectoryLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8'));
      if (Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new IllegalStateError(`data directory ${dir} is locked by running process ${holder} (${path}); a second broker may not use it`);
      }
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new IllegalStateError(`could not lock data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function markCleanShutdown(dir: string): void {
  writeFileSync(join(dir, CLEAN_SHUTDOWN_FILE), '');
}

/** Whether the last shutdown was clean; consumes the marker, which a running broker must not leave. */
export function takeCleanShutdownMarker(dir: string): boolean {
  try {
    rmSync(join(dir, CLEAN_SHUTDOWN_FILE));
    return true;
  } catch {
    return false;
  }
}

export const PARTITION_METADATA_FILE = 'partition.metadata';

/** A new topic id, as Kafka prints its Uuid: 16 random bytes in URL-safe base64. */
export function newTopicId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The topic id recorded in a partition directory; records `topicId` (or a new id) when there is
 * none yet. A recorded id that differs from a given one is an error naming both.
 */
export function readOrWriteTopicId(partitionDir: string, topicId: string | undefined): string {
  const path = join(partitionDir, PARTITION_METADATA_FILE);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const recorded = /^topic_id:\s*(\S+)\s*$/m.exec(text)?.[1];
    if (recorded === undefined) throw new CorruptRecordError(`${path}: no topic_id line`);
    if (topicId !== undefined && topicId !== recorded) {
      throw new IllegalStateError(`${path} records topic id ${recorded}, not ${topicId}`);
    }
    return recorded;
  }
  const id = topicId ?? newTopicId();
  writeFileSync(path, `version: 0\ntopic_id: ${id}`);
  return id;
}
