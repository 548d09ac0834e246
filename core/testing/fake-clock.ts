import type { Clock } from '../ports/clock.js';

interface Timer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** 2025-01-01T00:00:00Z: a round, recognisable start so RFC 3339 timestamps in tests are easy to read. */
export const FAKE_CLOCK_START = Date.UTC(2025, 0, 1);

/**
 * A manual Clock for tests. Time moves only through `advance(ms)`, which fires due timers in order of
 * deadline (then of creation), moving `now()` to each timer's deadline before calling it, and lets pending
 * promise callbacks run before and after each timer. Timers created while advancing fire in the same
 * `advance` if they fall due within it (a 0 ms timer fires at the current time).
 *
 * Usage: `await clock.advance(100)`. Not re-entrant: do not call `advance` from a timer callback.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 0;
  private timers: Timer[] = [];

  constructor(startMs: number = FAKE_CLOCK_START) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { id: this.nextId++, due: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way; throws what a timer throws. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    const target = this.current + ms;
    await settle();
    for (;;) {
      const timer = this.nextDue(target);
      if (timer === undefined) break;
      this.timers = this.timers.filter((t) => t !== timer);
      this.current = timer.due;
      timer.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }

  /** Lets pending promise callbacks run and fires timers due now, without moving time. */
  flush(): Promise<void> {
    return this.advance(0);
  }

  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Milliseconds until the next timer falls due, or undefined when none is pending. */
  nextTimerIn(): number | undefined {
    const next = this.nextDue(Infinity);
    return next === undefined ? undefined : next.due - this.current;
  }

  private nextDue(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (t.due > limit) continue;
      if (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Resolves after every queued microtask (promise callbacks, process.nextTick) has run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
