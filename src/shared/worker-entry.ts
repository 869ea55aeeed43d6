/**
 * Where the built worker entry files live. Workers always start from the tsc output in dist/
 * (Node 20 cannot load .ts in a worker), whether the caller runs from dist/ or, under the test
 * runner, from src/: both sit two levels below the package root.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IllegalStateError } from './errors.js';

const packageRoot = new URL('../../', import.meta.url);

/** The file URL of dist/workers/<role>.worker.js; throws if the project has not been built. */
export function workerEntry(role: string): URL {
  const url = new URL(`dist/workers/${role}.worker.js`, packageRoot);
  if (!existsSync(url)) {
    throw new IllegalStateError(`worker entry ${fileURLToPath(url)} is missing: run \`npm run build\` first`);
  }
  return url;
}
