import { spawn, spawnSync } from 'node:child_process';

/**
 * kcat (librdkafka) for the interoperability tests. It is a Debian package that .ci/run installs,
 * so in CI (CI=true) a missing kcat fails the suite instead of skipping it.
 */
export const kcatVersion: string | null = (() => {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    if (process.env.CI === 'true') throw new Error('kcat is not installed, and CI must run the kcat tests: apt-get install -y kcat');
    return null;
  }
  return /librdkafka ([0-9.]+)/.exec(probe.stdout)?.[1] ?? 'unknown';
})();

export interface KcatResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs kcat with `args` (and `input` on stdin); killed after timeoutMs, which fails the call. */
export function kcat(args: string[], options: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<KcatResult> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kcat ${args.join(' ')} ran over ${timeoutMs} ms; stderr: ${stderr}`)); }, timeoutMs);
    child.once('error', (error) => { clearTimeout(timer); reject(error); });
    child.once('close', (code) => {
      clearTimeout(timer);
      const result = { code, stdout: Buffer.concat(out), stderr };
      if (code !== 0) reject(new Error(`kcat ${args.join(' ')} exited with ${code}: ${stderr}`));
      else resolve(result);
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The output format `kcatRecords` parses: a header line, then key and value bytes, byte for byte. */
export const RECORD_FORMAT = '%p %o %K %S\n%k%s\n';

export interface KcatRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
}

/** Parses what `kcat -C -f RECORD_FORMAT` printed. */
export function kcatRecords(out: Buffer): KcatRecord[] {
  const records: KcatRecord[] = [];
  let pos = 0;
  while (pos < out.length) {
    const eol = out.indexOf(10, pos);
    const [partition, offset, keyLength, valueLength] = out.subarray(pos, eol).toString().split(' ').map(Number) as [number, number, number, number];
    pos = eol + 1;
    const key = keyLength < 0 ? null : out.subarray(pos, pos + keyLength);
    pos += Math.max(0, keyLength);
    const value = valueLength < 0 ? null : out.subarray(pos, pos + valueLength);
    pos += Math.max(0, valueLength) + 1;
    records.push({ partition, offset, key, value });
  }
  return records;
}
