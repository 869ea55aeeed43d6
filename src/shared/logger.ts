/**
 * Logging with pino: one root logger per process, a child per actor with
 * `{ actor, thread, ... }` bindings, level from LOG_LEVEL (default 'info').
 *
 * Workers do not open their own destination (in a worker `process.stdout.fd` is undefined and a
 * pino transport per worker doubles the thread count): a worker's logger writes each line to a
 * MessagePort, and the main thread copies the lines into its own destination. Logging is never
 * on the data path, so a postMessage per line is fine.
 */
import { threadId, type MessagePort } from 'node:worker_threads';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export function logLevelFromEnv(): string {
  return process.env.LOG_LEVEL ?? 'info';
}

/** The process's root logger, writing JSON lines to stderr (stdout belongs to the tools' output). */
export function createRootLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? logLevelFromEnv(), base: { pid: process.pid } },
    options.destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/** A worker's root logger: every line goes over `port` to the main thread. */
export function createWorkerLogger(port: MessagePort, level: string, bindings: Record<string, unknown>): Logger {
  const destination: DestinationStream = { write: (line: string) => port.postMessage(line) };
  return pino({ level, base: { pid: process.pid, thread: threadId, ...bindings } }, destination);
}

/** Copies log lines arriving from a worker into `logger`'s destination. */
export function forwardWorkerLogs(port: MessagePort, logger: Logger): void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  port.on('message', (line: string) => stream.write(line));
  port.unref();
}
