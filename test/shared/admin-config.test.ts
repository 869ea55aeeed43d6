import { describe, expect, it } from 'vitest';
import { resolveAdminOptions } from '../../src/shared/admin-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { memoryLogger } from '../actors/helpers.js';

describe('admin options', () => {
  it("has Kafka's AdminClientConfig defaults", () => {
    expect(resolveAdminOptions({})).toEqual({
      bootstrapServers: [], clientId: '', requestTimeoutMs: 30_000, defaultApiTimeoutMs: 60_000, retryBackoffMs: 100, retryBackoffMaxMs: 1_000,
      reconnectBackoffMs: 50, reconnectBackoffMaxMs: 1_000, socketConnectionSetupTimeoutMs: 10_000,
    });
  });

  it("takes Kafka's names and camelCase", () => {
    expect(resolveAdminOptions({ 'bootstrap.servers': 'a:1,b:2', clientId: 'ops', 'request.timeout.ms': '5000', defaultApiTimeoutMs: 9_000 }))
      .toMatchObject({ bootstrapServers: ['a:1', 'b:2'], clientId: 'ops', requestTimeoutMs: 5_000, defaultApiTimeoutMs: 9_000 });
  });

  it('names the key of a bad value; default.api.timeout.ms below request.timeout.ms is refused, or raised when not given', () => {
    expect(() => resolveAdminOptions({ 'retry.backoff.ms': -1 })).toThrow('retry.backoff.ms: must be between 0 and');
    expect(() => resolveAdminOptions({ 'default.api.timeout.ms': 1_000 })).toThrow(ConfigError);
    expect(() => resolveAdminOptions({ 'default.api.timeout.ms': 1_000 })).toThrow('default.api.timeout.ms: must be at least request.timeout.ms (30000), got 1000');
    const { logger, lines } = memoryLogger();
    expect(resolveAdminOptions({ 'request.timeout.ms': 90_000, 'retries.please': 3 }, logger)).toMatchObject({ requestTimeoutMs: 90_000, defaultApiTimeoutMs: 90_000 });
    expect(lines.map((l) => l.msg)).toEqual(["unknown admin option 'retries.please' ignored", 'default.api.timeout.ms raised to request.timeout.ms']);
  });
});
