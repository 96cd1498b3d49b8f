// Runs the flanneld stand-in (flanneld-standin.ts) as a child process for a test: what it printed,
// a way to wait for one of its actions, how many writes it made, and stop (SIGTERM) or kill
// (SIGKILL, a dead host) by PID. Whatever a test leaves running dies with the test process.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { putKey } from './kv-inspect.js';
import { CONFIG_10_5 } from './seed.js';
import { cleanUpOnExit } from './exit-hooks.js';

export interface StandinOptions {
  endpoint: string;
  publicIp: string;
  prefix?: string;
  leaseTtlSeconds?: number;
  renewMarginSeconds?: number;
  subnetFile?: string;
  vtepMac?: string;
}

/** One line of the stand-in's stdout. */
export interface StandinEvent {
  event: string;
  time: string;
  key?: string;
  /** Hex as etcdctl prints it; null for lease 0. */
  leaseId?: string | null;
  previousLeaseId?: string | null;
  ttl?: number;
  modRevision?: number;
  renewInSeconds?: number;
  /** What led to a write: start-up, the renewal time, or a change seen on the watch. */
  trigger?: 'start' | 'expiry' | 'watch';
  via?: 'snapshot' | 'watch';
  [field: string]: unknown;
}

export interface StandinExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** Look only at events from this index of `events` on (e.g. its length before an action). */
  from?: number;
  timeoutMs?: number;
}

export interface FlanneldStandin {
  pid: number;
  /** Every event printed so far, in order. */
  readonly events: readonly StandinEvent[];
  /** How many writes to etcd it reported: acquired, reused, reattached, renewed, deleted. */
  writes(): number;
  /** The first event from `from` on that matches; rejects on timeout or when it exits first. */
  waitFor(
    what: string,
    predicate: (event: StandinEvent) => boolean,
    options?: WaitOptions,
  ): Promise<StandinEvent>;
  /** Settles when the process has exited. */
  readonly exited: Promise<StandinExit>;
  stop(): Promise<StandinExit>;
  kill(): Promise<StandinExit>;
}

export const WRITE_EVENTS: ReadonlySet<string> = new Set([
  'acquired',
  'reused',
  'reattached',
  'renewed',
  'deleted',
]);

const DEFAULT_WAIT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_CHARS = 2_000;
const STANDIN_SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'flanneld-standin.js',
);

// Every stand-in this process started and has not seen exit, by PID.
const running = new Map<number, ChildProcessByStdio<null, Readable, Readable>>();

export function standinArgs(options: StandinOptions): string[] {
  const args = ['--endpoint', options.endpoint, '--public-ip', options.publicIp];
  if (options.prefix !== undefined) args.push('--prefix', options.prefix);
  if (options.leaseTtlSeconds !== undefined) args.push('--lease-ttl', `${options.leaseTtlSeconds}`);
  if (options.renewMarginSeconds !== undefined) {
    args.push('--renew-margin', `${options.renewMarginSeconds}`);
  }
  if (options.subnetFile !== undefined) args.push('--subnet-file', options.subnetFile);
  if (options.vtepMac !== undefined) args.push('--vtep-mac', options.vtepMac);
  return args;
}

/** The stand-in's command line for a raw spawn: node and the built script. */
export function standinCommand(args: string[]): [string, string[]] {
  return [process.execPath, [STANDIN_SCRIPT, ...args]];
}

export async function startFlanneldStandin(options: StandinOptions): Promise<FlanneldStandin> {
  cleanUpOnExit(killAllSynchronously);
  const [command, args] = standinCommand(standinArgs(options));
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });

  const pid = child.pid as number;
  running.set(pid, child);
  const exited = new Promise<StandinExit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(pid);
      resolve({ code, signal });
    });
  });
  // A test that forgets stop() must not hang on these; the exit hook still kills the process.
  child.unref();
  // Pipes to a child are sockets, which Readable's type does not say.
  (child.stdout as unknown as Socket).unref();
  (child.stderr as unknown as Socket).unref();

  const events: StandinEvent[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  let hasExited = false;
  const notify = (): void => listeners.forEach((listener) => listener());

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    events.push(parseLine(line));
    notify();
  });
  void exited.then(() => {
    hasExited = true;
    notify();
  });

  const describeState = (): string =>
    `events so far:\n${events.map((event) => JSON.stringify(event)).join('\n')}` +
    (stderr === '' ? '' : `\nstderr:\n${stderr}`);

  const waitFor = (
    what: string,
    predicate: (event: StandinEvent) => boolean,
    waitOptions: WaitOptions = {},
  ): Promise<StandinEvent> => {
    const from = waitOptions.from ?? 0;
    const timeoutMs = waitOptions.timeoutMs ?? DEFAULT_WAIT_MS;

    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const check = (): void => {
        const found = events.slice(from).find(predicate);
        if (found === undefined && !hasExited) return;

        listeners.delete(check);
        clearTimeout(timer);
        if (found !== undefined) resolve(found);
        else
          reject(new Error(`flanneld stand-in ${pid} exited before ${what}; ${describeState()}`));
      };

      timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `flanneld stand-in ${pid}: no ${what} within ${timeoutMs} ms; ${describeState()}`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  };

  return {
    pid,
    events,
    writes: () => events.filter((event) => WRITE_EVENTS.has(event.event)).length,
    waitFor,
    get exited() {
      return keepingAlive(exited);
    },
    stop: () => keepingAlive(signalAndWait(pid, exited, 'SIGTERM')),
    kill: () => keepingAlive(signalAndWait(pid, exited, 'SIGKILL')),
  };
}

// The child and its pipes are unreferenced, so a test awaiting only its exit would find the event
// loop empty and end; a timer held meanwhile keeps the loop alive.
function keepingAlive<T>(promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => undefined, 60_000);
  return promise.finally(() => clearInterval(timer));
}

function parseLine(line: string): StandinEvent {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === 'object' && parsed !== null && 'event' in parsed) {
      return parsed as StandinEvent;
    }
  } catch {
    // Reported below as what it is: a line that is not one of the stand-in's events.
  }
  return { event: 'unparsed', line, time: new Date().toISOString() };
}

async function signalAndWait(
  pid: number,
  exited: Promise<StandinExit>,
  signal: NodeJS.Signals,
): Promise<StandinExit> {
  if (!running.has(pid)) return exited;
  signalPid(pid, signal);

  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    graceTimer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, graceOver]);
  clearTimeout(graceTimer);
  if (outcome !== 'timeout') return outcome;

  signalPid(pid, 'SIGKILL');
  return exited;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // ESRCH: it exited between our check and the signal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

// Runs inside 'exit' and signal handlers, where only synchronous work is certain to finish.
function killAllSynchronously(): void {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  running.clear();
}

/**
 * A network under `prefix` with one stand-in host that renews a 75 s lease whenever less than
 * 70 s is left: alive, its lease stays above flanctl's smallest renew margin (1m); dead, the
 * lease falls below it within 15 s. Resolves once the host holds its subnet.
 */
export async function startShortLeaseHost(
  endpoint: string,
  prefix: string,
  publicIp: string,
): Promise<{ host: FlanneldStandin; key: string; subnet: string }> {
  await putKey(endpoint, `${prefix}/config`, CONFIG_10_5);
  const host = await startFlanneldStandin({
    endpoint,
    prefix,
    publicIp,
    leaseTtlSeconds: 75,
    renewMarginSeconds: 70,
  });
  const acquired = await host.waitFor('acquired', (event) => event.event === 'acquired');
  const key = acquired.key as string;
  return { host, key, subnet: key.slice(key.lastIndexOf('/') + 1).replace('-', '/') };
}
