/**
 * `ringlog broker`: Kafka's broker main (Kafka.scala) for ringlog: read the properties, build the
 * cluster, register the shutdown hooks, start, and wait. SIGINT or SIGTERM stops it gracefully:
 * in-flight requests finish, logs are flushed, the directory is marked clean, exit code 0.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startCluster } from '../actors/cluster.js';
import { parseProperties } from '../shared/config.js';
import { ConfigError } from '../shared/errors.js';
import { createRootLogger } from '../shared/logger.js';

export async function brokerCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
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
  const logger = createRootLogger();
  const startedMs = performance.now();
  const cluster = await startCluster({ dataDir, brokerConfig: properties, logger });
  logger.info({ dataDir, startupMs: Math.round(performance.now() - startedMs) }, 'ringlog broker ready');

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping');
      process.off('SIGINT', stop).off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop).on('SIGTERM', stop);
  });
  await cluster.close();
  logger.info('ringlog broker stopped cleanly');
}
