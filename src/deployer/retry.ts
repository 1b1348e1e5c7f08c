/** Full-jitter exponential backoff: a random delay in [floor, min(cap, base * 2^attempt)]. */
export function backoffDelay(attempt: number, baseMs = 250, capMs = 5_000, floorMs = 100, random = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.max(floorMs, Math.floor(random() * ceiling));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Wall-clock budget of one invocation: every wait and request timeout is cut to fit it. */
export class Deadline {
  static in(ms: number): Deadline {
    return new Deadline(Date.now() + ms);
  }

  constructor(private readonly endsAt: number) {}

  remainingMs(): number {
    return Math.max(0, this.endsAt - Date.now());
  }

  /** A request timeout of at most `ms`, never past the deadline (and at least 1 ms). */
  cap(ms: number): number {
    return Math.max(1, Math.min(ms, this.remainingMs()));
  }

  /** The earlier of this deadline and `ms` from now. */
  within(ms: number): Deadline {
    return new Deadline(Math.min(this.endsAt, Date.now() + ms));
  }
}

/** When a failed attempt is tried again. */
export interface RetryRule {
  /** Whether this rule covers the error: the first rule that does decides; none, and it is final. */
  readonly retries: (e: unknown) => boolean;
  /** At most this many retries under this rule (default: no limit but time). */
  readonly maxRetries?: number;
  /** The delay before retry `n` (from 0); default: jittered backoff from 250 ms up to 5 s. */
  readonly delayMs?: (n: number) => number;
  /** Retries only while this deadline leaves room for the delay and `reserveMs`. */
  readonly until?: Deadline;
  /** Time the next attempt needs to answer (default 1 s). */
  readonly reserveMs?: number;
  /** Near `until`, shorten the delay to fit one more attempt instead of giving up. */
  readonly fitLastDelay?: boolean;
}

/**
 * The one retry loop of the deployer: runs `call` until it succeeds, or fails with an error no
 * rule retries, or a rule's retries or time run out; then the last error is thrown.
 */
export async function withRetry<T>(
  call: (attempt: number) => Promise<T>,
  rules: RetryRule[],
  onRetry?: (e: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  const retried = new Map<RetryRule, number>();
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (e) {
      const rule = rules.find((r) => r.retries(e));
      const n = rule ? (retried.get(rule) ?? 0) : 0;
      if (!rule || n >= (rule.maxRetries ?? Infinity)) throw e;
      let delay = rule.delayMs ? rule.delayMs(n) : backoffDelay(n);
      if (rule.until) {
        const room = rule.until.remainingMs() - (rule.reserveMs ?? 1_000);
        if (rule.fitLastDelay ? room <= 0 : room <= delay) throw e;
        delay = Math.min(delay, room);
      }
      retried.set(rule, n + 1);
      onRetry?.(e, attempt, delay);
      await sleep(delay);
    }
  }
}
