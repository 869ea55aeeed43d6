/**
 * Garbage in: random bytes, random bodies behind valid headers, and valid frames with bytes
 * flipped, cut, inserted or overwritten with huge lengths. Every decode must return a value or
 * throw a ProtocolError: no other exception, no hang, no allocation from an unchecked length.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ProtocolError } from '../../../src/shared/errors.js';
import {
  decodeData,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  MESSAGE_SCHEMAS,
  type MessageSchema,
} from '../../../src/shared/protocol/index.js';
import { structArbitrary } from './arbitraries.js';

const requests = MESSAGE_SCHEMAS.filter((s) => s.kind === 'request');
const responses = MESSAGE_SCHEMAS.filter((s) => s.kind === 'response');
const RUNS = 1500;
/**
 * Inputs are at most a few KB and decode in microseconds: taking longer than this means a runaway
 * loop or allocation. A bound against runaways, not a speed figure, so it allows for a loaded machine.
 */
const SLOW_MS = 2_000;

function decodesOrRefuses(decode: () => unknown): void {
  const start = performance.now();
  try {
    decode();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
  expect(performance.now() - start).toBeLessThan(SLOW_MS);
}

const versionOf = (schema: MessageSchema): fc.Arbitrary<number> => fc.integer({ min: schema.validVersions[0], max: schema.validVersions[1] });
const flexible = (schema: MessageSchema, version: number): boolean => schema.flexibleVersions !== null && version >= schema.flexibleVersions[0];

/** A valid header for a known API and version, followed by random bytes. */
const randomBodyRequest = fc
  .constantFrom(...requests)
  .chain((schema) => fc.tuple(fc.constant(schema), versionOf(schema), fc.uint8Array({ maxLength: 200 })))
  .map(([schema, version, body]) => {
    const header = Buffer.alloc(10);
    header.writeInt16BE(schema.apiKey as number, 0);
    header.writeInt16BE(version, 2);
    header.writeInt32BE(1, 4);
    header.writeInt16BE(-1, 8);
    return Buffer.concat([header, flexible(schema, version) ? Buffer.of(0) : Buffer.alloc(0), body]);
  });

const validRequest = fc
  .constantFrom(...requests)
  .chain((schema) => versionOf(schema).chain((version) => structArbitrary(schema.fields, version).map((body) => encodeRequest({ apiKey: schema.apiKey as number, apiVersion: version, correlationId: 3, clientId: 'fuzz' }, body).subarray(4))));

const validResponse = fc
  .constantFrom(...responses)
  .chain((schema) =>
    versionOf(schema).chain((version) =>
      structArbitrary(schema.fields, version).map((body) => ({ apiKey: schema.apiKey as number, version, frame: encodeResponse(schema.apiKey as number, version, 3, body).subarray(4) })),
    ),
  );

type Mutation = (b: Buffer) => Buffer;
const HUGE = [0x7fffffff, 0xffffffff, 0x80000000, 0xfffffffe, 0x00ffffff];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([at, value]): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length > 0) c[at % c.length] = value;
    return c;
  }),
  fc.nat().map((at): Mutation => (b) => b.subarray(0, b.length === 0 ? 0 : at % b.length)),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, bytes]): Mutation => (b) => {
    const i = b.length === 0 ? 0 : at % b.length;
    return Buffer.concat([b.subarray(0, i), bytes, b.subarray(i)]);
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...HUGE)).map(([at, value]): Mutation => (b) => {
    const c = Buffer.from(b);
    if (c.length >= 4) c.writeUInt32BE(value, at % (c.length - 3));
    return c;
  }),
);
const mutate = (frame: Buffer, mutations: Mutation[]): Buffer => mutations.reduce((b, m) => m(b), frame);

describe('decoders never throw anything but ProtocolError', () => {
  test('random bytes as a request frame', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodesOrRefuses(() => decodeRequest(bytes))), { numRuns: RUNS, seed: 1 });
  });

  test('random bodies behind a valid header', () => {
    fc.assert(fc.property(randomBodyRequest, (frame) => decodesOrRefuses(() => decodeRequest(frame))), { numRuns: RUNS, seed: 2 });
  });

  test('random bytes as a response to any API and version', () => {
    const arb = fc.constantFrom(...responses).chain((schema) => fc.tuple(fc.constant(schema.apiKey as number), versionOf(schema), fc.uint8Array({ maxLength: 300 })));
    fc.assert(fc.property(arb, ([apiKey, version, bytes]) => decodesOrRefuses(() => decodeResponse(apiKey, version, bytes))), { numRuns: RUNS, seed: 3 });
  });

  test('mutated valid request frames', () => {
    fc.assert(
      fc.property(validRequest, fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, mutations) => decodesOrRefuses(() => decodeRequest(mutate(frame, mutations)))),
      { numRuns: RUNS, seed: 4 },
    );
  });

  test('mutated valid response frames', () => {
    fc.assert(
      fc.property(validResponse, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ apiKey, version, frame }, mutations) =>
        decodesOrRefuses(() => decodeResponse(apiKey, version, mutate(frame, mutations))),
      ),
      { numRuns: RUNS, seed: 5 },
    );
  });

  test('random consumer protocol bytes', () => {
    fc.assert(
      fc.property(fc.constantFrom('ConsumerProtocolSubscription', 'ConsumerProtocolAssignment' as const), fc.uint8Array({ maxLength: 200 }), (name, bytes) =>
        decodesOrRefuses(() => decodeData(name, bytes)),
      ),
      { numRuns: RUNS, seed: 6 },
    );
  });
});

test('a two-billion-element array claim is refused at once, without allocating', () => {
  // MetadataRequest v0: topics count 0x7fffffff followed by nothing.
  const frame = Buffer.from('0003 0000 00000001 ffff 7fffffff'.replace(/ /g, ''), 'hex');
  const before = process.memoryUsage().heapUsed;
  expect(() => decodeRequest(frame)).toThrow('MetadataRequest v0: topics: array of 2147483647 elements cannot fit in the 0 bytes left');
  expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 * 1024 * 1024);
});
