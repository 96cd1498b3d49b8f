// A flanctl that keeps running (`leases ls --watch`): spawned from the built CLI with runCli's
// environment, its output read line by line as it arrives, signalled and awaited by PID.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { cliEnvironment, repoRoot } from './cli.js';

export type OutputStream = 'stdout' | 'stderr';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const DEFAULT_WAIT_MS = 20_000;

// Every CLI this process spawned and has not seen exit; killed if the test process exits first.
const running = new Set<ChildProcessByStdio<null, Readable, Readable>>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class CliProcess {
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private readonly text: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly exit: Promise<Exit>;
  /** Callbacks of the waits in progress, called on new output and on exit. */
  private readonly wakers = new Set<() => void>();

  constructor(readonly args: string[]) {
    this.child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'run.js'), ...args], {
      cwd: repoRoot(),
      env: cliEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);

    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream].setEncoding('utf8');
      this.child[stream].on('data', (chunk: string) => {
        this.text[stream] += chunk;
        this.wakeAll();
      });
    }
    this.exit = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        running.delete(this.child);
        resolve({ code, signal });
        this.wakeAll();
      });
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** The complete lines written so far. */
  lines(stream: OutputStream = 'stdout'): string[] {
    const complete = this.text[stream].slice(0, this.text[stream].lastIndexOf('\n') + 1);
    return complete.split('\n').slice(0, -1);
  }

  /** stdout's complete lines, each parsed as JSON (NDJSON). */
  objects<T = Record<string, unknown>>(): T[] {
    return this.lines().map((line) => JSON.parse(line) as T);
  }

  /**
   * The first line that satisfies `match`, waiting for it up to `timeoutMs`; fails naming `what`
   * with everything the process wrote, also when it exits first.
   */
  async waitForLine(
    what: string,
    match: (line: string) => boolean,
    stream: OutputStream = 'stdout',
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exit.then(() => (exited = true));

    for (;;) {
      const found = this.lines(stream).find(match);
      if (found !== undefined) return found;
      if (exited) throw new Error(`flanctl exited before ${what}; ${this.describe()}`);
      if (Date.now() >= deadline) {
        throw new Error(`no ${what} within ${timeoutMs} ms; ${this.describe()}`);
      }

      await this.outputOrTimeout(deadline - Date.now());
    }
  }

  /** waitForLine over stdout's NDJSON objects. */
  async waitForObject<T = Record<string, unknown>>(
    what: string,
    match: (object: T) => boolean,
  ): Promise<T> {
    const line = await this.waitForLine(what, (text) => match(JSON.parse(text) as T));
    return JSON.parse(line) as T;
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** How the process ended; kills it with SIGKILL and fails if it has not within `timeoutMs`. */
  async exited(timeoutMs = DEFAULT_WAIT_MS): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.exit, timeout]);
    clearTimeout(timer);

    if (outcome === 'timeout') {
      this.kill();
      throw new Error(`flanctl did not exit within ${timeoutMs} ms; ${this.describe()}`);
    }
    return outcome;
  }

  /** Ends the process if it still runs: for clean-up after a failed test. */
  kill(): void {
    if (running.has(this.child)) this.child.kill('SIGKILL');
  }

  describe(): string {
    return (
      `flanctl ${this.args.join(' ')}\n--- stdout:\n${this.text.stdout}` +
      `--- stderr:\n${this.text.stderr}`
    );
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private outputOrTimeout(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
}
