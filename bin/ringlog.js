#!/usr/bin/env node
// The ringlog command line. Runs the tsc build in dist/ (`npm run build` makes it).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
