import { FakeClock } from '../testing/fake-clock.js';
import { WorkQueue, type WorkQueueMetrics } from './workqueue.js';

function setup() {
  const clock = new FakeClock(0);
  const queue = new WorkQueue(clock);
  return { clock, queue };
}

/** Resolves true when `p` settles before pending callbacks have run, false otherwise. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('WorkQueue', () => {
  it('hands keys out first in, first out', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.add('c');
    expect(queue.len()).toBe(3);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['a', 'b', 'c']);
    expect(queue.len()).toBe(0);
  });

  it('deduplicates a key added several times before it is handed out', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('get waits for work', async () => {
    const { queue } = setup();
    const pending = queue.get();
    expect(await isSettled(pending)).toBe(false);
    queue.add('a');
    expect(await pending).toBe('a');
  });

  it('wakes waiting getters in order, one key each', async () => {
    const { queue } = setup();
    const first = queue.get();
    const second = queue.get();
    queue.add('a');
    queue.add('b');
    expect(await first).toBe('a');
    expect(await second).toBe('b');
  });

  it('does not hand a processing key out again; a re-add is queued after done', async () => {
    const { queue } = setup();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0);
    const next = queue.get();
    expect(await isSettled(next)).toBe(false);
    queue.done('a');
    expect(await next).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('does not requeue a key at done when it was not re-added', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('ignores done for a key that is not processing', async () => {
    const { queue } = setup();
    queue.add('a');
    queue.done('a');
    queue.done('never');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    expect(queue.len()).toBe(0);
  });

  describe('addAfter', () => {
    it('adds the key once the delay has passed', async () => {
      const { clock, queue } = setup();
      queue.addAfter('a', 100);
      await clock.advance(99);
      expect(queue.len()).toBe(0);
      await clock.advance(1);
      expect(queue.len()).toBe(1);
      expect(await queue.get()).toBe('a');
    });

    it('adds immediately for a zero or negative delay', () => {
      const { queue } = setup();
      queue.addAfter('a', 0);
      queue.addAfter('b', -5);
      expect(queue.len()).toBe(2);
    });

    it('delivers delayed keys in deadline order', async () => {
      const { clock, queue } = setup();
      queue.addAfter('a', 300);
      queue.addAfter('b', 100);
      queue.addAfter('c', 200);
      await clock.advance(300);
      expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['b', 'c', 'a']);
    });

    it('lets a later add with an earlier deadline win, with no second add at the old deadline', async () => {
      const { clock, queue } = setup();
      queue.addAfter('a', 100);
      queue.addAfter('a', 50);
      await clock.advance(50);
      expect(queue.len()).toBe(1);
      queue.done((await queue.get())!);
      await clock.advance(100);
      expect(queue.len()).toBe(0);
      expect(clock.pendingTimers()).toBe(0);
    });

    it('ignores a later add with a later deadline', async () => {
      const { clock, queue } = setup();
      queue.addAfter('a', 50);
      queue.addAfter('a', 100);
      await clock.advance(50);
      expect(queue.len()).toBe(1);
      queue.done((await queue.get())!);
      await clock.advance(100);
      expect(queue.len()).toBe(0);
    });

    it('dedupes with a key already queued', async () => {
      const { clock, queue } = setup();
      queue.add('a');
      queue.addAfter('a', 10);
      await clock.advance(10);
      expect(queue.len()).toBe(1);
    });
  });

  describe('rate limiting', () => {
    it('backs off exponentially per key and forget resets it', async () => {
      const { clock, queue } = setup();
      const readyAfter = async (key: string): Promise<number> => {
        const start = clock.now();
        queue.addRateLimited(key);
        while (queue.len() === 0) await clock.advance(1);
        const got = await queue.get();
        queue.done(got!);
        return clock.now() - start;
      };
      expect(await readyAfter('a')).toBe(5);
      expect(await readyAfter('a')).toBe(10);
      expect(await readyAfter('a')).toBe(20);
      expect(queue.numRequeues('a')).toBe(3);
      expect(queue.numRequeues('b')).toBe(0);
      queue.forget('a');
      expect(queue.numRequeues('a')).toBe(0);
      expect(await readyAfter('a')).toBe(5);
    });

    it('caps the backoff at 1000 s', async () => {
      const { clock, queue } = setup();
      for (let i = 0; i < 30; i++) queue.addRateLimited('a');
      // The first (5 ms) delayed add wins; drain it, then look at the next delay.
      await clock.advance(5);
      queue.done((await queue.get())!);
      queue.addRateLimited('a');
      await clock.advance(999_999);
      expect(queue.len()).toBe(0);
      await clock.advance(1);
      expect(queue.len()).toBe(1);
    });
  });

  describe('shutdown', () => {
    it('resolves waiting getters with undefined', async () => {
      const { queue } = setup();
      const pending = queue.get();
      queue.shutDown();
      expect(await pending).toBeUndefined();
      expect(await queue.get()).toBeUndefined();
      expect(queue.isShuttingDown()).toBe(true);
    });

    it('still hands out queued keys, then undefined; ignores new adds', async () => {
      const { queue } = setup();
      queue.add('a');
      queue.shutDown();
      queue.add('b');
      queue.addRateLimited('c');
      expect(await queue.get()).toBe('a');
      expect(await queue.get()).toBeUndefined();
    });

    it('drops pending delayed adds', async () => {
      const { clock, queue } = setup();
      queue.addAfter('a', 100);
      queue.shutDown();
      expect(clock.pendingTimers()).toBe(0);
      await clock.advance(100);
      expect(queue.len()).toBe(0);
    });

    it('shutDownWithDrain waits for keys being processed', async () => {
      const { queue } = setup();
      queue.add('a');
      queue.add('b');
      expect(await queue.get()).toBe('a');
      const drained = queue.shutDownWithDrain();
      expect(await isSettled(drained)).toBe(false);
      expect(await queue.get()).toBe('b');
      queue.done('a');
      expect(await isSettled(drained)).toBe(false);
      queue.done('b');
      await drained;
      expect(await queue.get()).toBeUndefined();
    });

    it('shutDownWithDrain resolves at once when nothing is processing', async () => {
      const { queue } = setup();
      await queue.shutDownWithDrain();
      expect(await queue.get()).toBeUndefined();
    });

    it('a key re-added before shutdown is still handed out after done', async () => {
      const { queue } = setup();
      queue.add('a');
      await queue.get();
      queue.add('a');
      const drained = queue.shutDownWithDrain();
      queue.done('a');
      expect(await queue.get()).toBe('a');
      queue.done('a');
      await drained;
      expect(await queue.get()).toBeUndefined();
    });
  });

  it('reports depth, adds and retries to the metrics hook', async () => {
    const clock = new FakeClock(0);
    const seen = { depth: [] as number[], adds: 0, retries: 0, latency: [] as number[], work: [] as number[] };
    const metrics: WorkQueueMetrics = {
      setDepth: (d) => seen.depth.push(d),
      incAdds: () => seen.adds++,
      incRetries: () => seen.retries++,
      observeQueueLatency: (ms) => seen.latency.push(ms),
      observeWorkDuration: (ms) => seen.work.push(ms),
    };
    const queue = new WorkQueue(clock, { metrics });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    await clock.advance(7);
    await queue.get();
    await clock.advance(3);
    queue.done('a');
    queue.addRateLimited('a');
    await clock.advance(5);
    expect(seen.adds).toBe(3);
    expect(seen.retries).toBe(1);
    expect(seen.depth).toEqual([1, 2, 1, 2]);
    expect(seen.latency).toEqual([7]);
    expect(seen.work).toEqual([3]);
  });
});
