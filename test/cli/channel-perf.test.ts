import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;

// The tool's output contract, not its speed: timing goals live in the benchmark, not in tests.
describe('ringlog channel-perf', () => {
  it('prints one JSON object with the figures as the last line of stdout', async () => {
    const { stdout } = await run(process.execPath, [bin, 'channel-perf', '--messages', '20000', '--round-trips', '200', '--json']);
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines.at(-1)!) as Record<string, number>;
    for (const key of ['ringMsgsPerSec', 'ringUncorkedMsgsPerSec', 'postMessageMsgsPerSec', 'ratio', 'ringRttP50Us', 'ringRttP99Us', 'postMessageRttP50Us', 'postMessageRttP99Us']) {
      expect(result[key], key).toBeGreaterThan(0);
    }
    expect(result.messages).toBe(20_000);
    expect(result.sizeBytes).toBe(128);
    expect(lines.length).toBeGreaterThan(1);
  });

  it('rejects a bad flag with a message naming it and exit code 2', async () => {
    const error = await run(process.execPath, [bin, 'channel-perf', '--messages', 'many']).catch((e: unknown) => e);
    expect((error as { code: number }).code).toBe(2);
    expect((error as { stderr: string }).stderr).toContain("--messages must be a positive integer, got 'many'");
  });
});
