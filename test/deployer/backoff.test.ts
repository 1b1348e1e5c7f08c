/**
 * Backoff and deadlines: the jittered delay's floor, ceiling and growth, and a deadline that
 * cuts every wait and request timeout to fit.
 */
import { backoffDelay, Deadline, sleep } from '../../src/deployer/backoff';

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
});
