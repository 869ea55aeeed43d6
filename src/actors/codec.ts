/**
 * Message codecs: how an actor's messages become bytes to cross a thread. The hot path uses
 * binary codecs (bytes, utf8, struct); json is for rare, small control-like messages.
 */

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Raw bytes, passed through. */
export const bytesCodec: Codec<Uint8Array> = {
  encode: (value) => value,
  decode: (bytes) => bytes,
};

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export const utf8Codec: Codec<string> = {
  encode: (value) => textEncoder.encode(value),
  decode: (bytes) => textDecoder.decode(bytes),
};

/** Nothing at all: for messages that carry no data (a ping, an ack). */
export const voidCodec: Codec<void> = {
  encode: () => new Uint8Array(0),
  decode: () => undefined,
};

export const jsonCodec: Codec<unknown> = {
  encode: (value) => textEncoder.encode(JSON.stringify(value)),
  decode: (bytes) => (bytes.length === 0 ? undefined : JSON.parse(textDecoder.decode(bytes))),
};

/** Field types of a struct codec. Integers are little-endian; string and bytes have a uint32 length. */
export type StructFieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'f64' | 'i64' | 'bool' | 'string' | 'bytes';

type FieldValue<F extends StructFieldType> = F extends 'i64'
  ? bigint
  : F extends 'bool'
    ? boolean
    : F extends 'string'
      ? string
      : F extends 'bytes'
        ? Uint8Array
        : number;

export type StructValue<S extends Record<string, StructFieldType>> = { [K in keyof S]: FieldValue<S[K]> };

const FIXED_BYTES: Partial<Record<StructFieldType, number>> = { u8: 1, u16: 2, u32: 4, i32: 4, f64: 8, i64: 8, bool: 1 };

/**
 * A binary codec for a flat record of named fields, in declaration order. Decoded `bytes` fields
 * are views into the input (copy them to keep them past the handler).
 */
export function structCodec<S extends Record<string, StructFieldType>>(schema: S): Codec<StructValue<S>> {
  const fields = Object.entries(schema) as [keyof S & string, StructFieldType][];
  return {
    encode(value) {
      const encoded: (Uint8Array | undefined)[] = [];
      let size = 0;
      for (const [name, type] of fields) {
        const fixed = FIXED_BYTES[type];
        if (fixed !== undefined) {
          size += fixed;
          encoded.push(undefined);
        } else {
          const raw = value[name] as unknown;
          const bytes = type === 'string' ? textEncoder.encode(raw as string) : (raw as Uint8Array);
          encoded.push(bytes);
          size += 4 + bytes.length;
        }
      }
      const out = new Uint8Array(size);
      const view = new DataView(out.buffer);
      let pos = 0;
      fields.forEach(([name, type], i) => {
        const v = value[name] as unknown;
        switch (type) {
          case 'u8': view.setUint8(pos, v as number); pos += 1; break;
          case 'bool': view.setUint8(pos, v ? 1 : 0); pos += 1; break;
          case 'u16': view.setUint16(pos, v as number, true); pos += 2; break;
          case 'u32': view.setUint32(pos, v as number, true); pos += 4; break;
          case 'i32': view.setInt32(pos, v as number, true); pos += 4; break;
          case 'f64': view.setFloat64(pos, v as number, true); pos += 8; break;
          case 'i64': view.setBigInt64(pos, v as bigint, true); pos += 8; break;
          default: {
            const bytes = encoded[i]!;
            view.setUint32(pos, bytes.length, true);
            out.set(bytes, pos + 4);
            pos += 4 + bytes.length;
          }
        }
      });
      return out;
    },
    decode(bytes) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out: Record<string, unknown> = {};
      let pos = 0;
      for (const [name, type] of fields) {
        switch (type) {
          case 'u8': out[name] = view.getUint8(pos); pos += 1; break;
          case 'bool': out[name] = view.getUint8(pos) !== 0; pos += 1; break;
          case 'u16': out[name] = view.getUint16(pos, true); pos += 2; break;
          case 'u32': out[name] = view.getUint32(pos, true); pos += 4; break;
          case 'i32': out[name] = view.getInt32(pos, true); pos += 4; break;
          case 'f64': out[name] = view.getFloat64(pos, true); pos += 8; break;
          case 'i64': out[name] = view.getBigInt64(pos, true); pos += 8; break;
          default: {
            const length = view.getUint32(pos, true);
            if (pos + 4 + length > bytes.length) throw new RangeError(`struct field '${name}': ${length} bytes past the end`);
            const field = bytes.subarray(pos + 4, pos + 4 + length);
            out[name] = type === 'string' ? textDecoder.decode(field) : field;
            pos += 4 + length;
          }
        }
      }
      return out as StructValue<S>;
    },
  };
}
