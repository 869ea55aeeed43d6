/**
 * Compiles one struct of a message schema, at one version, into a codec: the table is walked
 * once here, into straight-line functions with no version checks or type dispatch left per
 * field. Fields absent from the version take their defaults on decode and are ignored on
 * encode; tagged fields go to the tagged-field section of flexible versions.
 */
import { inRange, type FieldSchema, type PrimitiveType } from './schema.js';
import {
  arrayCodec,
  atField,
  EMPTY_BYTES,
  FieldPathError,
  primitiveCodec,
  readUnsignedVarint,
  unsignedVarintSize,
  writeUnsignedVarint,
  ZERO_UUID,
  type Reader,
  type ValueCodec,
  type Writer,
} from './types.js';

export interface StructCodec extends ValueCodec {
  /** A new object holding every field's default. */
  makeDefault(): Record<string, unknown>;
  /** Whether every field of this version holds its default (a tagged struct is then left out). */
  isDefault(v: unknown): boolean;
}

/** How a field defaults: a fresh value for decoding, a shared one for encoding an absent field. */
interface FieldDefault {
  make(): unknown;
  shared: unknown;
  /** Whether `v` (undefined meaning absent) equals the default, as Kafka decides whether to write a tagged field. */
  is(v: unknown): boolean;
}

/** A field as decoding sees it: read from the wire, or (absent or tagged) made from its default. */
interface DecodeStep {
  readonly name: string;
  readonly codec: ValueCodec | undefined;
  make(): unknown;
}

interface EncodeStep {
  readonly name: string;
  readonly codec: ValueCodec;
  readonly shared: unknown;
}

interface TaggedStep extends EncodeStep {
  readonly tag: number;
  is(v: unknown): boolean;
}

const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);

function zeroOf(type: PrimitiveType): unknown {
  switch (type) {
    case 'bool':
      return false;
    case 'int64':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return EMPTY_BYTES;
    case 'records':
      return null;
    case 'uuid':
      return ZERO_UUID;
    default:
      return 0;
  }
}

function constantDefault(value: unknown, is: (v: unknown) => boolean): FieldDefault {
  return { make: () => value, shared: value, is: (v) => v === undefined || is(v) };
}

function fieldDefault(f: FieldSchema, nested: StructCodec | undefined): FieldDefault {
  if (f.type === 'array') {
    if (f.default === null) return constantDefault(null, (v) => v === null);
    return { make: () => [], shared: EMPTY_ARRAY, is: (v) => v === undefined || (Array.isArray(v) && v.length === 0) };
  }
  if (f.type === 'struct') {
    const struct = nested as StructCodec;
    return { make: () => struct.makeDefault(), shared: Object.freeze(struct.makeDefault()), is: (v) => struct.isDefault(v) };
  }
  const value = f.default !== undefined ? f.default : zeroOf(f.type);
  if (f.type === 'int64') {
    const asNumber = Number(value);
    return constantDefault(value, (v) => (typeof v === 'bigint' ? v === value : v === asNumber));
  }
  if (value === EMPTY_BYTES) return constantDefault(value, (v) => v instanceof Uint8Array && v.length === 0);
  return constantDefault(value, (v) => v === value);
}

function valueCodec(f: FieldSchema, version: number, messageFlexible: boolean, nested: StructCodec | undefined): ValueCodec {
  // A field's own flexibleVersions (RequestHeader.ClientId: "none") overrides the message's.
  const compact = f.flexibleVersions !== undefined ? inRange(f.flexibleVersions, version) : messageFlexible;
  const nullable = inRange(f.nullableVersions, version);
  if (f.type === 'array') {
    const element = f.items === 'struct' ? (nested as StructCodec) : primitiveCodec(f.items as PrimitiveType, compact, false);
    return arrayCodec(element, compact, nullable);
  }
  if (f.type === 'struct') return nested as StructCodec;
  return primitiveCodec(f.type, compact, nullable);
}

function taggedVarint(r: Reader, what: string): number {
  try {
    return readUnsignedVarint(r);
  } catch (err) {
    throw err instanceof FieldPathError ? new FieldPathError(`tagged fields: ${what}: ${err.reason}`) : err;
  }
}

interface Accessors {
  read(r: Reader): Record<string, unknown>;
  size(v: unknown): number;
  write(w: Writer, v: unknown): void;
  makeDefault(): Record<string, unknown>;
}

/**
 * Generates the per-struct read/size/write/makeDefault functions as straight-line code, one
 * statement per field. An object literal built in field order and property accesses by constant
 * name keep V8 on fast, monomorphic paths; a loop over (name, codec) pairs would make every
 * property access a megamorphic keyed one (about 6x slower to build a struct). The source is
 * built only from the schema table: field names are quoted with JSON.stringify, and codecs and
 * defaults are passed in as arguments, never printed.
 */
function generateAccessors(
  decodeSteps: readonly DecodeStep[],
  regular: readonly EncodeStep[],
  readTagged: ((r: Reader, o: Record<string, unknown>) => void) | null,
  taggedSize: ((o: Record<string, unknown>) => number) | null,
  writeTagged: ((w: Writer, o: Record<string, unknown>) => void) | null,
): Accessors {
  const key = (name: string): string => JSON.stringify(name);
  const readProps = decodeSteps.map((d, k) => (d.codec !== undefined ? `${key(d.name)}: (i = ${k}, C[${k}].read(r))` : `${key(d.name)}: M[${k}]()`));
  const defaultProps = decodeSteps.map((d, k) => `${key(d.name)}: M[${k}]()`);
  const sizeLines = regular.map((e, k) => `i = ${k}; x = v[${key(e.name)}]; n += E[${k}].size(x === undefined ? Z[${k}] : x);`);
  const writeLines = regular.map((e, k) => `x = v[${key(e.name)}]; E[${k}].write(w, x === undefined ? Z[${k}] : x);`);
  const source = `
    return {
      read(r) {
        let i = 0;
        let o;
        try {
          o = { ${readProps.join(', ')} };
        } catch (err) {
          throw atField(err, N[i]);
        }
        ${readTagged !== null ? 'readTagged(r, o);' : ''}
        return o;
      },
      size(v) {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw notAnObject(v);
        let i = 0;
        let n = 0;
        let x;
        try {
          ${sizeLines.join('\n          ')}
        } catch (err) {
          throw atField(err, RN[i]);
        }
        return ${taggedSize !== null ? 'n + taggedSize(v)' : 'n'};
      },
      write(w, v) {
        let x;
        ${writeLines.join('\n        ')}
        ${writeTagged !== null ? 'writeTagged(w, v);' : ''}
      },
      makeDefault() {
        return { ${defaultProps.join(', ')} };
      },
    };`;
  const args = {
    C: decodeSteps.map((d) => d.codec),
    M: decodeSteps.map((d) => d.make),
    N: decodeSteps.map((d) => d.name),
    E: regular.map((e) => e.codec),
    Z: regular.map((e) => e.shared),
    RN: regular.map((e) => e.name),
    atField,
    notAnObject,
    readTagged,
    taggedSize,
    writeTagged,
  };
  const factory = new Function(...Object.keys(args), source) as (...a: unknown[]) => Accessors;
  return factory(...Object.values(args));
}

function notAnObject(v: unknown): FieldPathError {
  return new FieldPathError(`expected an object, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
}

/**
 * `fields` at `version`; `flexible` is whether the message is flexible at that version, which
 * gives every struct in it a tagged-field section.
 */
export function compileStruct(fields: readonly FieldSchema[], version: number, flexible: boolean): StructCodec {
  const decodeSteps: DecodeStep[] = [];
  const regular: EncodeStep[] = [];
  const tagged: TaggedStep[] = [];
  const defaults: { name: string; is(v: unknown): boolean }[] = [];

  for (const f of fields) {
    // The names are printed into generated code (generateAccessors): plain identifiers only.
    if (!/^[a-z][A-Za-z0-9]*$/.test(f.name)) throw new Error(`field name ${JSON.stringify(f.name)} is not a plain camelCase identifier`);
    const nested = f.fields !== undefined ? compileStruct(f.fields, version, flexible) : undefined;
    const dflt = fieldDefault(f, nested);
    if (!inRange(f.versions, version)) {
      decodeSteps.push({ name: f.name, codec: undefined, make: dflt.make });
      continue;
    }
    defaults.push({ name: f.name, is: dflt.is });
    const codec = valueCodec(f, version, flexible, nested);
    if (f.tag !== undefined && inRange(f.taggedVersions, version)) {
      // Absent from the wire unless set: decoding starts from the default.
      decodeSteps.push({ name: f.name, codec: undefined, make: dflt.make });
      tagged.push({ name: f.name, codec, shared: dflt.shared, tag: f.tag, is: dflt.is });
    } else {
      decodeSteps.push({ name: f.name, codec, make: dflt.make });
      regular.push({ name: f.name, codec, shared: dflt.shared });
    }
  }
  tagged.sort((a, b) => a.tag - b.tag);
  const byTag = new Map(tagged.map((t) => [t.tag, t]));
  const minSize = regular.reduce((sum, step) => sum + step.codec.minSize, flexible ? 1 : 0);

  function readTagged(r: Reader, o: Record<string, unknown>): void {
    const count = taggedVarint(r, 'count');
    // Each tagged field takes at least two bytes: its tag and its size.
    if (count > (r.end - r.pos) / 2) throw new FieldPathError(`tagged fields: ${count} fields cannot fit in the ${r.end - r.pos} bytes left`);
    for (let k = 0; k < count; k++) {
      const tag = taggedVarint(r, 'tag');
      const size = taggedVarint(r, `size of tag ${tag}`);
      if (size > r.end - r.pos) throw new FieldPathError(`tagged fields: tag ${tag} has ${size} bytes but ${r.end - r.pos} are left`);
      const step = byTag.get(tag);
      if (step === undefined) {
        r.pos += size; // unknown tag: a newer peer's field, skipped
        continue;
      }
      const start = r.pos;
      const end = r.end;
      r.end = start + size;
      try {
        o[step.name] = step.codec.read(r);
        if (r.pos !== r.end) throw new FieldPathError(`tagged field ${tag} has ${size} bytes but its value took ${r.pos - start}`);
      } catch (err) {
        throw atField(err, step.name);
      }
      r.end = end;
    }
  }

  function taggedSize(o: Record<string, unknown>): number {
    let count = 0;
    let size = 0;
    for (const t of tagged) {
      const v = o[t.name];
      if (t.is(v)) continue;
      let n: number;
      try {
        n = t.codec.size(v);
      } catch (err) {
        throw atField(err, t.name);
      }
      size += unsignedVarintSize(t.tag) + unsignedVarintSize(n) + n;
      count++;
    }
    return size + unsignedVarintSize(count);
  }

  function writeTagged(w: Writer, o: Record<string, unknown>): void {
    let count = 0;
    for (const t of tagged) if (!t.is(o[t.name])) count++;
    writeUnsignedVarint(w, count);
    if (count === 0) return;
    for (const t of tagged) {
      const v = o[t.name];
      if (t.is(v)) continue;
      writeUnsignedVarint(w, t.tag);
      writeUnsignedVarint(w, t.codec.size(v));
      t.codec.write(w, v);
    }
  }

  const struct = generateAccessors(decodeSteps, regular, flexible ? readTagged : null, flexible ? taggedSize : null, flexible ? writeTagged : null);
  return {
    minSize,
    read: struct.read,
    size: struct.size,
    write: struct.write,
    makeDefault: struct.makeDefault,
    isDefault(v) {
      if (v === undefined) return true;
      if (typeof v !== 'object' || v === null) return false;
      const o = v as Record<string, unknown>;
      for (const d of defaults) if (!d.is(o[d.name])) return false;
      return true;
    },
  };
}
