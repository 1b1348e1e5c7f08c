import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';

/**
 * Child processes started by the harness, stopped by process id (never by name).
 *
 * Every child is registered here so `stopAllProcesses()` (afterAll) and the process 'exit'
 * hook can kill whatever a failing test left behind. run.sh additionally runs jest as a
 * child of PID 1 of a private PID namespace, so the kernel kills any survivor when jest ends.
 */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout + stderr of the child. */
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the child has exited. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Map<number, ManagedProcess>();
let exitHookInstalled = false;

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): ManagedProcess {
  installExitHook();
  const log = fs.openSync(options.logFile, 'a');
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', log, log],
    detached: false,
  };
  const child = spawn(command, args, spawnOptions);
  fs.closeSync(log);
  if (child.pid === undefined) {
    throw new Error(`could not start ${name} (${command}); see ${options.logFile}`);
  }
  const pid = child.pid;
  let exitedFlag = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, sig) => {
      exitedFlag = true;
      running.delete(pid);
      resolve(sig ? `signal ${sig}` : `exit code ${code}`);
    });
    child.once('error', (err) => {
      exitedFlag = true;
      running.delete(pid);
      resolve(`spawn error ${err.message}`);
    });
  });
  const managed: ManagedProcess = {
    name,
    pid,
    child,
    logFile: options.logFile,
    exited,
    hasExited: () => exitedFlag,
    stop: async (graceMs = 5_000) => {
      if (exitedFlag) return;
      signal(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        signal(pid, 'SIGKILL');
        await exited;
      }
    },
  };
  running.set(pid, managed);
  return managed;
}

/** Stops every child the harness started that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running.values()].map((p) => p.stop(3_000)));
}

export function readLog(p: ManagedProcess, maxChars = 4_000): string {
  try {
    const text = fs.readFileSync(p.logFile, 'utf8');
    return text.length > maxChars ? `...${text.slice(-maxChars)}` : text;
  } catch {
    return '';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of running.keys()) signal(pid, 'SIGKILL');
  });
}
