import { describe, expect, it } from 'vitest';
import { createConnectionHandles, EmbeddedConnection, serveConnection } from '../../src/actors/embedded-connection.js';
import { ChannelReader, ChannelWriter } from '../../src/shared/channel.js';
import { ChannelClosedError, TimeoutError } from '../../src/shared/errors.js';

/** A request frame as Kafka frames it: size, api key, api version, correlation id, then a body. */
function requestFrame(correlationId: number, body = ''): Uint8Array {
  const payload = Buffer.from(body);
  const frame = Buffer.alloc(12 + payload.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(18, 4);
  frame.writeInt16BE(3, 6);
  frame.writeInt32BE(correlationId, 8);
  payload.copy(frame, 12);
  return frame;
}

/** The response frame for a request: size, correlation id, then the request's body echoed. */
function echo(request: Uint8Array): Uint8Array {
  const req = Buffer.from(request);
  const body = req.subarray(12);
  const frame = Buffer.alloc(8 + body.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt32BE(req.readInt32BE(8), 4);
  body.copy(frame, 8);
  return frame;
}

describe('embedded connection', () => {
  it('answers pipelined requests in request order even when handlers finish in reverse', async () => {
    const handles = createConnectionHandles(64 * 1024);
    const count = 50;
    const served = serveConnection(handles, (request) => {
      const id = Buffer.from(request).readInt32BE(8);
      return new Promise((resolve) => setTimeout(() => resolve(echo(request)), (count - id) * 2));
    }, (error) => { throw error; });
    const writer = new ChannelWriter(handles.requests);
    for (let id = 0; id < count; id++) expect(writer.tryWrite(requestFrame(id, `body-${id}`))).toBe(true);
    const reader = new ChannelReader(handles.responses);
    const order: number[] = [];
    while (order.length < count) {
      reader.poll((bytes, offset) => { order.push(new DataView(bytes.buffer, bytes.byteOffset + offset).getInt32(4)); });
      if (order.length < count) await reader.waitAsync(5_000);
    }
    expect(order).toEqual(Array.from({ length: count }, (_, i) => i));
    writer.close();
    await served;
  });

  it('matches responses to requests by correlation id, and times out the unanswered', async () => {
    const handles = createConnectionHandles();
    const served = serveConnection(handles, async (request) => {
      const body = Buffer.from(request).subarray(12).toString();
      if (body === 'silence') return new Promise<never>(() => undefined);
      if (body === 'no-response') return null;
      return echo(request);
    }, (error) => { throw error; });
    const client = new EmbeddedConnection(handles);
    const [a, b] = await Promise.all([client.request(requestFrame(1, 'alpha'), 5_000), client.request(requestFrame(2, 'beta'), 5_000)]);
    expect(Buffer.from(a).subarray(8).toString()).toBe('alpha');
    expect(Buffer.from(b).subarray(8).toString()).toBe('beta');
    client.send(requestFrame(3, 'no-response'));
    const error = await client.request(requestFrame(4, 'silence'), 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('ERR_REQUEST_TIMEOUT');
    client.close();
    await expect(client.request(requestFrame(5), 1_000)).rejects.toBeInstanceOf(ChannelClosedError);
    await served;
  });
});
