/**
 * One PASS or FAIL line per check, and a summary. Details must never contain the API key.
 */
export class Report {
  private readonly results: Array<{ readonly name: string; readonly ok: boolean }> = [];

  /** Runs `fn` as the check `name`: PASS with the detail it returns, FAIL with what it threw. */
  public async check<T>(name: string, fn: () => Promise<{ detail: string; value: T }>): Promise<T | undefined> {
    try {
      const { detail, value } = await fn();
      this.pass(name, detail);
      return value;
    } catch (e) {
      this.fail(name, message(e));
      return undefined;
    }
  }

  public pass(name: string, detail: string): void {
    this.results.push({ name, ok: true });
    console.log(`PASS ${name}: ${detail}`);
  }

  public fail(name: string, detail: string): void {
    this.results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${detail}`);
  }

  public info(text: string): void {
    console.log(`---- ${text}`);
  }

  public get failures(): number {
    return this.results.filter((r) => !r.ok).length;
  }

  public summary(): string {
    const failed = this.results.filter((r) => !r.ok).map((r) => r.name);
    const passed = this.results.length - failed.length;
    return failed.length === 0
      ? `live: PASS (${passed} checks passed)`
      : `live: FAIL (${failed.length} of ${this.results.length} checks failed: ${failed.join(', ')})`;
  }
}

export function message(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' && !e.message.startsWith(e.name) ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}
