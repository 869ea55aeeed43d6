/**
 * Hand-computed byte vectors: header versions, compact strings and arrays, tagged fields, the
 * ApiVersions response-header exception, and the consumer protocol's version prefix.
 */
import { describe, expect, test } from 'vitest';
import { decodeData, decodeRequest, decodeResponse, encodeData, encodeRequest, encodeResponse } from '../../../src/shared/protocol/index.js';

const hex = (...parts: string[]): Buffer => Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');

describe('request frames', () => {
  test('ApiVersionsRequest v0: size, request header v1 (int16 client id), empty body', () => {
    const frame = encodeRequest({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'ab' }, {});
    expect(frame).toEqual(hex('0000000c', '0012 0000', '00000001', '0002 6162'));
    expect(decodeRequest(frame.subarray(4))).toEqual({
      header: { apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'ab', headerVersion: 1, bodyOffset: 12 },
      body: { clientSoftwareName: '', clientSoftwareVersion: '' },
    });
  });

  test('ApiVersionsRequest v3: header v2 keeps an int16 client id, then tagged fields; compact strings', () => {
    const frame = encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 7, clientId: 'c' }, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    expect(frame).toEqual(hex('00000011', '0012 0003', '00000007', '0001 63', '00', '02 78', '02 31', '00'));
  });

  test('a null client id is int16 -1 in both header versions', () => {
    expect(encodeRequest({ apiKey: 18, apiVersion: 1, correlationId: 2, clientId: null }, {})).toEqual(hex('0000000a', '0012 0001', '00000002', 'ffff'));
    expect(encodeRequest({ apiKey: 18, apiVersion: 3, correlationId: 2 }, {})).toEqual(hex('0000000e', '0012 0003', '00000002', 'ffff', '00', '01 01 00'));
  });

  test('ProduceRequest v9: compact nullable string, compact arrays, compact records, tagged sections', () => {
    const body = { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records: hex('010203') }] }] };
    const frame = encodeRequest({ apiKey: 0, apiVersion: 9, correlationId: 1, clientId: null }, body);
    expect(frame).toEqual(hex('00000021', '0000 0009 00000001 ffff 00', '00 ffff 000003e8', '02 0274', '02 00000000 04 010203 00', '00', '00'));
    expect(decodeRequest(frame.subarray(4)).body).toEqual(body);
  });

  test('MetadataRequest v9: null topics is a compact null array; v8-10 include both authorized-operations flags', () => {
    const frame = encodeRequest({ apiKey: 3, apiVersion: 9, correlationId: 2, clientId: 'x' }, { topics: null });
    expect(frame).toEqual(hex('00000011', '0003 0009 00000002 0001 78 00', '00 01 00 00 00'));
    expect(decodeRequest(frame.subarray(4)).body).toEqual({ topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  });

  test('MetadataRequest v0: topics are not nullable before v1', () => {
    expect(() => encodeRequest({ apiKey: 3, apiVersion: 0, correlationId: 2, clientId: 'x' }, { topics: null })).toThrow(
      'cannot encode MetadataRequest v0: topics: null is not allowed: the array is not nullable in this version',
    );
  });
});

describe('response frames', () => {
  test('ApiVersionsResponse v3 has response header v0 (no tagged fields after the correlation id)', () => {
    const body = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0 };
    const frame = encodeResponse(18, 3, 7, body);
    expect(frame).toEqual(hex('00000013', '00000007', '0000', '02 0012 0000 0004 00', '00000000', '00'));
    expect(decodeResponse(18, 3, frame.subarray(4))).toEqual({
      correlationId: 7,
      body: { ...body, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false },
    });
  });

  test('ApiVersionsResponse v3 with a tagged field set: tag 1 (FinalizedFeaturesEpoch), 8 bytes', () => {
    const frame = encodeResponse(18, 3, 7, { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0, finalizedFeaturesEpoch: 5n });
    expect(frame).toEqual(hex('0000001d', '00000007', '0000', '02 0012 0000 0004 00', '00000000', '01 01 08 0000000000000005'));
    expect(decodeResponse(18, 3, frame.subarray(4)).body.finalizedFeaturesEpoch).toBe(5n);
  });

  test('ProduceResponse v10: response header v1, tagged struct in a partition, tagged array at the top', () => {
    const body = {
      responses: [{
        name: 't',
        partitionResponses: [{
          index: 0, errorCode: 6, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors: [], errorMessage: null,
          currentLeader: { leaderId: 2, leaderEpoch: 3 },
        }],
      }],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'h', port: 9092, rack: null }],
    };
    const frame = encodeResponse(0, 10, 9, body);
    expect(frame).toEqual(hex(
      '0000004a', '00000009 00',
      '02 0274 02', '00000000 0006', 'ffffffffffffffff ffffffffffffffff ffffffffffffffff', '01 00',
      '01 00 09 00000002 00000003 00', // partition: one tagged field, tag 0, 9 bytes: LeaderIdAndEpoch + its own empty tag section
      '00', // topic's tagged fields
      '00000000',
      '01 00 0d 02 00000002 0268 00002384 00 00', // top: tag 0, 13 bytes: compact array of one NodeEndpoint
    ));
    expect(decodeResponse(0, 10, frame.subarray(4)).body).toEqual(body);
  });

  test('a tagged field equal to its default is left out, as Kafka does', () => {
    const withDefault = encodeResponse(0, 10, 9, { responses: [], throttleTimeMs: 0, nodeEndpoints: [] });
    expect(withDefault).toEqual(hex('0000000b', '00000009 00', '01', '00000000', '00'));
  });
});

describe('consumer protocol data', () => {
  test('ConsumerProtocolSubscription v0: int16 version, [string] topics, nullable bytes', () => {
    const bytes = encodeData('ConsumerProtocolSubscription', 0, { topics: ['a', 'b'], userData: null });
    expect(bytes).toEqual(hex('0000', '00000002 0001 61 0001 62', 'ffffffff'));
    expect(decodeData('ConsumerProtocolSubscription', bytes)).toEqual({
      version: 0,
      body: { topics: ['a', 'b'], userData: null, ownedPartitions: [], generationId: -1, rackId: null },
    });
  });

  test('ConsumerProtocolAssignment v3', () => {
    const bytes = encodeData('ConsumerProtocolAssignment', 3, { assignedPartitions: [{ topic: 't', partitions: [0, 2] }], userData: hex('ab') });
    expect(bytes).toEqual(hex('0003', '00000001 0001 74 00000002 00000000 00000002', '00000001 ab'));
  });
});
