import { describe, expect, it } from 'vitest';
import { expectPromisedBatches, runThenKill } from '../fixtures/kill-after-acks.js';
import { useTempDirs } from '../shared/log/tmpdir.js';

const tempDir = useTempDirs();
const appender = new URL('../fixtures/log-appender.mjs', import.meta.url).pathname;
const ROUNDS = 20;

describe('log writer under SIGKILL', () => {
  it.each([
    ['written to the OS (flush.messages default)', Number.MAX_SAFE_INTEGER],
    ['fsynced (flush.messages=1)', 1],
  ])(`keeps every batch acknowledged as %s, over ${ROUNDS} kills`, async (_, flushMessages) => {
    const logDir = tempDir();
    let promised = 0;
    let checked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      promised = Math.max(promised, await runThenKill(appender, [logDir, String(flushMessages)], 1 + Math.floor(Math.random() * 6)));
      // Each round checks what it newly promised; the last checks the whole log once more.
      const from = round === ROUNDS - 1 ? 0 : checked;
      await expectPromisedBatches(logDir, 'acked', from, promised, `after round ${round}`);
      checked = promised;
    }
    expect(promised).toBeGreaterThan(0);
  }, 120_000); // 20 child processes; a loaded 2-core machine needs far longer than the ~15 s it usually takes
});
