import { describe, expect, it } from 'vitest';
import { bool, int, list, oneOf, parseProperties, resolveConfig, str, type ConfigTable } from '../../src/shared/config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { memoryLogger } from '../actors/helpers.js';

interface SampleOptions {
  lingerMs: number;
  enableIdempotence: boolean;
  clientId: string;
  acks: 'all' | '-1' | '0' | '1';
  bootstrapServers: string[];
}

const table: ConfigTable<SampleOptions> = {
  lingerMs: { kafkaName: 'linger.ms', default: 5, parse: int({ min: 0 }), doc: 'wait for more records' },
  enableIdempotence: { kafkaName: 'enable.idempotence', default: true, parse: bool(), doc: 'dedupe retries' },
  clientId: { kafkaName: 'client.id', default: '', parse: str(), doc: 'name in logs' },
  acks: { kafkaName: 'acks', default: 'all', parse: oneOf(['all', '-1', '0', '1'] as const), doc: 'durability' },
  bootstrapServers: { kafkaName: 'bootstrap.servers', default: [], parse: list(), doc: 'brokers' },
};

const resolve = (input: Record<string, unknown>) => resolveConfig(table, input, { component: 'producer' });

describe('config descriptor table', () => {
  it('fills defaults', () => {
    expect(resolve({})).toEqual({ lingerMs: 5, enableIdempotence: true, clientId: '', acks: 'all', bootstrapServers: [] });
  });

  it("accepts camelCase and Kafka's dotted names, as values or strings", () => {
    expect(resolve({ lingerMs: 20, 'enable.idempotence': 'false', 'client.id': 'app', acks: 1, 'bootstrap.servers': 'a:9092, b:9092' }))
      .toEqual({ lingerMs: 20, enableIdempotence: false, clientId: 'app', acks: '1', bootstrapServers: ['a:9092', 'b:9092'] });
    expect(resolve({ 'linger.ms': '7' }).lingerMs).toBe(7);
  });

  it.each([
    [{ lingerMs: -1 }, 'lingerMs: must be between 0 and'],
    [{ 'linger.ms': 'soon' }, "linger.ms: must be an integer, got 'soon'"],
    [{ 'linger.ms': 1.5 }, 'linger.ms: must be an integer, got 1.5'],
    [{ enableIdempotence: 'yes' }, "enableIdempotence: must be true or false, got 'yes'"],
    [{ acks: 2 }, 'acks: must be one of all, -1, 0, 1, got 2'],
    [{ lingerMs: 1, 'linger.ms': 2 }, "linger.ms: given twice, as 'lingerMs' (1) and as 'linger.ms' (2)"],
  ])('rejects %j with a ConfigError naming the key', (input, message) => {
    let error: unknown;
    try {
      resolve(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(message);
  });

  it('warns about an unknown key and ignores it', () => {
    const { logger, lines } = memoryLogger();
    const config = resolveConfig(table, { 'linger.mss': 3 }, { component: 'producer', logger });
    expect(config.lingerMs).toBe(5);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, key: 'linger.mss', msg: "unknown producer option 'linger.mss' ignored" });
  });
});

describe('properties files', () => {
  it('reads what java.util.Properties reads', () => {
    const text = [
      '# Kafka server.properties',
      '! also a comment',
      'broker.id=0',
      '  log.dirs = /tmp/kafka-logs',
      'num.partitions:3',
      'listeners PLAINTEXT://:9092',
      'long.value = one,\\',
      '    two,\\',
      '    three',
      'escaped\\ key=tab\\there \\u0041',
      'empty=',
      'broker.id=1',
    ].join('\n');
    expect(Object.fromEntries(parseProperties(text))).toEqual({
      'broker.id': '1',
      'log.dirs': '/tmp/kafka-logs',
      'num.partitions': '3',
      listeners: 'PLAINTEXT://:9092',
      'long.value': 'one,two,three',
      'escaped key': 'tab\there A',
      empty: '',
    });
  });
});
