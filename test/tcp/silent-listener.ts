import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { until } from './wait.js';

/** The listen backlog: Linux queues backlog + 1 connections that nobody accepted yet. */
const BACKLOG = 1;
const FILLERS = BACKLOG + 1;

/**
 * A TCP port on 127.0.0.1 where a connect never completes, on any Linux machine, CI included: a
 * listening socket whose owner (a worker thread asleep in Atomics.wait) never accepts, with its
 * accept queue filled. The kernel then drops every new SYN, so a client's connect hangs in SYN_SENT
 * as it would towards a host that is down, instead of failing fast with ECONNREFUSED.
 */
export async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const server = require('node:net').createServer();
    server.listen(0, '127.0.0.1', ${BACKLOG}, () => {
      parentPort.postMessage(server.address().port);
      Atomics.wait(workerData, 0, 0, 120000); // never accepts while asleep
    });`, { eval: true, workerData: wake });
  const port = await new Promise<number>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const fillers: Socket[] = [];
  let connected = 0;
  for (let i = 0; i < FILLERS; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.once('connect', () => connected++);
    fillers.push(socket);
  }
  await until(`${FILLERS} connections queued on the silent listener`, () => connected === FILLERS, 5_000);
  return {
    port,
    async close() {
      for (const socket of fillers) socket.destroy();
      Atomics.notify(wake, 0);
      await worker.terminate();
    },
  };
}
