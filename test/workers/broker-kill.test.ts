import { describe, expect, it } from 'vitest';
import { expectPromisedBatches, runThenKill } from '../fixtures/kill-after-acks.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

const tempDir = useTempDirs();
const producer = new URL('../fixtures/broker-producer.mjs', import.meta.url).pathname;
const ROUNDS = 20;

describe('broker under SIGKILL', () => {
  it(`keeps every record acknowledged with acks=1, byte for byte, over ${ROUNDS} kills`, async () => {
    const dataDir = tempDir();
    let promised = 0;
    let checked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      promised = Math.max(promised, await runThenKill(producer, [dataDir], 1 + Math.floor(Math.random() * 40)));
      // Each round checks what it newly promised; the last checks the whole log once more.
      const from = round === ROUNDS - 1 ? 0 : checked;
      await expectPromisedBatches(dataDir, 'acked', from, promised, `after round ${round}`);
      checked = promised;
    }
    expect(promised).toBeGreaterThan(0);
  }, 120_000); // 20 child processes: bounded generously for a loaded 2-core machine
});
