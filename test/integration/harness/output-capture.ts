import * as fs from 'node:fs';
import { format, inspect } from 'node:util';

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace';
const METHODS: ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug', 'trace'];

/**
 * Captures everything the handler writes to the console, stdout and stderr while it runs in
 * this process, so tests can assert that secret values never reach the logs. Objects are
 * recorded fully (util.inspect with unlimited depth, and JSON where possible), which is more
 * than CloudWatch would get, so a nested secret cannot hide behind "[Object]".
 *
 * Console output is not echoed (it would drown jest's report) but appended to `logFile`; set
 * INTEG_VERBOSE=1 to echo it as well. Direct stdout/stderr writes are recorded and passed on.
 */
export class OutputCapture {
  private readonly chunks: string[] = [];
  private restore: Array<() => void> = [];
  private readonly echo = process.env.INTEG_VERBOSE === '1';

  constructor(private readonly logFile?: string) {}

  public start(): void {
    if (this.restore.length > 0) return;
    for (const method of METHODS) {
      const original = console[method];
      console[method] = (...args: unknown[]) => {
        this.record(`[console.${method}] ${render(args)}\n`);
        if (this.echo) original.apply(console, args);
      };
      this.restore.push(() => (console[method] = original));
    }
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write;
      const name = stream === process.stdout ? 'stdout' : 'stderr';
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.record(`[${name}] ${typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8')}`);
        // Always passed through: jest's own reporter writes to these streams too.
        return (original as (...a: unknown[]) => boolean).apply(stream, [chunk, ...rest]);
      }) as typeof stream.write;
      this.restore.push(() => (stream.write = original));
    }
  }

  public stop(): void {
    for (const r of this.restore.reverse()) r();
    this.restore = [];
  }

  /** Everything captured so far. */
  public text(): string {
    return this.chunks.join('');
  }

  /** Index to pass to `textSince()`. */
  public mark(): number {
    return this.chunks.length;
  }

  public textSince(mark: number): string {
    return this.chunks.slice(mark).join('');
  }

  private record(text: string): void {
    this.chunks.push(text);
    if (this.logFile) fs.appendFileSync(this.logFile, text);
  }
}

function render(args: unknown[]): string {
  const formatted = format(...args);
  const deep = args
    .filter((a) => typeof a === 'object' && a !== null)
    .map((a) => {
      let json = '';
      try {
        json = JSON.stringify(a) ?? '';
      } catch {
        json = '';
      }
      return `${inspect(a, { depth: null, showHidden: true, maxStringLength: null, maxArrayLength: null })} ${json}`;
    });
  return deep.length > 0 ? `${formatted} ${deep.join(' ')}` : formatted;
}

/** The secrets among `secrets` that occur in `text`. */
export function leakedSecrets(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length > 0 && text.includes(s));
}
