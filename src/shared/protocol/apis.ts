/**
 * The APIs this codec speaks and their version ranges, as an ApiVersions response lists them.
 * The ranges are the schemas' validVersions: what the codec can encode and decode. A broker that
 * serves fewer versions (say, only RecordBatch v2 produce, from v3) narrows them itself.
 */
import type { MessageSchema } from './schema.js';
import { ApiKeys, MESSAGE_SCHEMAS } from './schemas.generated.js';

export { ApiKeys };

export type ApiKey = (typeof ApiKeys)[keyof typeof ApiKeys];

export interface SupportedApi {
  readonly apiKey: number;
  /** Kafka's API name: "Produce", "ApiVersions", ... */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
}

function supportedApis(): readonly SupportedApi[] {
  const responses = new Map<number, MessageSchema>();
  for (const s of MESSAGE_SCHEMAS) if (s.kind === 'response') responses.set(s.apiKey as number, s);
  const apis: SupportedApi[] = [];
  for (const request of MESSAGE_SCHEMAS) {
    if (request.kind !== 'request') continue;
    const response = responses.get(request.apiKey as number);
    if (response === undefined) throw new Error(`${request.name} has no response schema`);
    // Kafka's request and response schemas share one version range; take the overlap regardless.
    const minVersion = Math.max(request.validVersions[0], response.validVersions[0]);
    const maxVersion = Math.min(request.validVersions[1], response.validVersions[1]);
    apis.push(Object.freeze({ apiKey: request.apiKey as number, name: request.name.replace(/Request$/, ''), minVersion, maxVersion }));
  }
  return Object.freeze(apis.sort((a, b) => a.apiKey - b.apiKey));
}

export const SUPPORTED_APIS: readonly SupportedApi[] = supportedApis();

const byKey = new Map(SUPPORTED_APIS.map((api) => [api.apiKey, api]));

export function supportedApi(apiKey: number): SupportedApi | undefined {
  return byKey.get(apiKey);
}

export function isSupported(apiKey: number, apiVersion: number): boolean {
  const api = byKey.get(apiKey);
  return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
}
