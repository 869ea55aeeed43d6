import { connect, createServer, type Socket } from 'node:net';
import { FrameReader } from '../../src/shared/frame-reader.js';
import { decodeRequest } from '../../src/shared/protocol/index.js';

/** A request as it went over the wire, decoded with ringlog's codec. */
export interface LoggedRequest {
  apiKey: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: Record<string, any>;
}

/**
 * A TCP proxy in front of one broker that decodes and lists every request passing through, so a
 * test sees what clients really asked for. Start it first, have the broker advertise its port
 * (advertised.listeners), then call forwardTo with the broker's own port: every connection the
 * clients open, bootstrap and leaders alike, then goes through it.
 */
export async function requestLogProxy(): Promise<{ port: number; requests: LoggedRequest[]; forwardTo(port: number): void; close(): Promise<void> }> {
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  let targetPort = 0;
  const server = createServer((client) => {
    const broker = connect(targetPort, '127.0.0.1');
    for (const socket of [client, broker]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => { client.destroy(); broker.destroy(); sockets.delete(socket); });
    }
    const reader = new FrameReader(64 << 20);
    client.on('data', (chunk: Buffer) => {
      reader.push(chunk, (frame) => {
        const { header, body } = decodeRequest(frame.subarray(4));
        requests.push({ apiKey: header.apiKey, body });
      });
      broker.write(chunk);
    });
    broker.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    forwardTo: (port) => { targetPort = port; },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
