import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/shared/errors.js';
import { acksValue, resolveProducerOptions } from '../../src/shared/producer-config.js';
import { memoryLogger } from '../actors/helpers.js';

describe('producer options', () => {
  it("has Kafka's defaults (linger.ms 5 as in Kafka 4.0)", () => {
    expect(resolveProducerOptions({})).toMatchObject({
      lingerMs: 5, batchSize: 16_384, bufferMemory: 33_554_432, maxBlockMs: 60_000, maxRequestSize: 1_048_576, acks: 'all',
      retries: 2_147_483_647, deliveryTimeoutMs: 120_000, requestTimeoutMs: 30_000, retryBackoffMs: 100,
      maxInFlightRequestsPerConnection: 5, enableIdempotence: true, compressionType: 'none', clientId: '',
    });
  });

  it("takes Kafka's names and camelCase alike", () => {
    expect(resolveProducerOptions({ 'linger.ms': '20', batchSize: 65_536, 'compression.type': 'gzip' })).toMatchObject({ lingerMs: 20, batchSize: 65_536, compressionType: 'gzip' });
    expect([acksValue('all'), acksValue('-1'), acksValue('0'), acksValue('1')]).toEqual([-1, -1, 0, 1]);
  });

  it('names the key of a bad value or a bad combination', () => {
    expect(() => resolveProducerOptions({ acks: '2' })).toThrow('acks: must be one of all, -1, 0, 1');
    expect(() => resolveProducerOptions({ 'linger.ms': -1 })).toThrow(ConfigError);
    expect(() => resolveProducerOptions({ 'delivery.timeout.ms': 1_000 })).toThrow('delivery.timeout.ms: must be at least linger.ms + request.timeout.ms (30005), got 1000');
  });

  it('refuses idempotence asked for with conflicting options, and turns the default off with a warning', () => {
    expect(() => resolveProducerOptions({ 'enable.idempotence': true, acks: '1' })).toThrow('enable.idempotence: cannot be true: acks is 1, not all');
    const { logger, lines } = memoryLogger();
    expect(resolveProducerOptions({ 'max.in.flight.requests.per.connection': 10 }, logger).enableIdempotence).toBe(false);
    expect(lines[0]).toMatchObject({ msg: 'enable.idempotence turned off by conflicting producer options' });
  });
});
