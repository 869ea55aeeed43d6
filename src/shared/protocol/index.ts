/**
 * The Kafka wire-protocol codec: request and response frames, consumer-protocol data, the APIs
 * and versions it speaks, and Kafka's error codes.
 *
 * Bodies are plain objects keyed by the schema field names with the first letter lower-cased
 * ("TopicData" → "topicData"). int64 is a bigint (encoding also takes a safe integer); uuid is
 * Kafka's printed form, 22 characters of URL-safe base64 ("AAAAAAAAAAAAAAAAAAAAAA" is the zero
 * uuid); bytes and records are Uint8Arrays (decoded ones are Buffer views of the frame).
 * Decoding fills every field of the schema, taking defaults for fields the version lacks;
 * encoding ignores fields the version lacks and sends undefined fields as their defaults.
 */
export { ApiKeys, SUPPORTED_APIS, isSupported, supportedApi, type ApiKey, type SupportedApi } from './apis.js';
export type { Body } from './codec.js';
export { ErrorCodes, KAFKA_ERRORS, errorInfo, kafkaError, type ErrorName, type KafkaErrorInfo } from './error-codes.js';
export {
  DataMessages,
  decodeData,
  decodeRequest,
  decodeRequestBody,
  decodeResponse,
  encodeData,
  encodeRequest,
  encodeResponse,
  type FrameAllocator,
  responseCorrelationId,
  type DataMessage,
  type RequestHeaderInput,
} from './frames.js';
export { decodeRequestHeader, requestHeaderVersion, responseHeaderVersion, type DecodedRequestHeader, type RequestHeader } from './headers.js';
export { MESSAGE_SCHEMAS, SCHEMA_COMMIT } from './schemas.generated.js';
export { OPEN_VERSION, type FieldSchema, type MessageSchema, type VersionRange } from './schema.js';
export { ZERO_UUID } from './types.js';
