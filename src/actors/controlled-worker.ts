/**
 * A worker thread with a comlink control port and a log port: how the main thread starts each
 * kind of long-lived worker (actor host, broker). It forwards the worker's log lines, records the
 * error that killed it, and bounds every control call by a timeout and by the worker's exit.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Remote } from 'comlink';
import { Comlink, nodeEndpoint } from '../shared/comlink.js';
import { withTimeout } from '../shared/deadline.js';
import { WorkerExitedError } from '../shared/errors.js';
import { forwardWorkerLogs, type Logger } from '../shared/logger.js';
import { workerEntry } from '../shared/worker-entry.js';

export interface ControlledWorker<Control> {
  readonly name: string;
  readonly worker: Worker;
  readonly control: Remote<Control>;
  /** Resolves with the exit code when the thread ends, however it ends. */
  readonly exited: Promise<number>;
  /** The uncaught error that ended the thread, if one did. */
  readonly lastError: () => Error | undefined;
}

/**
 * Starts `dist/workers/<role>.worker.js` with `data` plus `control` and `log` ports and
 * `logLevel` in its workerData; ports in `data` go in `transferList`.
 */
export function startControlledWorker<Control>(
  role: string, name: string, data: Record<string, unknown>, logger: Logger, transferList: readonly MessagePort[] = [],
): ControlledWorker<Control> {
  const controlChannel = new MessageChannel();
  const logChannel = new MessageChannel();
  const worker = new Worker(workerEntry(role), {
    workerData: { ...data, control: controlChannel.port2, log: logChannel.port2, logLevel: logger.level },
    transferList: [controlChannel.port2, logChannel.port2, ...transferList],
    name: `ringlog:${name}`,
  });
  forwardWorkerLogs(logChannel.port1, logger);
  let lastError: Error | undefined;
  worker.on('error', (error) => { lastError = error; });
  return {
    name,
    worker,
    control: Comlink.wrap<Control>(nodeEndpoint(controlChannel.port1)),
    exited: new Promise((resolve) => worker.once('exit', resolve)),
    lastError: () => lastError,
  };
}

/** A control-plane call, failing with ERR_CONTROL_TIMEOUT or WorkerExitedError instead of hanging. */
export function callControl<Control, T>(target: ControlledWorker<Control>, call: (control: Remote<Control>) => Promise<T>, timeoutMs: number): Promise<T> {
  const exited = target.exited.then((code) => {
    throw new WorkerExitedError(`worker ${target.name} exited (code ${code}) during a control call`, { cause: target.lastError() });
  });
  return withTimeout(Promise.race([call(target.control), exited]), timeoutMs, 'ERR_CONTROL_TIMEOUT', `worker ${target.name}: control call got no answer`);
}

/** Releases the comlink proxy and ends the thread. */
export async function endControlledWorker<Control>(target: ControlledWorker<Control>): Promise<void> {
  target.control[Comlink.releaseProxy]();
  await target.worker.terminate();
}
