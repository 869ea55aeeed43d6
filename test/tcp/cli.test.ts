import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../shared/log/tmpdir.js';
import { kcat, kcatVersion } from './kcat.js';

const tempDir = useTempDirs();
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts `ringlog broker`; resolves with its log lines once one matches `until` (or the process ended). */
async function broker(args: string[], until: RegExp): Promise<{ child: ChildProcess; lines: string[]; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, 'broker', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let all = '';
  child.stderr!.on('data', (chunk: Buffer) => { all += chunk.toString(); });
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stderr! })) {
    lines.push(line);
    if (until.test(line)) break;
  }
  return { child, lines, stderr: () => all };
}

const ready = /ringlog broker ready|EscalationError/;

describe('ringlog broker on TCP', () => {
  it('listens on 127.0.0.1:9092 by default (or says that port is taken)', async () => {
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => probe.once('error', () => resolve(false)).listen(9092, '127.0.0.1', () => resolve(true)));
    if (free) await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { lines } = await broker(['--data-dir', tempDir()], ready);
    if (free) expect(JSON.parse(lines.at(-1)!)).toMatchObject({ msg: 'ringlog broker ready', bootstrapServers: '127.0.0.1:9092' });
    else expect(lines.join('\n')).toContain('cannot listen on 127.0.0.1:9092');
  }, 30_000);

  it('--port 0 logs the ephemeral address it bound; SIGTERM closes the listener and stops cleanly', async () => {
    const { child, lines, stderr } = await broker(['--data-dir', tempDir(), '--port', '0'], ready);
    const { bootstrapServers } = JSON.parse(lines.at(-1)!) as { bootstrapServers: string };
    expect(bootstrapServers).toMatch(/^127\.0\.0\.1:\d+$/);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]); // exit code 0, not ended by a signal
    const listening = stderr().split('\n').filter((l) => l.includes('listening for Kafka clients')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(listening).toEqual([expect.objectContaining({ listening: bootstrapServers, advertised: bootstrapServers })]);
  }, 30_000);

  it.skipIf(kcatVersion === null)('producer-perf --bootstrap-server produces over TCP to a `ringlog broker` that kcat reads', async () => {
    const { lines } = await broker(['--data-dir', tempDir(), '--port', '0'], ready);
    const { bootstrapServers } = JSON.parse(lines.at(-1)!) as { bootstrapServers: string };
    const perf = spawnSync(process.execPath, [bin, 'producer-perf', '--bootstrap-server', bootstrapServers, '--num-records', '5000', '--topic', 'perf', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(perf.status).toBe(0);
    expect(JSON.parse(perf.stdout.trim().split('\n').at(-1)!)).toMatchObject({ records: 5000, errors: 0, recordSizeBytes: 100 });
    const consumed = await kcat(['-b', bootstrapServers, '-C', '-t', 'perf', '-o', 'beginning', '-e', '-q', '-f', '%S\n']);
    expect(consumed.stdout.toString().trim().split('\n')).toEqual(Array.from({ length: 5000 }, () => '100'));
  }, 60_000);
});
