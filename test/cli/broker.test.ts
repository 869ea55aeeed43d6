import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { useTempDirs } from '../shared/log/tmpdir.js';

const tempDir = useTempDirs();
const bin = new URL('../../bin/ringlog.js', import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** Starts `ringlog broker`; resolves with the child and its stderr lines once a line matches `until`. */
async function broker(args: string[], until: RegExp): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [bin, 'broker', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stderr! })) {
    lines.push(line);
    if (until.test(line)) break;
  }
  return { child, lines };
}

describe('ringlog broker', () => {
  it('starts, says it is ready, and stops cleanly on SIGTERM with exit code 0', async () => {
    const dir = tempDir();
    const { child, lines } = await broker(['--data-dir', dir, '--port', '0'], /ringlog broker ready/);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ msg: 'ringlog broker ready', dataDir: dir });
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(existsSync(join(dir, '.kafka_cleanshutdown'))).toBe(true);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
  });

  it('refuses a second broker on the same data directory', async () => {
    const dir = tempDir();
    await broker(['--data-dir', dir, '--port', '0'], /ringlog broker ready/);
    const second = spawn(process.execPath, [bin, 'broker', '--data-dir', dir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(second);
    let stderr = '';
    second.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const [code] = await once(second, 'exit');
    expect(code).not.toBe(0);
    expect(stderr).toContain('is locked by running process');
  });

  it('exits non-zero naming the key of a bad config', async () => {
    const dir = tempDir();
    const config = join(dir, 'server.properties');
    writeFileSync(config, 'broker.id=0\nlog.segment.bytes=100\n');
    const child = spawn(process.execPath, [bin, 'broker', '--config', config, '--data-dir', join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain('ConfigError: log.segment.bytes: must be between 1048576 and 2147483647, got 100');
  });
});
