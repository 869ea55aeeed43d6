#!/usr/bin/env -S node --max-semi-space-size=64
// The ringlog command line. Runs the tsc build in dist/ (`npm run build` makes it).
// A 64 MiB young generation (Node's default is 16), as kafka-run-class.sh sets the JVM's heap and
// GC options for Kafka's tools: a producer holds up to buffer.memory of records waiting for their
// acknowledgements, and in a small young generation every scavenge copies them before they die.
// Here that raised producer-perf's rate 1.5-2x.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
