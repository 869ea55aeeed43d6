/**
 * fast-check arbitraries for message bodies, built from the schema tables: every field of the
 * version gets a random value (null only where the version allows it, tagged fields sometimes
 * left at their default), every field outside the version its default. A decoded body must
 * equal such a body exactly. Defaults are computed here, independently of the codec.
 */
import fc from 'fast-check';
import type { FieldSchema } from '../../../src/shared/protocol/index.js';
import { inRange } from '../../../src/shared/protocol/schema.js';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** The value Kafka's generated code gives a field nobody set. */
export function defaultValue(f: FieldSchema): unknown {
  if (f.type === 'array') return f.default === null ? null : [];
  if (f.type === 'struct') return Object.fromEntries((f.fields ?? []).map((n) => [n.name, defaultValue(n)]));
  if (f.default !== undefined) return f.default;
  switch (f.type) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

/**
 * Printable ASCII mixed with 2-, 3- and 4-byte UTF-8 characters and NUL, up to 60 of them: past
 * 42 UTF-16 units a compact string's length may need a second varint byte. (fast-check's
 * 'binary' unit would do too, but takes over a second to build.)
 */
const STRING = fc.string({
  unit: fc.oneof({ arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 3 }, fc.constantFrom('é', 'ß', '€', '中', '😀', '\u0000')),
  maxLength: 60,
});

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function primitive(type: string): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'int32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'uint32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'int64':
      return fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
    case 'float64':
      return fc.double({ noNaN: true });
    case 'string':
      return STRING;
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
    case 'uuid':
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64url'));
    default:
      throw new Error(`no arbitrary for ${type}`);
  }
}

function valueArbitrary(f: FieldSchema, version: number): fc.Arbitrary<unknown> {
  let arb: fc.Arbitrary<unknown>;
  if (f.type === 'array') {
    const element = f.items === 'struct' ? structArbitrary(f.fields ?? [], version) : primitive(f.items as string);
    arb = fc.array(element, { maxLength: 3 });
  } else if (f.type === 'struct') {
    arb = structArbitrary(f.fields ?? [], version);
  } else {
    arb = primitive(f.type);
  }
  return inRange(f.nullableVersions, version) ? fc.option(arb, { nil: null, freq: 4 }) : arb;
}

export function structArbitrary(fields: readonly FieldSchema[], version: number): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of fields) {
    if (!inRange(f.versions, version)) {
      model[f.name] = fc.constant(null).map(() => defaultValue(f));
    } else if (f.tag !== undefined && inRange(f.taggedVersions, version)) {
      model[f.name] = fc.oneof(fc.constant(null).map(() => defaultValue(f)), valueArbitrary(f, version));
    } else {
      model[f.name] = valueArbitrary(f, version);
    }
  }
  return fc.record(model);
}

/** JSON with bigints and buffers spelled out, for failure messages. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${Buffer.from(x).toString('hex')}>` : x));
}
