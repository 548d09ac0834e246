import { InvalidClusterSecretLabelError, ProviderError } from '../errors.js';
import { FakeClock } from '../testing/fake-clock.js';
import { runWorkers, type WorkHandler } from './workers.js';
import { WorkQueue } from './workqueue.js';

function setup() {
  const clock = new FakeClock(0);
  const queue = new WorkQueue(clock);
  const controller = new AbortController();
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
  return { clock, queue, controller, sleep };
}

describe('runWorkers', () => {
  it('never processes one key on two workers at once, and reprocesses a key re-added meanwhile', async () => {
    const { clock, queue, controller, sleep } = setup();
    const active = new Set<string>();
    let overlaps = 0;
    let maxParallel = 0;
    const runs = new Map<string, number>();
    const handler: WorkHandler = async (key) => {
      if (active.has(key)) overlaps++;
      active.add(key);
      maxParallel = Math.max(maxParallel, active.size);
      runs.set(key, (runs.get(key) ?? 0) + 1);
      await sleep(10);
      active.delete(key);
    };
    const done = runWorkers(queue, 4, handler, controller.signal);
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await clock.flush();
    // While every key is processing, add each one repeatedly.
    for (let i = 0; i < 5; i++) for (const key of ['a', 'b', 'c']) queue.add(key);
    await clock.advance(5);
    for (const key of ['a', 'b', 'c']) queue.add(key);
    await clock.advance(100);
    expect(overlaps).toBe(0);
    expect(maxParallel).toBe(3);
    expect(Object.fromEntries(runs)).toEqual({ a: 2, b: 2, c: 2 });
    controller.abort();
    await done;
  });

  it('retries a failing key with backoff, survives it, and forgets the backoff after success', async () => {
    const { clock, queue, controller } = setup();
    const calls: Array<[string, number]> = [];
    const errors: string[] = [];
    let failuresLeft = 3;
    const handler: WorkHandler = async (key) => {
      calls.push([key, clock.now()]);
      if (key === 'bad' && failuresLeft-- > 0) throw new ProviderError('provider down');
    };
    const done = runWorkers(queue, 1, handler, controller.signal, { onError: (key, err) => errors.push(`${key}: ${String(err)}`) });
    queue.add('bad');
    await clock.flush();
    expect(queue.numRequeues('bad')).toBe(1);
    queue.add('good');
    await clock.advance(100);
    expect(calls).toEqual([
      ['bad', 0],
      ['good', 0],
      ['bad', 5],
      ['bad', 15],
      ['bad', 35],
    ]);
    expect(errors).toEqual(Array(3).fill('bad: ProviderError: provider down'));
    expect(queue.numRequeues('bad')).toBe(0);
    controller.abort();
    await done;
  });

  it('recovers from synchronous throws, non-Error throws and a throwing error reporter', async () => {
    const { clock, queue, controller } = setup();
    const seen: string[] = [];
    const handler: WorkHandler = (key) => {
      seen.push(key);
      if (key === 'sync') throw new Error('sync');
      if (key === 'odd') return Promise.reject(new Error('odd'));
    };
    const done = runWorkers(queue, 1, handler, controller.signal, {
      onError: () => {
        throw new Error('reporter broken');
      },
    });
    queue.add('sync');
    queue.add('odd');
    queue.add('ok');
    await clock.flush();
    expect(seen).toEqual(['sync', 'odd', 'ok']);
    expect(queue.numRequeues('sync')).toBe(1);
    expect(queue.numRequeues('odd')).toBe(1);
    controller.abort();
    await done;
  });

  it('requeues after requeueAfter on success', async () => {
    const { clock, queue, controller } = setup();
    const calls: number[] = [];
    const done = runWorkers(
      queue,
      2,
      () => {
        calls.push(clock.now());
        return { requeueAfter: 1000 };
      },
      controller.signal,
    );
    queue.add('a');
    await clock.advance(2500);
    expect(calls).toEqual([0, 1000, 2000]);
    controller.abort();
    await done;
  });

  it('does not retry a terminal error', async () => {
    const { clock, queue, controller } = setup();
    let calls = 0;
    const done = runWorkers(
      queue,
      1,
      () => {
        calls++;
        throw new InvalidClusterSecretLabelError('reserved label');
      },
      controller.signal,
    );
    queue.add('a');
    await clock.advance(10_000);
    expect(calls).toBe(1);
    expect(queue.numRequeues('a')).toBe(0);
    controller.abort();
    await done;
  });

  it('stops on abort: running handlers finish, queued keys are not handled', async () => {
    const { clock, queue, controller, sleep } = setup();
    const started: string[] = [];
    const finished: string[] = [];
    let stopped = false;
    const done = runWorkers(
      queue,
      1,
      async (key, signal) => {
        started.push(key);
        await sleep(10);
        finished.push(`${key}:${signal.aborted}`);
      },
      controller.signal,
    ).then(() => (stopped = true));
    queue.add('a');
    queue.add('b');
    await clock.flush();
    controller.abort();
    await clock.flush();
    expect(stopped).toBe(false);
    await clock.advance(10);
    await done;
    expect(started).toEqual(['a']);
    expect(finished).toEqual(['a:true']);
    expect(queue.isShuttingDown()).toBe(true);
  });

  it('returns when the caller shuts the queue down with drain', async () => {
    const { clock, queue, controller } = setup();
    const done = runWorkers(queue, 3, () => undefined, controller.signal);
    queue.add('a');
    await clock.flush();
    await queue.shutDownWithDrain();
    await done;
  });

  it('rejects a bad worker count', async () => {
    const { queue, controller } = setup();
    await expect(runWorkers(queue, 0, () => undefined, controller.signal)).rejects.toThrow(RangeError);
    await expect(runWorkers(queue, 1.5, () => undefined, controller.signal)).rejects.toThrow(RangeError);
  });
});
