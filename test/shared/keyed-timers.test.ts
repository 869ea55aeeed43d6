import { describe, expect, it } from 'vitest';
import { KeyedTimers } from '../../src/shared/keyed-timers.js';

describe('KeyedTimers', () => {
  it('runs a key once, after its latest scheduling, and forgets it', async () => {
    const timers = new KeyedTimers();
    const fired: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>((resolve) => { done = resolve; });
    timers.schedule('a', 5, () => fired.push('a first'));
    timers.schedule('a', 10, () => fired.push('a second'));
    timers.schedule('b', 15, () => { fired.push('b'); done(); });
    expect(timers.size).toBe(2);
    await finished;
    expect(fired).toEqual(['a second', 'b']);
    expect(timers.size).toBe(0);
  });

  it('cancels one key or all of them, so none fires', async () => {
    const timers = new KeyedTimers();
    const fired: string[] = [];
    for (const key of ['a', 'b', 'c']) timers.schedule(key, 5, () => fired.push(key));
    timers.cancel('a');
    expect(timers.has('a')).toBe(false);
    timers.cancelAll();
    expect(timers.size).toBe(0);
    // A later timer fires after the cancelled ones would have: they did not.
    await new Promise<void>((resolve) => { timers.schedule('probe', 20, resolve); });
    expect(fired).toEqual([]);
  });
});
