import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG, PartitionLog } from '../../src/shared/log/partition-log.js';
import { batchAt, RECORDS_PER_BATCH } from '../fixtures/log-appender-batches.mjs';
import { useTempDirs } from '../shared/log/tmpdir.js';

const tempDir = useTempDirs();
const producer = new URL('../fixtures/broker-producer.mjs', import.meta.url).pathname;
const ROUNDS = 20;

/** Runs the producer, SIGKILLs it after `killAfterAcks` acknowledgements; returns the last acknowledged end offset. */
async function produceThenKill(dataDir: string, killAfterAcks: number): Promise<number> {
  const child = spawn(process.execPath, [producer, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  return acked;
}

describe('broker under SIGKILL', () => {
  it(`keeps every record acknowledged with acks=1, byte for byte, over ${ROUNDS} kills`, async () => {
    const dataDir = tempDir();
    let promised = 0;
    for (let round = 0; round < ROUNDS; round++) {
      promised = Math.max(promised, await produceThenKill(dataDir, 1 + Math.floor(Math.random() * 40)));
      const { log } = PartitionLog.open(dataDir, 'acked', 0, DEFAULT_LOG_CONFIG, { recoveryPoint: 0, logStartOffset: 0, cleanShutdown: false });
      try {
        expect(log.logEndOffset, `after round ${round}`).toBeGreaterThanOrEqual(promised);
        for (let offset = 0; offset < promised; offset += RECORDS_PER_BATCH) {
          expect(log.read(offset, 1)!.equals(await batchAt(offset)), `batch at ${offset} after round ${round}`).toBe(true);
        }
      } finally {
        log.close();
      }
    }
    expect(promised).toBeGreaterThan(0);
  }, 60_000);
});
