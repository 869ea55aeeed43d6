import { once } from 'node:events';
import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ActorSystem } from '../../src/actors/actor-system.js';
import { Supervisor } from '../../src/actors/supervisor.js';
import {
  ActorError, ConfigError, EscalationError, MailboxFullError, TimeoutError, WorkerExitedError,
} from '../../src/shared/errors.js';
// Built JS definitions: worker threads load the same module from disk.
import { commands, counter, fragile } from '../fixtures/actors.mjs';
import { memoryLogger } from './helpers.js';

const systems: ActorSystem[] = [];
function system(options: ConstructorParameters<typeof ActorSystem>[0] = {}): ActorSystem {
  const s = new ActorSystem({ logger: memoryLogger().logger, ...options });
  systems.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(systems.splice(0).map((s) => s.shutdown(1_000)));
});

describe('actors on the main thread', () => {
  it('handles tells in order and answers asks', async () => {
    const s = system();
    const ref = await s.spawn(counter, { args: { start: 5 } });
    expect(ref.location).toBe('main');
    for (let seq = 1; seq <= 1_000; seq++) ref.tell({ add: 1, seq });
    expect(await ref.ask({ add: 0, seq: 0 })).toEqual({ total: 1_005, lastSeq: 1_000, outOfOrder: 0 });
  });

  it('fails an unanswered ask with ERR_ASK_TIMEOUT', async () => {
    const s = system();
    const ref = await s.spawn(commands);
    const error = await ref.ask('hang', { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).code).toBe('ERR_ASK_TIMEOUT');
  });
});

describe('actors on worker threads', () => {
  it('runs on another thread and answers asks', async () => {
    const s = system();
    const ref = await s.spawn(commands, { worker: 'w' });
    expect(ref.location).toBe('w');
    expect(await ref.ask('hello')).toBe('echo:hello');
    expect(Number(await ref.ask('thread'))).not.toBe(threadId);
  });

  it('keeps the order of 20,000 tells through the ring and answers after them', async () => {
    const s = system({ channelCapacityBytes: 4_096 });
    const ref = await s.spawn(counter, { worker: 'w' });
    for (let seq = 1; seq <= 20_000; seq++) ref.tell({ add: 2, seq });
    expect(await ref.ask({ add: 0, seq: 0 })).toEqual({ total: 40_000, lastSeq: 20_000, outOfOrder: 0 });
  });

  it('rebuilds a handler error as its own class, and the actor goes on', async () => {
    const s = system();
    const ref = await s.spawn(commands, { worker: 'w' });
    const configError = await ref.ask('throw-config').catch((e: unknown) => e);
    expect(configError).toBeInstanceOf(ConfigError);
    expect((configError as ConfigError).key).toBe('linger.ms');
    const plain = await ref.ask('throw-plain').catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(ActorError);
    expect((plain as Error).message).toContain('TypeError: plain failure');
    expect(await ref.ask('still here')).toBe('echo:still here');
  });

  it('reports status over the control plane', async () => {
    const s = system();
    const a = await s.spawn(counter, { worker: 'w' });
    await s.spawn(commands, { worker: 'w' });
    await a.ask({ add: 1, seq: 0 });
    const status = await s.status('w');
    expect(status.name).toBe('w');
    expect(status.threadId).not.toBe(threadId);
    expect(status.actors.map((x) => [x.kind, x.handled])).toEqual([['counter', 1], ['commands', 0]]);
  });

  it('refuses tells with MailboxFullError once the worker stops taking them, instead of growing', async () => {
    const s = system({ channelCapacityBytes: 1_024, maxBacklogBytes: 4_096, maxQueuedMessages: 16 });
    const ref = await s.spawn(commands, { worker: 'w' });
    ref.tell('hang'); // holds the mailbox forever
    let accepted = 0;
    let refusal: unknown;
    while (refusal === undefined && accepted < 100_000) {
      try {
        ref.tell('more');
        accepted++;
      } catch (error) {
        refusal = error;
      }
      if (accepted % 50 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the worker read
    }
    expect(refusal).toBeInstanceOf(MailboxFullError);
    expect(accepted).toBeLessThan(1_000);
  });

  it('a spawn that fails to start rejects with the cause', async () => {
    const s = system();
    await expect(s.spawn(fragile, { worker: 'w', args: { failStart: true } })).rejects.toThrow('fragile: refused to start');
  });

  it('drains queued tells and runs stop hooks on shutdown', async () => {
    const { logger, lines } = memoryLogger();
    const s = system({ logger });
    const ref = await s.spawn(counter, { worker: 'w', args: { start: 0 } });
    for (let seq = 1; seq <= 5_000; seq++) ref.tell({ add: 1, seq });
    await s.shutdown();
    const stopped = lines.find((l) => l.msg === 'counter stopped');
    expect(stopped).toMatchObject({ total: 5_000, lastSeq: 5_000 });
    await expect(ref.ask({ add: 0, seq: 0 })).rejects.toBeInstanceOf(WorkerExitedError);
  });
});

describe('supervision', () => {
  it('fails pending asks with WorkerExitedError, logs the cause, and restarts the worker with its actors', async () => {
    const { logger, lines } = memoryLogger();
    const s = system({ logger, supervision: { initialBackoffMs: 10 } });
    const count = await s.spawn(counter, { worker: 'w', args: { start: 100 } });
    const sleeper = await s.spawn(commands, { worker: 'w' });
    const crasher = await s.spawn(commands, { worker: 'w' });
    await count.ask({ add: 1, seq: 0 });
    const pending = sleeper.ask('hang', { timeoutMs: 10_000 }).catch((e: unknown) => e);
    const restarted = once(s.supervisor, 'restart');
    crasher.tell('crash');
    const error = await pending;
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect((error as Error).message).toContain('boom: crash requested by test');
    const crashLog = lines.find((l) => l.msg === 'child crashed');
    expect(crashLog).toMatchObject({ child: 'w', err: { message: 'boom: crash requested by test' } });
    await restarted;
    // Restarted from its definition and args: state starts over, as in OTP.
    expect(await count.ask({ add: 1, seq: 0 })).toMatchObject({ total: 101 });
    expect(await crasher.ask('back')).toBe('echo:back');
  });

  it('escalates when crashes exceed the restart intensity', async () => {
    const escalations: EscalationError[] = [];
    const s = system({ supervision: { maxRestarts: 1, withinMs: 60_000, initialBackoffMs: 5, onEscalate: (e) => escalations.push(e) } });
    const crasher = await s.spawn(commands, { worker: 'w' });
    const restarted = once(s.supervisor, 'restart');
    crasher.tell('crash');
    await restarted;
    const escalated = once(s.supervisor, 'escalate');
    crasher.tell('crash');
    await escalated;
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toBeInstanceOf(EscalationError);
    expect(escalations[0]!.message).toContain('crashed more than 1 times');
    expect(s.supervisor.state).toBe('escalated');
    await expect(crasher.ask('anyone?')).rejects.toBeInstanceOf(WorkerExitedError);
  });

  it('escalates to a parent supervisor, which restarts the whole child supervisor', async () => {
    const { logger } = memoryLogger();
    const parent = new Supervisor('root', logger, { initialBackoffMs: 5 });
    const s = system({ logger, parent, supervision: { maxRestarts: 0 } });
    const crasher = await s.spawn(commands, { worker: 'w' });
    const parentSawCrash = once(parent, 'crash');
    const parentRestarted = once(parent, 'restart');
    crasher.tell('crash');
    const [child, error] = await parentSawCrash;
    expect((child as Supervisor).name).toBe('actor-system');
    expect(error).toBeInstanceOf(EscalationError);
    await parentRestarted;
    expect(s.supervisor.state).toBe('running');
    expect(await crasher.ask('again')).toBe('echo:again');
    await parent.stop();
  });
});
