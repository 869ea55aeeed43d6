// An actor on a worker thread: node examples/greeter.mjs
import { isMainThread } from 'node:worker_threads';
import { ActorSystem, defineActor, utf8Codec } from 'ringlog/actors';

export const greeter = defineActor({
  kind: 'greeter',
  module: import.meta.url, // the worker loads the definition from this module
  input: utf8Codec,
  output: utf8Codec,
  create: (ctx, args) => ({
    receive: (name) => `${args.greeting}, ${name}!`,
  }),
});

if (isMainThread) {
  const system = new ActorSystem();
  const ref = await system.spawn(greeter, { worker: 'greeters', args: { greeting: 'Hello' } });
  console.log(await ref.ask('Kafka', { timeoutMs: 1_000 })); // Hello, Kafka!
  console.log(await system.status('greeters'));             // over the comlink control plane
  await system.shutdown();
}
