/**
 * Serializers for record keys, values and headers: string (UTF-8), buffer (bytes as given), json,
 * or a function. The default takes a string or bytes as they are, which is what most Node code
 * sends. null stays null (a null key or a tombstone value); undefined is null too.
 */
import { ConfigError, SerializationError } from './errors.js';
import type { RecordHeader } from './record-batch/record.js';

export type SerializerFunction<T> = (data: T, topic: string) => Uint8Array | null;
export type SerializerSpec<T> = 'string' | 'buffer' | 'json' | 'default' | SerializerFunction<T>;

/** Record headers as Node code writes them: an object (an array value repeats the key) or a list. */
export type HeadersInput = Readonly<Record<string, string | Uint8Array | null | readonly (string | Uint8Array | null)[]>> | readonly RecordHeader[];

const encoder = new TextEncoder();

function bytesOf(data: unknown, what: string): Uint8Array | null {
  if (data === null || data === undefined) return null;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new SerializationError(`${what}: expected a string, Buffer or Uint8Array (or set a serializer), got ${typeof data}`);
}

/** A serializer from its spec; `what` (key or value) goes into error messages and ConfigErrors. */
export function serializer<T>(spec: SerializerSpec<T> | undefined, what: 'key' | 'value'): SerializerFunction<T> {
  switch (spec) {
    case undefined:
    case 'default':
      return (data) => bytesOf(data, what);
    case 'string':
      return (data) => {
        if (data === null || data === undefined) return null;
        if (typeof data !== 'string') throw new SerializationError(`${what}: the string serializer got ${typeof data}`);
        return Buffer.from(data, 'utf8');
      };
    case 'buffer':
      return (data) => {
        if (data === null || data === undefined) return null;
        if (!(data instanceof Uint8Array)) throw new SerializationError(`${what}: the buffer serializer got ${typeof data}`);
        return data;
      };
    case 'json':
      return (data) => {
        if (data === null || data === undefined) return null;
        const text = JSON.stringify(data);
        if (text === undefined) throw new SerializationError(`${what}: JSON.stringify gave nothing for a ${typeof data}`);
        return encoder.encode(text);
      };
    default:
      if (typeof spec !== 'function') throw new ConfigError(`${what}Serializer`, `must be 'string', 'buffer', 'json' or a function, got ${String(spec)}`);
      return (data, topic) => {
        let bytes: unknown;
        try {
          bytes = spec(data, topic);
        } catch (error) {
          throw new SerializationError(`${what}: the serializer threw: ${(error as Error).message}`, { cause: error });
        }
        if (bytes !== null && !(bytes instanceof Uint8Array)) throw new SerializationError(`${what}: the serializer must return a Uint8Array or null`);
        return bytes;
      };
  }
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);

/** Headers in the batch builder's form. */
export function serializeHeaders(headers: HeadersInput | undefined): readonly RecordHeader[] {
  if (headers === undefined) return NO_HEADERS;
  if (Array.isArray(headers)) return headers as readonly RecordHeader[];
  const list: RecordHeader[] = [];
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (Array.isArray(value)) for (const v of value) list.push({ key, value: bytesOf(v, `header ${key}`) });
    else list.push({ key, value: bytesOf(value, `header ${key}`) });
  }
  return list;
}
