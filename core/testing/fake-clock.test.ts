import { FAKE_CLOCK_START, FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('starts at the given time and moves only when advanced', async () => {
    const clock = new FakeClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
    expect(new FakeClock().now()).toBe(FAKE_CLOCK_START);
  });

  it('fires due timers in deadline order, then creation order, at their deadline', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimer(30, () => fired.push(['c', clock.now()]));
    clock.setTimer(10, () => fired.push(['a', clock.now()]));
    clock.setTimer(10, () => fired.push(['b', clock.now()]));
    clock.setTimer(50, () => fired.push(['late', clock.now()]));
    await clock.advance(30);
    expect(fired).toEqual([['a', 10], ['b', 10], ['c', 30]]);
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerIn()).toBe(20);
  });

  it('does not fire cancelled timers', async () => {
    const clock = new FakeClock(0);
    let fired = false;
    const cancel = clock.setTimer(5, () => (fired = true));
    cancel();
    await clock.advance(10);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    expect(clock.nextTimerIn()).toBeUndefined();
  });

  it('fires timers created while advancing when they fall due within the same advance', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    clock.setTimer(10, () => {
      fired.push(clock.now());
      clock.setTimer(10, () => fired.push(clock.now()));
      clock.setTimer(100, () => fired.push(clock.now()));
      clock.setTimer(0, () => fired.push(clock.now()));
    });
    await clock.advance(50);
    expect(fired).toEqual([10, 10, 20]);
    expect(clock.now()).toBe(50);
  });

  it('lets promise callbacks run between timers', async () => {
    const clock = new FakeClock(0);
    const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));
    const steps: number[] = [];
    const task = (async () => {
      await sleep(10);
      steps.push(clock.now());
      await Promise.resolve();
      await sleep(10);
      steps.push(clock.now());
    })();
    await clock.advance(25);
    expect(steps).toEqual([10, 20]);
    await task;
  });

  it('flush fires zero-delay timers without moving time', async () => {
    const clock = new FakeClock(0);
    let fired = false;
    clock.setTimer(0, () => (fired = true));
    await clock.flush();
    expect(fired).toBe(true);
    expect(clock.now()).toBe(0);
  });

  it('rejects a negative or non-finite advance', async () => {
    const clock = new FakeClock(0);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
  });
});
