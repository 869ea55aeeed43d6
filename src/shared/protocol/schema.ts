/**
 * The shape of the declarative message tables in `schemas.generated.ts`: Kafka's JSON message
 * schemas reduced to what the codec needs, with version ranges already parsed.
 */

/** The upper bound of an open-ended version range ("3+"): Kafka versions are int16. */
export const OPEN_VERSION = 0x7fff;

/** An inclusive `[min, max]` version range; `[3, OPEN_VERSION]` is Kafka's "3+". */
export type VersionRange = readonly [min: number, max: number];

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

/** A schema default as written in the JSON, already typed: int64 defaults are bigint. */
export type DefaultValue = string | number | bigint | boolean | null;

export interface FieldSchema {
  /** Kafka's field name with its first letter lower-cased ("TopicData" → "topicData"). */
  readonly name: string;
  /** A primitive, `'struct'` (a nested struct, not in an array) or `'array'`. */
  readonly type: PrimitiveType | 'struct' | 'array';
  /** For arrays: the element type. */
  readonly items?: PrimitiveType | 'struct';
  /** Kafka's struct type name, for struct fields and arrays of structs. */
  readonly structName?: string;
  readonly versions: VersionRange;
  readonly nullableVersions?: VersionRange;
  readonly tag?: number;
  readonly taggedVersions?: VersionRange;
  /** A per-field override of the message's flexible versions; null is Kafka's "none". */
  readonly flexibleVersions?: VersionRange | null;
  /** The schema's explicit default; absent means the type's zero value. */
  readonly default?: DefaultValue;
  /** The fields of a struct or of the elements of a struct array, in wire order. */
  readonly fields?: readonly FieldSchema[];
}

export type MessageKind = 'request' | 'response' | 'header' | 'data';

export interface MessageSchema {
  readonly name: string;
  readonly kind: MessageKind;
  /** Requests and responses only. */
  readonly apiKey?: number;
  readonly validVersions: VersionRange;
  /** null when no version is flexible. */
  readonly flexibleVersions: VersionRange | null;
  readonly deprecatedVersions?: VersionRange;
  readonly fields: readonly FieldSchema[];
}

export function inRange(range: VersionRange | null | undefined, version: number): boolean {
  return range !== null && range !== undefined && version >= range[0] && version <= range[1];
}
