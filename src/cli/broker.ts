/**
 * `ringlog broker`: Kafka's broker main (Kafka.scala) for ringlog: read the properties, build the
 * cluster, register the shutdown hooks, start, and wait. It serves Kafka clients on TCP: on
 * `listeners` from the properties, or on 127.0.0.1:9092; `--port P` overrides the port (broker k
 * gets P + k, 0 an ephemeral port), and the address bound is logged. SIGINT or SIGTERM stops it gracefully:
 * in-flight requests finish, logs are flushed, the directory is marked clean, exit code 0.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startCluster } from '../actors/cluster.js';
import { parseProperties } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { createRootLogger } from '../shared/logger.js';

/** Kafka's default port. */
const DEFAULT_PORT = 9092;

export async function brokerCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      port: { type: 'string' },
    },
    strict: true,
  });
  const properties: Record<string, string> = {};
  if (values.config !== undefined) {
    let text: string;
    try {
      text = readFileSync(values.config, 'utf8');
    } catch (error) {
      throw new ConfigError('--config', `cannot read ${values.config}: ${(error as Error).message}`);
    }
    Object.assign(properties, Object.fromEntries(parseProperties(text)));
  }
  // --data-dir wins over log.dirs from the file; without either, ./data.
  const dataDir = values['data-dir'] ?? properties['log.dirs']?.split(',')[0]?.trim() ?? './data';
  delete properties['log.dirs'];
  const port = values.port === undefined ? (properties.listeners ? undefined : DEFAULT_PORT) : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw new ConfigError('--port', `must be a port number (0 for any), got '${values.port}'`);
  const logger = createRootLogger();
  const startedMs = performance.now();
  const cluster = await startCluster({ dataDir, brokerConfig: properties, logger, port });
  // The handlers go in before "ready" is said: whoever reads it may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping');
      process.off('SIGINT', stop).off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
  logger.info({ dataDir, bootstrapServers: cluster.bootstrapServers, startupMs: Math.round(performance.now() - startedMs) }, 'ringlog broker ready');
  await stopped;
  await cluster.close();
  logger.info('ringlog broker stopped cleanly');
}
