import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptRecordError, IllegalStateError } from '../../../src/shared/errors.js';
import {
  acquireDirectoryLock, markCleanShutdown, readCheckpoint, RECOVERY_POINT_CHECKPOINT, takeCleanShutdownMarker, writeCheckpoint,
} from '../../../src/shared/log/checkpoint.js';
import { useTempDirs } from './tmpdir.js';

const tempDir = useTempDirs();

describe('log directory files', () => {
  it("writes and reads Kafka's offset checkpoint format", () => {
    const dir = tempDir();
    writeCheckpoint(dir, RECOVERY_POINT_CHECKPOINT, new Map([
      ['orders-0', { topic: 'orders', partition: 0, offset: 42 }],
      ['my.topic-3', { topic: 'my.topic', partition: 3, offset: 7 }],
    ]));
    expect(readFileSync(join(dir, RECOVERY_POINT_CHECKPOINT), 'utf8')).toBe('0\n2\norders 0 42\nmy.topic 3 7\n');
    expect(readCheckpoint(dir, RECOVERY_POINT_CHECKPOINT)).toEqual(new Map([
      ['orders-0', { topic: 'orders', partition: 0, offset: 42 }],
      ['my.topic-3', { topic: 'my.topic', partition: 3, offset: 7 }],
    ]));
    expect(readCheckpoint(dir, 'absent')).toEqual(new Map());
  });

  it('names a malformed checkpoint instead of guessing', () => {
    const dir = tempDir();
    writeFileSync(join(dir, RECOVERY_POINT_CHECKPOINT), '0\n3\norders 0 42\n');
    expect(() => readCheckpoint(dir, RECOVERY_POINT_CHECKPOINT)).toThrow(CorruptRecordError);
    expect(() => readCheckpoint(dir, RECOVERY_POINT_CHECKPOINT)).toThrow('says 3 entries, has 1');
  });

  it('refuses a second lock on a directory while its holder lives, and takes over a stale one', () => {
    const dir = tempDir();
    const release = acquireDirectoryLock(dir);
    expect(() => acquireDirectoryLock(dir)).toThrow(IllegalStateError);
    release();
    // A lock left by a process that has exited is stale.
    const child = spawnSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(join(dir, '.lock'))}, String(process.pid))`]);
    expect(child.status).toBe(0);
    expect(Number(readFileSync(join(dir, '.lock'), 'utf8'))).toBe(child.pid);
    const again = acquireDirectoryLock(dir);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
    again();
  });

  it('marks and consumes a clean shutdown', () => {
    const dir = tempDir();
    expect(takeCleanShutdownMarker(dir)).toBe(false);
    markCleanShutdown(dir);
    expect(takeCleanShutdownMarker(dir)).toBe(true);
    expect(takeCleanShutdownMarker(dir)).toBe(false);
  });
});
