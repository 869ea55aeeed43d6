/**
 * Message codecs: finds a message's schema by API key or name, compiles it once per version
 * (cached), and turns every failure into a ProtocolError that names the message, version and
 * field path, e.g. "ProduceRequest v9: topicData[0].partitionData: truncated (...)".
 */
import { ProtocolError } from '../errors.js';
import { compileStruct, type StructCodec } from './compile.js';
import { inRange, type MessageSchema } from './schema.js';
import { MESSAGE_SCHEMAS } from './schemas.generated.js';
import { FieldPathError, Reader, type Writer } from './types.js';

/** A message body: the schema's fields by camelCase name (int64 as bigint, uuid as base64url). */
export type Body = Record<string, unknown>;

function describeFailure(err: unknown): string {
  if (err instanceof FieldPathError) return err.path === '' ? err.reason : `${err.path}: ${err.reason}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export class MessageCodec {
  readonly schema: MessageSchema;
  readonly version: number;
  readonly flexible: boolean;
  readonly #struct: StructCodec;

  constructor(schema: MessageSchema, version: number) {
    this.schema = schema;
    this.version = version;
    this.flexible = inRange(schema.flexibleVersions, version);
    this.#struct = compileStruct(schema.fields, version, this.flexible);
  }

  get label(): string {
    return `${this.schema.name} v${this.version}`;
  }

  /** Validates `body` and returns its encoded size in bytes. */
  size(body: unknown): number {
    try {
      return this.#struct.size(body);
    } catch (err) {
      if (err instanceof FieldPathError) throw new ProtocolError(`cannot encode ${this.label}: ${describeFailure(err)}`);
      throw err;
    }
  }

  /** Writes a body that `size` accepted. */
  write(w: Writer, body: unknown): void {
    this.#struct.write(w, body);
  }

  /** A body with every field at its default. */
  defaults(): Body {
    return this.#struct.makeDefault();
  }

  /** Decodes one body from `r`, leaving `r.pos` after it; bytes after it are the caller's. */
  read(r: Reader): Body {
    try {
      return this.#struct.read(r) as Body;
    } catch (err) {
      // Anything thrown while reading untrusted bytes is the frame's fault: report it as such.
      throw new ProtocolError(`${this.label}: ${describeFailure(err)}`);
    }
  }

  /**
   * Decodes `buf[start, end)`. Unless `allowTrailing`, bytes left after the body are an error:
   * they mean the peer and this codec disagree on the layout.
   */
  decode(buf: Buffer, start: number, end: number, allowTrailing = false): Body {
    const r = new Reader(buf, start, end);
    const body = this.read(r);
    if (!allowTrailing && r.pos !== end) throw new ProtocolError(`${this.label}: ${end - r.pos} bytes left over after the body`);
    return body;
  }
}

const requestSchemas = new Map<number, MessageSchema>();
const responseSchemas = new Map<number, MessageSchema>();
const schemasByName = new Map<string, MessageSchema>();
for (const schema of MESSAGE_SCHEMAS) {
  schemasByName.set(schema.name, schema);
  if (schema.kind === 'request') requestSchemas.set(schema.apiKey as number, schema);
  if (schema.kind === 'response') responseSchemas.set(schema.apiKey as number, schema);
}

export function requestSchema(apiKey: number): MessageSchema | undefined {
  return requestSchemas.get(apiKey);
}

export function responseSchema(apiKey: number): MessageSchema | undefined {
  return responseSchemas.get(apiKey);
}

export function schemaByName(name: string): MessageSchema | undefined {
  return schemasByName.get(name);
}

const compiled = new Map<MessageSchema, MessageCodec[]>();

/** The compiled codec of `schema` at `version`; a version outside validVersions is a ProtocolError. */
export function messageCodec(schema: MessageSchema, version: number): MessageCodec {
  let byVersion = compiled.get(schema);
  if (byVersion === undefined) {
    byVersion = [];
    compiled.set(schema, byVersion);
  }
  const cached = byVersion[version];
  if (cached !== undefined) return cached;
  if (!Number.isInteger(version) || !inRange(schema.validVersions, version)) {
    throw new ProtocolError(`${schema.name}: version ${version} is not supported (valid versions ${schema.validVersions[0]}-${schema.validVersions[1]})`);
  }
  const codec = new MessageCodec(schema, version);
  byVersion[version] = codec;
  return codec;
}

/** A Buffer over the same memory as `bytes`, so decoded byte fields are views, never copies. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
