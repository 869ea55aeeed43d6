/**
 * Frame-level behaviour: header versions, unknown APIs and versions, defaults and version
 * filtering, tagged-field skipping, the ApiVersions fallback, encode-side validation, and
 * decode errors that name the message, version and field path.
 */
import { describe, expect, test } from 'vitest';
import { ProtocolError } from '../../../src/shared/errors.js';
import {
  ApiKeys,
  decodeData,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeData,
  encodeRequest,
  encodeResponse,
  isSupported,
  MESSAGE_SCHEMAS,
  requestHeaderVersion,
  responseCorrelationId,
  responseHeaderVersion,
  SUPPORTED_APIS,
} from '../../../src/shared/protocol/index.js';

const hex = (...parts: string[]): Buffer => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('supported APIs', () => {
  test('the 17 APIs with the schemas version ranges, in API key order', () => {
    expect(SUPPORTED_APIS.map((a) => `${a.apiKey}:${a.name}:${a.minVersion}-${a.maxVersion}`)).toEqual([
      '0:Produce:0-11', '1:Fetch:0-17', '2:ListOffsets:0-10', '3:Metadata:0-12', '8:OffsetCommit:0-9', '9:OffsetFetch:0-9',
      '10:FindCoordinator:0-6', '11:JoinGroup:0-9', '12:Heartbeat:0-4', '13:LeaveGroup:0-5', '14:SyncGroup:0-5',
      '15:DescribeGroups:0-5', '16:ListGroups:0-5', '18:ApiVersions:0-4', '19:CreateTopics:0-7', '20:DeleteTopics:0-6',
      '22:InitProducerId:0-5',
    ]);
    for (const api of SUPPORTED_APIS) expect(Object.entries(ApiKeys).find(([, key]) => key === api.apiKey)).toBeDefined();
    expect(isSupported(ApiKeys.FETCH, 17)).toBe(true);
    expect(isSupported(ApiKeys.FETCH, 18)).toBe(false);
    expect(isSupported(7, 0)).toBe(false);
  });

  test('header versions follow flexibleVersions; ApiVersions responses always use v0', () => {
    expect(requestHeaderVersion(ApiKeys.PRODUCE, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKeys.PRODUCE, 9)).toBe(2);
    expect(requestHeaderVersion(ApiKeys.API_VERSIONS, 3)).toBe(2);
    expect(requestHeaderVersion(999, 0)).toBe(1);
    expect(responseHeaderVersion(ApiKeys.FETCH, 11)).toBe(0);
    expect(responseHeaderVersion(ApiKeys.FETCH, 12)).toBe(1);
    expect(responseHeaderVersion(ApiKeys.API_VERSIONS, 3)).toBe(0);
    expect(responseHeaderVersion(ApiKeys.API_VERSIONS, 4)).toBe(0);
  });

  test('every schema is either an API message (request+response) or a header or a data struct', () => {
    expect(MESSAGE_SCHEMAS.filter((s) => s.kind === 'request')).toHaveLength(17);
    expect(MESSAGE_SCHEMAS.filter((s) => s.kind === 'response')).toHaveLength(17);
    expect(MESSAGE_SCHEMAS.filter((s) => s.kind === 'header').map((s) => s.name).sort()).toEqual(['RequestHeader', 'ResponseHeader']);
    expect(MESSAGE_SCHEMAS.filter((s) => s.kind === 'data').map((s) => s.name).sort()).toEqual(['ConsumerProtocolAssignment', 'ConsumerProtocolSubscription']);
  });
});

describe('unknown APIs and versions', () => {
  test('the header of an unknown API still decodes, so the broker can answer; the body does not', () => {
    const frame = hex('0063 0000 0000002a 0003 616263', 'deadbeef');
    expect(decodeRequestHeader(frame)).toEqual({ apiKey: 99, apiVersion: 0, correlationId: 42, clientId: 'abc', headerVersion: 1, bodyOffset: 13 });
    expect(protocolError(() => decodeRequest(frame)).message).toBe('API key 99 is not supported (request version 0)');
  });

  test('an unsupported version of a known API: header decoded, body refused with the valid range', () => {
    const frame = hex('0012 0005 00000007 0001 63 00', '00');
    expect(decodeRequestHeader(frame)).toMatchObject({ apiKey: 18, apiVersion: 5, correlationId: 7, clientId: 'c', headerVersion: 2 });
    expect(protocolError(() => decodeRequest(frame)).message).toBe('ApiVersionsRequest: version 5 is not supported (valid versions 0-4)');
    expect(protocolError(() => encodeRequest({ apiKey: 0, apiVersion: 12, correlationId: 1 }, {})).message).toBe(
      'ProduceRequest: version 12 is not supported (valid versions 0-11)',
    );
    expect(protocolError(() => encodeResponse(5, 0, 1, {})).message).toBe('API key 5 is not supported (response version 0)');
  });

  test('the correlation id of a response frame, whatever its API', () => {
    expect(responseCorrelationId(encodeResponse(ApiKeys.FETCH, 12, 1234, {}).subarray(4))).toBe(1234);
  });

  test('frames too short for a header', () => {
    expect(protocolError(() => decodeRequestHeader(hex('0012'))).message).toMatch(/too short/);
    expect(protocolError(() => decodeRequestHeader(hex('0012 0000 0000'))).message).toMatch(/^RequestHeader v1: correlationId: truncated/);
    expect(protocolError(() => responseCorrelationId(hex('0000'))).message).toMatch(/too short/);
  });
});

describe('versions and defaults', () => {
  test('fields outside the version are ignored on encode and defaulted on decode', () => {
    const body = { transactionalId: 'tx', acks: 1, timeoutMs: 5, topicData: [] };
    const v2 = encodeRequest({ apiKey: 0, apiVersion: 2, correlationId: 1, clientId: null }, body);
    expect(v2).toEqual(encodeRequest({ apiKey: 0, apiVersion: 2, correlationId: 1, clientId: null }, { acks: 1, timeoutMs: 5, topicData: [] }));
    expect(decodeRequest(v2.subarray(4)).body).toEqual({ transactionalId: null, acks: 1, timeoutMs: 5, topicData: [] });
  });

  test('tagged fields of later versions are ignored too', () => {
    const body = { maxWaitMs: 100, minBytes: 1, topics: [] };
    const plain = encodeRequest({ apiKey: ApiKeys.FETCH, apiVersion: 11, correlationId: 1 }, body);
    expect(encodeRequest({ apiKey: ApiKeys.FETCH, apiVersion: 11, correlationId: 1 }, { ...body, clusterId: 'c', replicaState: { replicaId: 3, replicaEpoch: 1n } })).toEqual(plain);
    expect(decodeRequest(plain.subarray(4)).body).toMatchObject({ clusterId: null, replicaId: -1, replicaState: { replicaId: -1, replicaEpoch: -1n } });
  });

  test('undefined fields are encoded as their defaults (schema default, else the type zero value)', () => {
    const frame = encodeResponse(ApiKeys.PRODUCE, 8, 3, { responses: [{ name: 't', partitionResponses: [{ index: 1 }] }] });
    expect(decodeResponse(ApiKeys.PRODUCE, 8, frame.subarray(4)).body).toEqual({
      responses: [{
        name: 't',
        partitionResponses: [{
          index: 1, errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null,
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
        }],
      }],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    });
  });

  test('int64 fields take bigints or safe integers and always decode as bigint', () => {
    const frame = encodeResponse(ApiKeys.INIT_PRODUCER_ID, 0, 1, { throttleTimeMs: 0, errorCode: 0, producerId: 4000, producerEpoch: 2 });
    expect(decodeResponse(ApiKeys.INIT_PRODUCER_ID, 0, frame.subarray(4)).body.producerId).toBe(4000n);
  });

  test('uuids are Kafka\'s printed form: 22 characters of URL-safe base64', () => {
    const topicId = Buffer.from('00112233445566778899aabbccddeeff', 'hex').toString('base64url');
    const frame = encodeRequest({ apiKey: ApiKeys.METADATA, apiVersion: 12, correlationId: 1 }, { topics: [{ topicId, name: null }] });
    expect(frame.includes(hex('00112233445566778899aabbccddeeff'))).toBe(true);
    expect(decodeRequest(frame.subarray(4)).body.topics).toEqual([{ topicId, name: null }]);
  });

  test('decoded bytes and records are views of the frame, not copies', () => {
    const records = Buffer.from('a record batch');
    const frame = encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 1 }, { acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] });
    const view = (decodeRequest(frame.subarray(4)).body.topicData as { partitionData: { records: Buffer }[] }[])[0].partitionData[0].records;
    expect(view).toEqual(records);
    expect(view.buffer).toBe(frame.buffer);
  });

  test('a Uint8Array frame (a ring slot) decodes like a Buffer', () => {
    const frame = encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 7, clientId: 'c' }, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    const u8 = new Uint8Array(frame.buffer.slice(frame.byteOffset + 4, frame.byteOffset + frame.length));
    expect(decodeRequest(u8).body).toEqual({ clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  });
});

describe('tagged fields', () => {
  test('unknown tags are skipped; known ones are read', () => {
    // ApiVersionsRequest v3 body: two compact strings, then 2 tagged fields: tag 7 (unknown, 3 bytes) and tag 9 (unknown, 0 bytes).
    const frame = hex('0012 0003 00000007 0001 63 00', '02 78 02 31', '02 07 03 aabbcc 09 00');
    expect(decodeRequest(frame).body).toEqual({ clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    // The same in the request header's tagged section.
    expect(decodeRequest(hex('0012 0003 00000007 0001 63 01 05 01 ff', '02 78 02 31 00')).header.bodyOffset).toBe(15);
  });

  test('a known tagged field whose size disagrees with its value is an error', () => {
    // ApiVersionsResponse v3: tag 1 (int64) declared as 9 bytes.
    const frame = hex('00000007', '0000 01 00000000', '01 01 09 000000000000000500');
    expect(protocolError(() => decodeResponse(18, 3, frame)).message).toBe('ApiVersionsResponse v3: finalizedFeaturesEpoch: tagged field 1 has 9 bytes but its value took 8');
  });

  test('a tagged field larger than the frame is an error', () => {
    const frame = hex('00000007', '0000 01 00000000', '01 01 7f 00');
    expect(protocolError(() => decodeResponse(18, 3, frame)).message).toBe('ApiVersionsResponse v3: tagged fields: tag 1 has 127 bytes but 1 are left');
  });
});

describe('ApiVersions fallback (KIP-511)', () => {
  test('a v0 body answering a v4 request is read as v0', () => {
    const answer = encodeResponse(18, 0, 11, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] });
    const decoded = decodeResponse(18, 4, answer.subarray(4));
    expect(decoded.correlationId).toBe(11);
    expect(decoded.body).toMatchObject({ errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] });
  });

  test('a body that fits neither version reports the failure at the requested version', () => {
    expect(protocolError(() => decodeResponse(18, 4, hex('00000001 00'))).message).toMatch(/^ApiVersionsResponse v4: /);
  });
});

describe('decode errors name the message, version and field path', () => {
  const produceV9 = (partitionData: string): Buffer => hex('0000 0009 00000001 ffff 00', '00 ffff 000003e8', '02 0274', partitionData);

  test('truncated inside a nested array', () => {
    expect(protocolError(() => decodeRequest(produceV9('02 00000000 05 0102'))).message).toBe(
      'ProduceRequest v9: topicData[0].partitionData[0].records: truncated (needs 4 bytes, 2 left)',
    );
  });

  test('an array count larger than the bytes left could hold, before allocating anything', () => {
    expect(protocolError(() => decodeRequest(produceV9('ffffffff0f'))).message).toBe(
      'ProduceRequest v9: topicData[0].partitionData: array of 4294967294 elements cannot fit in the 0 bytes left',
    );
    expect(protocolError(() => decodeRequest(produceV9('05 00000000 01 00 00000000'))).message).toBe(
      'ProduceRequest v9: topicData[0].partitionData: array of 4 elements cannot fit in the 10 bytes left',
    );
  });

  test('varints longer than 5 bytes', () => {
    expect(protocolError(() => decodeRequest(produceV9('02 00000000 ffffffffff01'))).message).toBe(
      'ProduceRequest v9: topicData[0].partitionData[0].records: unsigned varint is longer than 5 bytes or exceeds 32 bits',
    );
  });

  test('negative lengths other than the null marker, and null where not nullable', () => {
    const v3 = (topic: string): Buffer => hex('0000 0003 00000001 ffff', 'ffff 0001 00000064 00000001', topic);
    expect(protocolError(() => decodeRequest(v3('fffe 00000000'))).message).toBe('ProduceRequest v3: topicData[0].name: negative string length -2');
    expect(protocolError(() => decodeRequest(v3('ffff 00000000'))).message).toBe('ProduceRequest v3: topicData[0].name: null in a non-nullable string');
    expect(protocolError(() => decodeRequest(v3('0001 74 fffffff0'))).message).toBe('ProduceRequest v3: topicData[0].partitionData: negative array length -16');
    expect(protocolError(() => decodeRequest(v3('0001 74 00000001 00000000 fffffffe'))).message).toBe('ProduceRequest v3: topicData[0].partitionData[0].records: negative bytes length -2');
  });

  test('bytes left over after the body', () => {
    expect(protocolError(() => decodeRequest(hex('0012 0000 00000001 ffff', '00'))).message).toBe('ApiVersionsRequest v0: 1 bytes left over after the body');
  });
});

describe('encode-side validation names the field path', () => {
  const header = { apiKey: 0, apiVersion: 9, correlationId: 1 };
  test.each([
    [{ acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 1.5 }] }] }, 'topicData[0].partitionData[0].index: expected an int32, got number 1.5'],
    [{ acks: 1, timeoutMs: 1, topicData: [{ name: null }] }, 'topicData[0].name: null is not allowed: the string is not nullable in this version'],
    [{ acks: 40000, timeoutMs: 1, topicData: [] }, 'acks: expected an int16, got number 40000'],
    [{ acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records: 'text' }] }] }, 'topicData[0].partitionData[0].records: expected a Uint8Array, got string "text"'],
    [{ acks: 1, timeoutMs: 1, topicData: {} }, 'topicData: expected an array, got an object'],
    [{ acks: 1, timeoutMs: 1, topicData: [{ name: 'x'.repeat(40000) }] }, "topicData[0].name: string of 40000 UTF-8 bytes exceeds Kafka's limit of 32767"],
  ])('%#', (body, path) => {
    expect(protocolError(() => encodeRequest(header, body)).message).toBe(`cannot encode ProduceRequest v9: ${path}`);
  });

  test('uuid, int64 and header fields', () => {
    expect(protocolError(() => encodeRequest({ apiKey: 3, apiVersion: 12, correlationId: 1 }, { topics: [{ topicId: 'not-a-uuid' }] })).message).toBe(
      'cannot encode MetadataRequest v12: topics[0].topicId: expected a uuid (22 URL-safe base64 characters), got string "not-a-uuid"',
    );
    expect(protocolError(() => encodeResponse(22, 0, 1, { producerId: 2 ** 64 })).message).toMatch(/producerId: expected an int64/);
    expect(protocolError(() => encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 2 ** 31 }, {})).message).toBe(
      'cannot encode RequestHeader v1: correlationId: expected an int32, got number 2147483648',
    );
  });
});

describe('consumer protocol versions', () => {
  test('a newer subscription version is read as the newest known one, ignoring the fields appended after it', () => {
    const v3 = encodeData('ConsumerProtocolSubscription', 3, { topics: ['t'], userData: null, ownedPartitions: [], generationId: 4, rackId: 'r' });
    const v9 = Buffer.concat([hex('0009'), v3.subarray(2), hex('00000000 ffff')]);
    expect(decodeData('ConsumerProtocolSubscription', v9)).toEqual({
      version: 3,
      body: { topics: ['t'], userData: null, ownedPartitions: [], generationId: 4, rackId: 'r' },
    });
  });

  test('a negative version or too few bytes is a ProtocolError', () => {
    expect(protocolError(() => decodeData('ConsumerProtocolAssignment', hex('ffff 00000000 ffffffff'))).message).toBe(
      'ConsumerProtocolAssignment: version -1 is not supported (valid versions 0-3)',
    );
    expect(protocolError(() => decodeData('ConsumerProtocolAssignment', hex('00'))).message).toMatch(/too short/);
    expect(protocolError(() => decodeData('ConsumerProtocolAssignment', hex('0000 00000001'))).message).toMatch(/^ConsumerProtocolAssignment v0: assignedPartitions/);
  });
});
