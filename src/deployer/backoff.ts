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
