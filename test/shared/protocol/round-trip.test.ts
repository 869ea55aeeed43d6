/**
 * Every request, response and consumer-protocol struct, at every valid version: random bodies
 * (nested arrays, nulls where allowed, tagged fields present or not) must decode to exactly
 * what was encoded, and re-encode to the same bytes.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  decodeData,
  decodeRequest,
  decodeResponse,
  encodeData,
  encodeRequest,
  encodeResponse,
  MESSAGE_SCHEMAS,
  type DataMessage,
  type MessageSchema,
} from '../../../src/shared/protocol/index.js';
import { structArbitrary } from './arbitraries.js';

const RUNS_PER_VERSION = 12;

function versions(schema: MessageSchema): number[] {
  const out: number[] = [];
  for (let v = schema.validVersions[0]; v <= schema.validVersions[1]; v++) out.push(v);
  return out;
}

const requests = MESSAGE_SCHEMAS.filter((s) => s.kind === 'request');
const responses = MESSAGE_SCHEMAS.filter((s) => s.kind === 'response');
const data = MESSAGE_SCHEMAS.filter((s) => s.kind === 'data');

describe('requests round-trip', () => {
  test.each(requests.map((s) => [s.name, s] as const))('%s', (_name, schema) => {
    const apiKey = schema.apiKey as number;
    for (const apiVersion of versions(schema)) {
      fc.assert(
        fc.property(structArbitrary(schema.fields, apiVersion), fc.option(fc.string({ maxLength: 12 }), { nil: null }), fc.integer(), (body, clientId, correlationId) => {
          const frame = encodeRequest({ apiKey, apiVersion, correlationId, clientId }, body);
          expect(frame.readInt32BE(0)).toBe(frame.length - 4);
          const decoded = decodeRequest(frame.subarray(4));
          expect(decoded.header).toMatchObject({ apiKey, apiVersion, correlationId, clientId, headerVersion: schema.flexibleVersions !== null && apiVersion >= schema.flexibleVersions[0] ? 2 : 1 });
          expect(decoded.body).toEqual(body);
          expect(encodeRequest({ apiKey, apiVersion, correlationId, clientId }, decoded.body)).toEqual(frame);
        }),
        { numRuns: RUNS_PER_VERSION, seed: 0x5eed + apiKey * 100 + apiVersion },
      );
    }
  });
});

describe('responses round-trip', () => {
  test.each(responses.map((s) => [s.name, s] as const))('%s', (_name, schema) => {
    const apiKey = schema.apiKey as number;
    for (const apiVersion of versions(schema)) {
      fc.assert(
        fc.property(structArbitrary(schema.fields, apiVersion), fc.integer(), (body, correlationId) => {
          const frame = encodeResponse(apiKey, apiVersion, correlationId, body);
          expect(frame.readInt32BE(0)).toBe(frame.length - 4);
          expect(frame.readInt32BE(4)).toBe(correlationId);
          const decoded = decodeResponse(apiKey, apiVersion, frame.subarray(4));
          expect(decoded.correlationId).toBe(correlationId);
          expect(decoded.body).toEqual(body);
          expect(encodeResponse(apiKey, apiVersion, correlationId, decoded.body)).toEqual(frame);
        }),
        { numRuns: RUNS_PER_VERSION, seed: 0xfeed + apiKey * 100 + apiVersion },
      );
    }
  });
});

describe('consumer protocol data round-trips', () => {
  test.each(data.map((s) => [s.name, s] as const))('%s', (name, schema) => {
    for (const version of versions(schema)) {
      fc.assert(
        fc.property(structArbitrary(schema.fields, version), (body) => {
          const bytes = encodeData(name as DataMessage, version, body);
          expect(bytes.readInt16BE(0)).toBe(version);
          expect(decodeData(name as DataMessage, bytes)).toEqual({ version, body });
        }),
        { numRuns: RUNS_PER_VERSION * 2, seed: 0xda7a + version },
      );
    }
  });
});
