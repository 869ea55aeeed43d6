/**
 * Request and response headers. Which header version goes with an API version is Kafka's rule:
 * request header v2 (tagged fields) for flexible API versions and v1 otherwise; response header
 * v1 for flexible versions and v0 otherwise, except ApiVersions, whose response always has
 * header v0 so that a client can read it whatever version the broker answered with (KIP-511).
 */
import { ProtocolError } from '../errors.js';
import { asBuffer, messageCodec, requestSchema, responseSchema, schemaByName } from './codec.js';
import { inRange, type MessageSchema } from './schema.js';
import { ApiKeys } from './schemas.generated.js';
import { Reader, type Writer } from './types.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Nullable: Kafka clients may send no client id. */
  clientId: string | null;
}

export interface DecodedRequestHeader extends RequestHeader {
  /** 1, or 2 for flexible versions. */
  headerVersion: number;
  /** Where the body starts in the frame. */
  bodyOffset: number;
}

const REQUEST_HEADER = schemaByName('RequestHeader') as MessageSchema;
const RESPONSE_HEADER = schemaByName('ResponseHeader') as MessageSchema;

/**
 * The request header version for an API version. An unknown API gets v1: its header still
 * decodes (the broker answers it), only a v2 tagged-field section would go unread.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const schema = requestSchema(apiKey);
  return schema !== undefined && inRange(schema.flexibleVersions, apiVersion) ? 2 : 1;
}

export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === ApiKeys.API_VERSIONS) return 0;
  const schema = responseSchema(apiKey);
  return schema !== undefined && inRange(schema.flexibleVersions, apiVersion) ? 1 : 0;
}

function requestHeaderBody(header: RequestHeader): Record<string, unknown> {
  return {
    requestApiKey: header.apiKey,
    requestApiVersion: header.apiVersion,
    correlationId: header.correlationId,
    clientId: header.clientId,
  };
}

/** The request header as the codec writes it, with its version and size. */
export function prepareRequestHeader(header: RequestHeader): { size: number; write(w: Writer): void } {
  const codec = messageCodec(REQUEST_HEADER, requestHeaderVersion(header.apiKey, header.apiVersion));
  const body = requestHeaderBody(header);
  const size = codec.size(body);
  return { size, write: (w) => codec.write(w, body) };
}

/**
 * Decodes the header of a request frame (without its size prefix). It does not check that the
 * API and version are supported: the broker needs the correlation id to refuse them.
 */
export function decodeRequestHeader(frame: Uint8Array): DecodedRequestHeader {
  const buf = asBuffer(frame);
  if (buf.length < 4) throw new ProtocolError(`RequestHeader: a frame of ${buf.length} bytes is too short for a header`);
  const apiKey = buf.readInt16BE(0);
  const apiVersion = buf.readInt16BE(2);
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const r = new Reader(buf, 0, buf.length);
  const h = messageCodec(REQUEST_HEADER, headerVersion).read(r);
  return {
    apiKey,
    apiVersion,
    correlationId: h.correlationId as number,
    clientId: h.clientId as string | null,
    headerVersion,
    bodyOffset: r.pos,
  };
}

/** The response header as the codec writes it: the correlation id, and in v1 an empty tagged-field section. */
export function prepareResponseHeader(apiKey: number, apiVersion: number, correlationId: number): { size: number; write(w: Writer): void } {
  const codec = messageCodec(RESPONSE_HEADER, responseHeaderVersion(apiKey, apiVersion));
  const body = { correlationId };
  const size = codec.size(body);
  return { size, write: (w) => codec.write(w, body) };
}

/** Decodes a response header; returns the correlation id and where the body starts. */
export function readResponseHeader(buf: Buffer, apiKey: number, apiVersion: number): { correlationId: number; bodyOffset: number } {
  const r = new Reader(buf, 0, buf.length);
  const h = messageCodec(RESPONSE_HEADER, responseHeaderVersion(apiKey, apiVersion)).read(r);
  return { correlationId: h.correlationId as number, bodyOffset: r.pos };
}
