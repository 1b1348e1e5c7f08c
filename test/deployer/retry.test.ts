/**
 * Backoff, deadlines and withRetry: the jittered delay's floor, ceiling and growth, a deadline that
 * cuts every wait and request timeout to fit, and the rules by which a failed call is tried again.
 */
import { backoffDelay, Deadline, sleep, withRetry } from '../../src/deployer/retry';

describe('backoffDelay', () => {
  test('is a random share of base * 2^attempt', () => {
    expect(backoffDelay(0, 1_000, 100_000, 0, () => 0.5)).toBe(500);
    expect(backoffDelay(1, 1_000, 100_000, 0, () => 0.5)).toBe(1_000);
    expect(backoffDelay(3, 1_000, 100_000, 0, () => 0.5)).toBe(4_000);
    expect(backoffDelay(3, 1_000, 100_000, 0, () => 0.999)).toBe(7_992);
  });

  test('never exceeds the cap', () => {
    expect(backoffDelay(10, 1_000, 3_000, 0, () => 0.999)).toBe(2_997);
    expect(backoffDelay(2, 1_000, 3_000, 0, () => 0.5)).toBe(1_500);
  });

  test('never goes below the floor', () => {
    expect(backoffDelay(0, 1_000, 3_000, 200, () => 0)).toBe(200);
    expect(backoffDelay(0, 1_000, 3_000, 200, () => 0.1)).toBe(200);
    expect(backoffDelay(0, 1_000, 3_000, 200, () => 0.3)).toBe(300);
  });

  test('the exponent stops growing at 2^20 (no overflow for huge attempts)', () => {
    expect(backoffDelay(20, 1, Number.MAX_SAFE_INTEGER, 0, () => 0.5)).toBe(2 ** 19);
    expect(backoffDelay(5_000, 1, Number.MAX_SAFE_INTEGER, 0, () => 0.5)).toBe(2 ** 19);
  });

  test('defaults: base 250 ms, cap 5 s, floor 100 ms, Math.random', () => {
    expect(backoffDelay(0, undefined, undefined, undefined, () => 0.999)).toBe(249);
    expect(backoffDelay(10, undefined, undefined, undefined, () => 0.999)).toBe(4_995);
    expect(backoffDelay(0, undefined, undefined, undefined, () => 0)).toBe(100);
    const spy = jest.spyOn(Math, 'random').mockReturnValue(0.5);
    try {
      expect(backoffDelay(2)).toBe(500);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('Deadline', () => {
  test('remainingMs counts down and never goes below 0', () => {
    expect(new Deadline(Date.now() - 5_000).remainingMs()).toBe(0);
    const d = Deadline.in(60_000);
    expect(d.remainingMs()).toBeGreaterThan(59_000);
    expect(d.remainingMs()).toBeLessThanOrEqual(60_000);
  });

  test('cap: at most the asked timeout, at most the time left, and at least 1 ms', () => {
    const d = Deadline.in(60_000);
    expect(d.cap(1_000)).toBe(1_000);
    expect(d.cap(120_000)).toBeGreaterThan(59_000);
    expect(d.cap(120_000)).toBeLessThanOrEqual(60_000);
    expect(new Deadline(Date.now() - 1).cap(1_000)).toBe(1);
    expect(Deadline.in(60_000).cap(0)).toBe(1);
  });

  test('within: the earlier of the deadline and the bound', () => {
    const d = Deadline.in(60_000);
    const shorter = d.within(1_000);
    expect(shorter.remainingMs()).toBeLessThanOrEqual(1_000);
    expect(shorter.remainingMs()).toBeGreaterThan(500);
    const longer = Deadline.in(1_000).within(60_000);
    expect(longer.remainingMs()).toBeLessThanOrEqual(1_000);
  });
});

describe('sleep', () => {
  test('a negative delay resolves at once', async () => {
    await expect(sleep(-1_000)).resolves.toBeUndefined();
  });

  test('resolves when its time has passed, not before', async () => {
    jest.useFakeTimers();
    try {
      let done = false;
      void sleep(100).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(99);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('withRetry, the one retry loop', () => {
  class Transient extends Error {}
  class Other extends Error {}
  /** A call that fails with the given errors in turn, then answers 'ok'. */
  const failing = (...errors: Error[]) => {
    const attempts: number[] = [];
    const call = async (attempt: number) => {
      attempts.push(attempt);
      const e = errors.shift();
      if (e) throw e;
      return 'ok';
    };
    return { call, attempts };
  };

  test('an error no rule retries is thrown at once', async () => {
    const { call, attempts } = failing(new Other('final'));
    await expect(withRetry(call, [{ retries: (e) => e instanceof Transient, delayMs: () => 0 }])).rejects.toThrow('final');
    expect(attempts).toEqual([0]);
  });

  test('retries until the call succeeds, numbering attempts, and says each retry', async () => {
    const { call, attempts } = failing(new Transient('1'), new Transient('2'));
    const said: string[] = [];
    const result = await withRetry(call, [{ retries: (e) => e instanceof Transient, delayMs: () => 1 }], (e, attempt, delay) =>
      said.push(`${(e as Error).message}@${attempt}+${delay}`),
    );
    expect(result).toBe('ok');
    expect(attempts).toEqual([0, 1, 2]);
    expect(said).toEqual(['1@0+1', '2@1+1']);
  });

  test('maxRetries caps the retries of its rule: the last error is thrown', async () => {
    const { call, attempts } = failing(new Transient('1'), new Transient('2'), new Transient('3'));
    await expect(withRetry(call, [{ retries: () => true, maxRetries: 2, delayMs: () => 0 }])).rejects.toThrow('3');
    expect(attempts).toEqual([0, 1, 2]);
  });

  test('the first rule that covers an error decides, each with its own count', async () => {
    const { call, attempts } = failing(new Other('a'), new Transient('b'), new Other('c'), new Transient('d'));
    const rules = [
      { retries: (e: unknown) => e instanceof Transient, maxRetries: 1, delayMs: () => 0 },
      { retries: () => true, maxRetries: 5, delayMs: () => 0 },
    ];
    // Transient 'd' is the second retry under the first rule, which allows one.
    await expect(withRetry(call, rules)).rejects.toThrow('d');
    expect(attempts).toEqual([0, 1, 2, 3]);
  });

  test('no retry when the deadline has no room for the delay and the reserve', async () => {
    const { call, attempts } = failing(new Transient('late'));
    const until = Deadline.in(1_500);
    await expect(withRetry(call, [{ retries: () => true, delayMs: () => 600, until, reserveMs: 1_000 }])).rejects.toThrow('late');
    expect(attempts).toEqual([0]);
  });

  test('room for exactly the delay and the reserve is not enough: the retry needs more', async () => {
    const { call, attempts } = failing(new Transient('edge'));
    // A deadline frozen at 1.5 s left: 500 ms of room after the reserve, and a 500 ms delay.
    const until = { remainingMs: () => 1_500 } as Deadline;
    await expect(withRetry(call, [{ retries: () => true, delayMs: () => 500, until, reserveMs: 1_000 }])).rejects.toThrow('edge');
    expect(attempts).toEqual([0]);
  });

  test('the reserve is a second unless given', async () => {
    const { call, attempts } = failing(new Transient('late'));
    // 1.5 s left: a 600 ms delay and the default 1 s reserve do not fit.
    await expect(withRetry(call, [{ retries: () => true, delayMs: () => 600, until: Deadline.in(1_500) }])).rejects.toThrow('late');
    expect(attempts).toEqual([0]);
  });

  test('fitLastDelay: no retry once the reserve is all that is left', async () => {
    const { call, attempts } = failing(new Transient('none left'));
    const until = { remainingMs: () => 1_000 } as Deadline;
    await expect(withRetry(call, [{ retries: () => true, delayMs: () => 50, until, reserveMs: 1_000, fitLastDelay: true }])).rejects.toThrow('none left');
    expect(attempts).toEqual([0]);
  });

  test('a delay that fits with the reserve is waited', async () => {
    const { call, attempts } = failing(new Transient('1'));
    const until = Deadline.in(5_000);
    await expect(withRetry(call, [{ retries: () => true, delayMs: () => 10, until, reserveMs: 1_000 }])).resolves.toBe('ok');
    expect(attempts).toEqual([0, 1]);
  });

  test('fitLastDelay shortens the delay to leave the reserve, and stops once there is none', async () => {
    const delays: number[] = [];
    // 50 ms left before the reserve; once they are waited, none (a clock of its own: no timing race).
    let remainingMs = 1_050;
    const until = { remainingMs: () => remainingMs } as Deadline;
    const { call } = failing(new Transient('1'), new Transient('2'), new Transient('3'));
    await expect(
      withRetry(call, [{ retries: () => true, delayMs: () => 60_000, until, reserveMs: 1_000, fitLastDelay: true }], (_e, _a, delay) => {
        delays.push(delay);
        remainingMs -= delay;
      }),
    ).rejects.toThrow('2');
    expect(delays).toEqual([50]);
  });
});
