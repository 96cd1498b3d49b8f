// Runs the built CLI (bin/run.js) as a child process with a clean, predictable environment.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  env?: Record<string, string | undefined>;
  stdin?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const PACKAGE_NAME = 'flanctl';

// Settings a developer may have exported for real clusters; a test must never pick them up.
const STRIPPED_ENV_PREFIXES = ['FLANCTL_', 'ETCDCTL_', 'FLANNELD_', 'FLANNEL_'];

let cachedRepoRoot: string | undefined;

// The helpers run from build/test/helpers (inside the repo) or from a build dir elsewhere, so
// look upwards from this module first and from the working directory second.
export function repoRoot(): string {
  if (cachedRepoRoot !== undefined) {
    return cachedRepoRoot;
  }

  const moduleDir = path.dirname(fileURLToPath(import.meta.url));
  const found = findPackageRoot(moduleDir) ?? findPackageRoot(process.cwd());
  if (found === undefined) {
    throw new Error(
      `cannot find the ${PACKAGE_NAME} repo root above ${moduleDir} or ${process.cwd()}`,
    );
  }

  cachedRepoRoot = found;
  return found;
}

function findPackageRoot(startDir: string): string | undefined {
  let dir = path.resolve(startDir);
  for (;;) {
    if (isFlanctlPackage(path.join(dir, 'package.json'))) {
      return dir;
    }

    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

function isFlanctlPackage(packageJsonPath: string): boolean {
  try {
    const manifest: unknown = JSON.parse(fs.readFileSync(packageJsonPath, 'utf8'));
    return (
      typeof manifest === 'object' &&
      manifest !== null &&
      (manifest as { name?: unknown }).name === PACKAGE_NAME
    );
  } catch {
    return false;
  }
}

export function cliEnvironment(
  overrides: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!STRIPPED_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))) {
      environment[name] = value;
    }
  }

  environment.NO_COLOR = '1';
  // chalk ignores NO_COLOR but obeys FORCE_COLOR, which some CI systems set.
  delete environment.FORCE_COLOR;

  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete environment[name];
    } else {
      environment[name] = value;
    }
  }
  return environment;
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const root = repoRoot();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const child = spawn(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], {
    cwd: root,
    env: cliEnvironment(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  return new Promise<CliResult>((resolve, reject) => {
    const output = gatherOutput(child);
    let timedOut = false;

    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // It exited just now; 'close' will still fire and settle the promise.
        }
      }
    }, timeoutMs);

    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`flanctl ${JSON.stringify(args)} could not start: ${error.message}`));
    });

    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new Error(
            `flanctl ${JSON.stringify(args)} timed out after ${timeoutMs} ms and was killed;` +
              ` stdout so far: ${JSON.stringify(output.stdout.slice(-500))},` +
              ` stderr so far: ${JSON.stringify(output.stderr.slice(-500))}`,
          ),
        );
        return;
      }
      resolve({ code: exitCode ?? signalExitCode(signal), ...output });
    });

    // A CLI that exits without reading its input makes the write fail with EPIPE; that is the
    // CLI's choice, not a harness failure, and the exit code already tells the story.
    child.stdin.on('error', () => undefined);
    if (options.stdin !== undefined) {
      child.stdin.end(options.stdin, 'utf8');
    } else {
      child.stdin.end();
    }
  });
}

/**
 * Runs `script` in bash with the built CLI's command line as "$@", in the environment runCli
 * uses, so a test can redirect or pipe flanctl's stdout the way an operator's shell does.
 */
export function runInShell(
  script: string,
  cliArgs: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const cli = [process.execPath, path.join(repoRoot(), 'bin', 'run.js'), ...cliArgs];
  const child = spawn('bash', ['-c', script, 'flanctl-test', ...cli], {
    cwd: repoRoot(),
    env: cliEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  return new Promise((resolve, reject) => {
    const output = gatherOutput(child);

    const timer = setTimeout(() => child.kill('SIGKILL'), DEFAULT_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === null) {
        reject(new Error(`bash -c ${JSON.stringify(script)} died of ${signal}; ${output.stderr}`));
        return;
      }
      resolve({ code, ...output });
    });
  });
}

/** The text a child writes to stdout and stderr, growing as it arrives. */
function gatherOutput(child: ChildProcessByStdio<null | Writable, Readable, Readable>): {
  stdout: string;
  stderr: string;
} {
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output.stdout += chunk;
  });
  child.stderr.on('data', (chunk: string) => {
    output.stderr += chunk;
  });
  return output;
}

// Shells report death by signal as 128 + signal number; do the same so code is always a number.
function signalExitCode(signal: NodeJS.Signals | null): number {
  if (signal === null) {
    return 1;
  }
  return 128 + (os.constants.signals[signal] ?? 0);
}
