/**
 * Whole frames: a request or response is `int32 size` + header + body, and this module builds
 * and reads them. Encoders return the frame with its size prefix, ready for a socket or a ring;
 * decoders take the frame without it (the transport has already used it to cut the frame).
 * Decoded `bytes` and `records` fields are views of the frame, not copies: copy them if the
 * frame's memory is about to be reused.
 */
import { ProtocolError } from '../errors.js';
import { ApiKeys } from './apis.js';
import { asBuffer, messageCodec, requestSchema, responseSchema, schemaByName, type Body, type MessageCodec } from './codec.js';
import { decodeRequestHeader, prepareRequestHeader, prepareResponseHeader, readResponseHeader, type DecodedRequestHeader, type RequestHeader } from './headers.js';
import type { MessageSchema } from './schema.js';
import { Writer } from './types.js';

const MAX_FRAME_BYTES = 0x7fffffff;

function requestCodec(apiKey: number, apiVersion: number): MessageCodec {
  const schema = requestSchema(apiKey);
  if (schema === undefined) throw new ProtocolError(`API key ${apiKey} is not supported (request version ${apiVersion})`);
  return messageCodec(schema, apiVersion);
}

function responseCodec(apiKey: number, apiVersion: number): MessageCodec {
  const schema = responseSchema(apiKey);
  if (schema === undefined) throw new ProtocolError(`API key ${apiKey} is not supported (response version ${apiVersion})`);
  return messageCodec(schema, apiVersion);
}

/** Where a frame's memory comes from: a buffer of exactly `bytes` bytes, contents undefined. */
export type FrameAllocator = (bytes: number) => Buffer;

/** Allocates the frame once, at its exact size, and writes the size prefix, header and body. */
function frame(label: string, header: { size: number; write(w: Writer): void }, codec: MessageCodec, body: Body, allocate: FrameAllocator = Buffer.allocUnsafe): Buffer {
  const bodySize = codec.size(body);
  const size = header.size + bodySize;
  if (size > MAX_FRAME_BYTES) throw new ProtocolError(`${label}: a frame of ${size} bytes exceeds the int32 size prefix`);
  const buf = allocate(4 + size);
  buf.writeInt32BE(size, 0);
  const w = new Writer(buf, 4);
  header.write(w);
  codec.write(w, body);
  if (w.pos !== buf.length) throw new Error(`${label}: wrote ${w.pos} bytes into a frame of ${buf.length}`);
  return buf;
}

export type RequestHeaderInput = Omit<RequestHeader, 'clientId'> & { clientId?: string | null };

/**
 * A request frame, size prefix included: request header v1, or v2 for flexible versions. Body
 * fields the version lacks are ignored; fields left undefined are sent as their defaults.
 */
export function encodeRequest(header: RequestHeaderInput, body: Body): Buffer {
  const codec = requestCodec(header.apiKey, header.apiVersion);
  const h = prepareRequestHeader({ apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId ?? null });
  return frame(codec.label, h, codec, body);
}

/** The body of a request whose header `decodeRequestHeader` read; an unsupported API or version is a ProtocolError. */
export function decodeRequestBody(header: DecodedRequestHeader, frameBytes: Uint8Array): Body {
  const buf = asBuffer(frameBytes);
  return requestCodec(header.apiKey, header.apiVersion).decode(buf, header.bodyOffset, buf.length);
}

/** A request frame (without its size prefix): header and body. */
export function decodeRequest(frameBytes: Uint8Array): { header: DecodedRequestHeader; body: Body } {
  const header = decodeRequestHeader(frameBytes);
  return { header, body: decodeRequestBody(header, frameBytes) };
}

/**
 * A response frame, size prefix included; ApiVersions responses always get response header v0.
 * `allocate` gives the frame's memory (Buffer.allocUnsafe by default).
 */
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: Body, allocate?: FrameAllocator): Buffer {
  const codec = responseCodec(apiKey, apiVersion);
  return frame(codec.label, prepareResponseHeader(apiKey, apiVersion, correlationId), codec, body, allocate);
}

/** The correlation id of a response frame (without its size prefix), to find the request it answers. */
export function responseCorrelationId(frameBytes: Uint8Array): number {
  if (frameBytes.length < 4) throw new ProtocolError(`ResponseHeader: a frame of ${frameBytes.length} bytes is too short for a header`);
  return asBuffer(frameBytes).readInt32BE(0);
}

/**
 * A response frame (without its size prefix) to a request of `apiKey` at `apiVersion`.
 *
 * ApiVersions: a broker that does not support the requested version answers with a v0 body
 * (error UNSUPPORTED_VERSION and its version ranges). As Kafka's client does, a body that does
 * not decode at the requested version is decoded again at v0.
 */
export function decodeResponse(apiKey: number, apiVersion: number, frameBytes: Uint8Array): { correlationId: number; body: Body } {
  const codec = responseCodec(apiKey, apiVersion);
  const buf = asBuffer(frameBytes);
  const { correlationId, bodyOffset } = readResponseHeader(buf, apiKey, apiVersion);
  try {
    return { correlationId, body: codec.decode(buf, bodyOffset, buf.length) };
  } catch (err) {
    if (apiKey !== ApiKeys.API_VERSIONS || apiVersion === 0) throw err;
    try {
      return { correlationId, body: responseCodec(apiKey, 0).decode(buf, bodyOffset, buf.length) };
    } catch {
      throw err;
    }
  }
}

/** The versioned "data" structs carried as bytes inside group messages. */
export const DataMessages = {
  /** JoinGroup protocol metadata for protocolType "consumer". */
  CONSUMER_PROTOCOL_SUBSCRIPTION: 'ConsumerProtocolSubscription',
  /** SyncGroup assignment bytes for protocolType "consumer". */
  CONSUMER_PROTOCOL_ASSIGNMENT: 'ConsumerProtocolAssignment',
} as const;

export type DataMessage = (typeof DataMessages)[keyof typeof DataMessages];

function dataSchema(name: DataMessage): MessageSchema {
  const schema = schemaByName(name);
  if (schema === undefined || schema.kind !== 'data') throw new ProtocolError(`${name} is not a data message`);
  return schema;
}

/** `int16 version` + body, as the consumer protocol's metadata and assignment bytes are. */
export function encodeData(name: DataMessage, version: number, body: Body): Buffer {
  const codec = messageCodec(dataSchema(name), version);
  const size = 2 + codec.size(body);
  const buf = Buffer.allocUnsafe(size);
  buf.writeInt16BE(version, 0);
  const w = new Writer(buf, 2);
  codec.write(w, body);
  if (w.pos !== size) throw new Error(`${codec.label}: wrote ${w.pos} bytes into ${size}`);
  return buf;
}

/**
 * Decodes consumer protocol bytes. A version newer than this codec knows is read as the newest
 * known one and the bytes after it are ignored, as Kafka's ConsumerProtocol does: newer versions
 * only append fields. Returns the version the body was decoded at.
 */
export function decodeData(name: DataMessage, bytes: Uint8Array): { version: number; body: Body } {
  const schema = dataSchema(name);
  const buf = asBuffer(bytes);
  if (buf.length < 2) throw new ProtocolError(`${name}: ${buf.length} bytes are too short for a version`);
  const wireVersion = buf.readInt16BE(0);
  const newest = schema.validVersions[1];
  const version = wireVersion > newest ? newest : wireVersion;
  const body = messageCodec(schema, version).decode(buf, 2, buf.length, wireVersion > newest);
  return { version, body };
}
