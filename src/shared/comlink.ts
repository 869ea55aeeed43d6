/**
 * comlink for Node, loaded once. comlink 4.4.2 has no `exports` map and its ESM build ships no
 * `.d.mts` types, so the UMD build is required through createRequire and typed from its own
 * declarations; the node adapter's UMD build returns the function itself (comlink issue #476).
 */
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import type * as ComlinkModule from 'comlink';
import { errorFromWire, RinglogError, type WireError } from './errors.js';

const require = createRequire(import.meta.url);

export const Comlink = require('comlink') as typeof ComlinkModule;

type NodeAdapter = (port: MessagePort) => ComlinkModule.Endpoint;
const adapter = require('comlink/dist/umd/node-adapter.js') as NodeAdapter | { default: NodeAdapter };

/** A comlink endpoint over a worker_threads MessagePort. */
export const nodeEndpoint: NodeAdapter = typeof adapter === 'function' ? adapter : adapter.default;

// comlink's own 'throw' handler keeps only message, name and stack; this one also carries a
// ringlog error's wire form, so a control call rejects with the same class it threw.
const builtinThrow = Comlink.transferHandlers.get('throw')!;
Comlink.transferHandlers.set('throw', {
  canHandle: builtinThrow.canHandle,
  serialize(value: unknown) {
    const [serialized, transferables] = builtinThrow.serialize(value);
    const thrown = (value as { value?: unknown }).value;
    if (thrown instanceof RinglogError) (serialized as { wire?: WireError }).wire = thrown.toWire();
    return [serialized, transferables];
  },
  deserialize(serialized: unknown) {
    const wire = (serialized as { wire?: WireError }).wire;
    if (wire !== undefined) throw errorFromWire(wire);
    return builtinThrow.deserialize(serialized);
  },
});
