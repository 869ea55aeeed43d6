import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, PartitionLog } from '../../src/shared/log/partition-log.js';
import { batchAt, RECORDS_PER_BATCH } from '../fixtures/log-appender-batches.mjs';
import { useTempDirs } from '../shared/log/tmpdir.js';

const tempDir = useTempDirs();
const appender = new URL('../fixtures/log-appender.mjs', import.meta.url).pathname;
const ROUNDS = 20;

/** Runs the appender, SIGKILLs it after `killAfterAcks` acknowledgements, returns the last one it printed. */
async function appendThenKill(logDir: string, flushMessages: number, killAfterAcks: number): Promise<number> {
  const child = spawn(process.execPath, [appender, logDir, String(flushMessages)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let acked = -1;
  let acks = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const [kind, value] = line.split(' ');
    acked = Number(value);
    if (kind === 'acked' && ++acks === killAfterAcks) {
      child.kill('SIGKILL');
      break;
    }
  }
  await exited;
  return acked; // anything acknowledged after this line was never seen by anyone
}

describe('log writer under SIGKILL', () => {
  it.each([
    ['written to the OS (flush.messages default)', Number.MAX_SAFE_INTEGER],
    ['fsynced (flush.messages=1)', 1],
  ])(`keeps every batch acknowledged as %s, over ${ROUNDS} kills`, async (_, flushMessages) => {
    const logDir = tempDir();
    let promised = 0;
    for (let round = 0; round < ROUNDS; round++) {
      promised = Math.max(promised, await appendThenKill(logDir, flushMessages, 1 + Math.floor(Math.random() * 6)));
      const { log } = PartitionLog.open(logDir, 'acked', 0, { ...DEFAULT_LOG_CONFIG, segmentBytes: 256 * 1024 }, {
        recoveryPoint: 0, logStartOffset: 0, cleanShutdown: false,
      });
      try {
        expect(log.logEndOffset).toBeGreaterThanOrEqual(promised);
        for (let offset = 0; offset < promised; offset += RECORDS_PER_BATCH) {
          expect(log.read(offset, 1)!.equals(await batchAt(offset)), `batch at ${offset} after round ${round}`).toBe(true);
        }
      } finally {
        log.close();
      }
    }
    expect(promised).toBeGreaterThan(0);
  }, 30_000);
});
