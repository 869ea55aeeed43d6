/**
 * Kafka's primitive wire types: a bounds-checked reader, a writer over a buffer of known size,
 * unsigned varints, and one value codec per (type, compact, nullable) combination.
 *
 * Encoding is two passes: `size()` validates a value and returns its exact encoded length, then
 * `write()` writes into a buffer of that length without checking again. Decoding never reads or
 * allocates past `end`; every failure throws a FieldPathError, which the struct and array
 * codecs prefix with the field path before the message codec turns it into a ProtocolError.
 */

/** A failure inside a message; `path` grows ("[0].records" → "partitions[0].records") as it unwinds. */
export class FieldPathError extends Error {
  path = '';
  readonly reason: string;
  constructor(reason: string) {
    super(reason);
    this.reason = reason;
  }
}

export function atField(err: unknown, name: string): unknown {
  if (err instanceof FieldPathError) {
    err.path = err.path === '' ? name : err.path.charCodeAt(0) === 0x5b /* [ */ ? name + err.path : `${name}.${err.path}`;
  }
  return err;
}

export function atIndex(err: unknown, index: number): unknown {
  if (err instanceof FieldPathError) {
    err.path = err.path === '' || err.path.charCodeAt(0) === 0x5b ? `[${index}]${err.path}` : `[${index}].${err.path}`;
  }
  return err;
}

export class Reader {
  buf: Buffer;
  pos: number;
  end: number;
  constructor(buf: Buffer, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }
}

export class Writer {
  readonly buf: Buffer;
  pos: number;
  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }
}

export function need(r: Reader, bytes: number): void {
  if (r.end - r.pos < bytes) throw new FieldPathError(`truncated (needs ${bytes} bytes, ${r.end - r.pos} left)`);
}

// ---- unsigned varints (lengths, counts and tags in flexible versions) ----

/** Reads an unsigned varint of at most 5 bytes whose value fits in 32 bits. */
export function readUnsignedVarint(r: Reader): number {
  const buf = r.buf;
  let result = 0;
  for (let shift = 0; ; shift += 7) {
    if (r.pos >= r.end) throw new FieldPathError('truncated varint');
    const b = buf[r.pos++];
    if (shift === 28) {
      // The fifth byte may carry only the top 4 bits of a 32-bit value and must end the varint.
      if (b > 0x0f) throw new FieldPathError('unsigned varint is longer than 5 bytes or exceeds 32 bits');
      return result + b * 0x10000000;
    }
    result |= (b & 0x7f) << shift;
    if (b < 0x80) return result;
  }
}

export function unsignedVarintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** `value` must be an integer in [0, 2^32). */
export function writeUnsignedVarint(w: Writer, value: number): void {
  const buf = w.buf;
  let v = value;
  while (v >= 0x80) {
    buf[w.pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[w.pos++] = v;
}

// ---- value codecs ----

export interface ValueCodec {
  /** The fewest bytes any value takes; bounds array counts before anything is allocated. */
  readonly minSize: number;
  read(r: Reader): unknown;
  /** Validates `v` and returns its encoded size in bytes. */
  size(v: unknown): number;
  /** Writes a value that `size` accepted, into space that `size` measured. */
  write(w: Writer, v: unknown): void;
}

const describe = (v: unknown): string =>
  v === null ? 'null' : typeof v === 'string' ? `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}` : typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : `${typeof v} ${String(v)}`;

const expected = (what: string, v: unknown): FieldPathError => new FieldPathError(`expected ${what}, got ${describe(v)}`);

/** Kafka caps every string at 32767 UTF-8 bytes, compact or not. */
const MAX_STRING_BYTES = 0x7fff;

/** The all-zero uuid as Kafka prints it (Uuid.ZERO_UUID.toString()). */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** 22 URL-safe base64 characters without padding; the last one carries only 2 bits, so its low 4 are 0. */
const UUID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

const bool: ValueCodec = {
  minSize: 1,
  read(r) {
    need(r, 1);
    return r.buf[r.pos++] !== 0;
  },
  size(v) {
    if (typeof v !== 'boolean') throw expected('a boolean', v);
    return 1;
  },
  write(w, v) {
    w.buf[w.pos++] = v ? 1 : 0;
  },
};

const int8: ValueCodec = {
  minSize: 1,
  read(r) {
    need(r, 1);
    return r.buf.readInt8(r.pos++);
  },
  size(v) {
    if (((v as number) << 24) >> 24 !== v) throw expected('an int8', v);
    return 1;
  },
  write(w, v) {
    w.buf.writeInt8(v as number, w.pos++);
  },
};

const int16: ValueCodec = {
  minSize: 2,
  read(r) {
    need(r, 2);
    const b = r.buf;
    const p = r.pos;
    r.pos = p + 2;
    return ((b[p] << 24) | (b[p + 1] << 16)) >> 16;
  },
  size(v) {
    if (((v as number) << 16) >> 16 !== v) throw expected('an int16', v);
    return 2;
  },
  write(w, v) {
    w.buf.writeInt16BE(v as number, w.pos);
    w.pos += 2;
  },
};

const uint16: ValueCodec = {
  minSize: 2,
  read(r) {
    need(r, 2);
    const v = r.buf.readUInt16BE(r.pos);
    r.pos += 2;
    return v;
  },
  size(v) {
    if (((v as number) & 0xffff) !== v) throw expected('a uint16', v);
    return 2;
  },
  write(w, v) {
    w.buf.writeUInt16BE(v as number, w.pos);
    w.pos += 2;
  },
};

const int32: ValueCodec = {
  minSize: 4,
  read(r) {
    need(r, 4);
    const b = r.buf;
    const p = r.pos;
    r.pos = p + 4;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  },
  size(v) {
    if (((v as number) | 0) !== v) throw expected('an int32', v);
    return 4;
  },
  write(w, v) {
    w.buf.writeInt32BE(v as number, w.pos);
    w.pos += 4;
  },
};

const uint32: ValueCodec = {
  minSize: 4,
  read(r) {
    need(r, 4);
    const v = r.buf.readUInt32BE(r.pos);
    r.pos += 4;
    return v;
  },
  size(v) {
    if ((v as number) >>> 0 !== v) throw expected('a uint32', v);
    return 4;
  },
  write(w, v) {
    w.buf.writeUInt32BE(v as number, w.pos);
    w.pos += 4;
  },
};

/** int64 decodes as bigint; encoding also takes a safe-integer number. */
const int64: ValueCodec = {
  minSize: 8,
  read(r) {
    need(r, 8);
    const v = r.buf.readBigInt64BE(r.pos);
    r.pos += 8;
    return v;
  },
  size(v) {
    if (typeof v === 'bigint' ? BigInt.asIntN(64, v) !== v : !Number.isSafeInteger(v)) throw expected('an int64 (bigint or safe integer)', v);
    return 8;
  },
  write(w, v) {
    w.buf.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(v as number), w.pos);
    w.pos += 8;
  },
};

const float64: ValueCodec = {
  minSize: 8,
  read(r) {
    need(r, 8);
    const v = r.buf.readDoubleBE(r.pos);
    r.pos += 8;
    return v;
  },
  size(v) {
    if (typeof v !== 'number') throw expected('a float64', v);
    return 8;
  },
  write(w, v) {
    w.buf.writeDoubleBE(v as number, w.pos);
    w.pos += 8;
  },
};

const uuid: ValueCodec = {
  minSize: 16,
  read(r) {
    need(r, 16);
    const v = r.buf.toString('base64url', r.pos, r.pos + 16);
    r.pos += 16;
    return v;
  },
  size(v) {
    if (typeof v !== 'string' || !UUID_PATTERN.test(v)) throw expected('a uuid (22 URL-safe base64 characters)', v);
    return 16;
  },
  write(w, v) {
    w.buf.write(v as string, w.pos, 16, 'base64url');
    w.pos += 16;
  },
};

const nullNotAllowed = (what: string): FieldPathError => new FieldPathError(`null is not allowed: ${what} is not nullable in this version`);

function checkString(v: unknown, nullable: boolean): number {
  if (v === null) {
    if (!nullable) throw nullNotAllowed('the string');
    return -1;
  }
  if (typeof v !== 'string') throw expected('a string', v);
  const n = Buffer.byteLength(v);
  if (n > MAX_STRING_BYTES) throw new FieldPathError(`string of ${n} UTF-8 bytes exceeds Kafka's limit of ${MAX_STRING_BYTES}`);
  return n;
}

function readStringBody(r: Reader, n: number): string {
  if (n > MAX_STRING_BYTES) throw new FieldPathError(`string length ${n} exceeds Kafka's limit of ${MAX_STRING_BYTES}`);
  need(r, n);
  const s = r.buf.toString('utf8', r.pos, r.pos + n);
  r.pos += n;
  return s;
}

function stringCodec(nullable: boolean): ValueCodec {
  return {
    minSize: 2,
    read(r) {
      need(r, 2);
      const n = r.buf.readInt16BE(r.pos);
      r.pos += 2;
      if (n < 0) {
        if (n === -1 && nullable) return null;
        throw new FieldPathError(n === -1 ? 'null in a non-nullable string' : `negative string length ${n}`);
      }
      return readStringBody(r, n);
    },
    size(v) {
      return 2 + Math.max(0, checkString(v, nullable));
    },
    write(w, v) {
      if (v === null) {
        w.buf.writeInt16BE(-1, w.pos);
        w.pos += 2;
        return;
      }
      // Write the text first and the length it took after, instead of measuring it twice.
      const n = w.buf.write(v as string, w.pos + 2);
      w.buf.writeInt16BE(n, w.pos);
      w.pos += 2 + n;
    },
  };
}

function compactStringCodec(nullable: boolean): ValueCodec {
  return {
    minSize: 1,
    read(r) {
      const n = readUnsignedVarint(r) - 1;
      if (n < 0) {
        if (nullable) return null;
        throw new FieldPathError('null in a non-nullable string');
      }
      return readStringBody(r, n);
    },
    size(v) {
      const n = checkString(v, nullable);
      return n < 0 ? 1 : unsignedVarintSize(n + 1) + n;
    },
    write(w, v) {
      if (v === null) {
        w.buf[w.pos++] = 0;
        return;
      }
      const s = v as string;
      // At most 3 UTF-8 bytes per UTF-16 unit: up to 42 units always fit a one-byte length.
      if (s.length <= 42) {
        const n = w.buf.write(s, w.pos + 1);
        w.buf[w.pos] = n + 1;
        w.pos += 1 + n;
        return;
      }
      const n = Buffer.byteLength(s);
      writeUnsignedVarint(w, n + 1);
      w.pos += w.buf.write(s, w.pos);
    },
  };
}

function checkBytes(v: unknown, nullable: boolean): number {
  if (v === null) {
    if (!nullable) throw nullNotAllowed('the bytes field');
    return -1;
  }
  if (!(v instanceof Uint8Array)) throw expected('a Uint8Array', v);
  return v.length;
}

function readBytesBody(r: Reader, n: number): Buffer {
  need(r, n);
  // A view of the frame, not a copy: records and embedded metadata pass through untouched.
  const b = r.buf.subarray(r.pos, r.pos + n);
  r.pos += n;
  return b;
}

/** `bytes`, and `records` (RecordBatch bytes, kept raw), with an int32 length. */
function bytesCodec(nullable: boolean): ValueCodec {
  return {
    minSize: 4,
    read(r) {
      need(r, 4);
      const n = r.buf.readInt32BE(r.pos);
      r.pos += 4;
      if (n < 0) {
        if (n === -1 && nullable) return null;
        throw new FieldPathError(n === -1 ? 'null in non-nullable bytes' : `negative bytes length ${n}`);
      }
      return readBytesBody(r, n);
    },
    size(v) {
      return 4 + Math.max(0, checkBytes(v, nullable));
    },
    write(w, v) {
      if (v === null) {
        w.buf.writeInt32BE(-1, w.pos);
        w.pos += 4;
        return;
      }
      const b = v as Uint8Array;
      w.buf.writeInt32BE(b.length, w.pos);
      w.buf.set(b, w.pos + 4);
      w.pos += 4 + b.length;
    },
  };
}

function compactBytesCodec(nullable: boolean): ValueCodec {
  return {
    minSize: 1,
    read(r) {
      const n = readUnsignedVarint(r) - 1;
      if (n < 0) {
        if (nullable) return null;
        throw new FieldPathError('null in non-nullable bytes');
      }
      return readBytesBody(r, n);
    },
    size(v) {
      const n = checkBytes(v, nullable);
      return n < 0 ? 1 : unsignedVarintSize(n + 1) + n;
    },
    write(w, v) {
      if (v === null) {
        w.buf[w.pos++] = 0;
        return;
      }
      const b = v as Uint8Array;
      writeUnsignedVarint(w, b.length + 1);
      w.buf.set(b, w.pos);
      w.pos += b.length;
    },
  };
}

interface ElementLoops {
  read(r: Reader, count: number): unknown[];
  size(a: unknown[]): number;
  write(w: Writer, a: unknown[]): void;
}

/**
 * The loops over an array's elements, generated per array codec so that each has its own
 * `element.read/size/write` call site: a single shared loop would see every element type and
 * go megamorphic (V8 then stops inlining the element codec). Nothing schema-derived is printed.
 */
function elementLoops(element: ValueCodec): ElementLoops {
  const factory = new Function(
    'E',
    'atIndex',
    `return {
      read(r, n) {
        const out = [];
        let i = 0;
        try {
          for (; i < n; i++) out.push(E.read(r));
        } catch (err) {
          throw atIndex(err, i);
        }
        return out;
      },
      size(a) {
        let n = 0;
        let i = 0;
        try {
          for (; i < a.length; i++) n += E.size(a[i]);
        } catch (err) {
          throw atIndex(err, i);
        }
        return n;
      },
      write(w, a) {
        for (let i = 0; i < a.length; i++) E.write(w, a[i]);
      },
    };`,
  ) as (e: ValueCodec, at: typeof atIndex) => ElementLoops;
  return factory(element, atIndex);
}

/** Arrays of a primitive or of structs: int32 count, or unsigned varint count+1 when compact. */
export function arrayCodec(element: ValueCodec, compact: boolean, nullable: boolean): ValueCodec {
  // Kafka bounds the count by the bytes left; elements of at least `minSize` bound it tighter.
  const elementMin = Math.max(1, element.minSize);
  const loops = elementLoops(element);
  return {
    minSize: compact ? 1 : 4,
    read(r) {
      let n: number;
      if (compact) {
        n = readUnsignedVarint(r) - 1;
        if (n < 0) {
          if (nullable) return null;
          throw new FieldPathError('null in a non-nullable array');
        }
      } else {
        need(r, 4);
        n = r.buf.readInt32BE(r.pos);
        r.pos += 4;
        if (n < 0) {
          if (n === -1 && nullable) return null;
          throw new FieldPathError(n === -1 ? 'null in a non-nullable array' : `negative array length ${n}`);
        }
      }
      const left = r.end - r.pos;
      if (n > left / elementMin) throw new FieldPathError(`array of ${n} elements cannot fit in the ${left} bytes left`);
      return loops.read(r, n);
    },
    size(v) {
      if (v === null) {
        if (!nullable) throw nullNotAllowed('the array');
        return compact ? 1 : 4;
      }
      if (!Array.isArray(v)) throw expected('an array', v);
      return (compact ? unsignedVarintSize(v.length + 1) : 4) + loops.size(v);
    },
    write(w, v) {
      if (v === null) {
        if (compact) w.buf[w.pos++] = 0;
        else {
          w.buf.writeInt32BE(-1, w.pos);
          w.pos += 4;
        }
        return;
      }
      const a = v as unknown[];
      if (compact) writeUnsignedVarint(w, a.length + 1);
      else {
        w.buf.writeInt32BE(a.length, w.pos);
        w.pos += 4;
      }
      loops.write(w, a);
    },
  };
}

const fixed: Record<string, ValueCodec> = { bool, int8, int16, uint16, int32, uint32, int64, float64, uuid };
const variable = {
  string: [stringCodec(false), stringCodec(true), compactStringCodec(false), compactStringCodec(true)],
  bytes: [bytesCodec(false), bytesCodec(true), compactBytesCodec(false), compactBytesCodec(true)],
} as const;

/** The shared codec of a primitive type; `compact` and `nullable` matter only to strings and bytes. */
export function primitiveCodec(type: string, compact: boolean, nullable: boolean): ValueCodec {
  if (Object.hasOwn(fixed, type)) return fixed[type];
  const family = type === 'string' ? variable.string : type === 'bytes' || type === 'records' ? variable.bytes : undefined;
  if (family === undefined) throw new Error(`no codec for type ${type}`);
  return family[(compact ? 2 : 0) + (nullable ? 1 : 0)];
}
