// One measured run of `npm run bench`: a child process timed from spawn to exit, its CPU time
// and peak RSS as the kernel accounts them, and what the etcd under test spent meanwhile.
//
// How each number is taken, and why it is honest:
// - wall: process.hrtime around spawn() and the child's 'exit' event. The child runs under GNU
//   time, whose own fork and exec (about 1 ms) is in every figure alike.
// - CPU and peak RSS of the child: GNU time reports the rusage that wait4() returns, so they
//   are the kernel's totals up to the last instruction, with no sampling that could miss a
//   peak at exit. For a shell loop they cover every process it waited for (RSS: the largest).
// - etcd CPU: utime + stime of /proc/<etcd pid>/stat read right before the spawn and right
//   after the exit. The bench itself only waits meanwhile, so it takes no CPU from either.
// - TimeToLive calls: etcd's own gRPC counter, read before and after; it proves whether a run
//   asked for TTLs and how many times.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

import { grpcCallsStarted } from '../test/helpers/etcd-metrics.js';

export const GNU_TIME = '/usr/bin/time';

export interface RunSample {
  readonly wallMs: number;
  readonly userMs: number;
  readonly sysMs: number;
  readonly maxRssMb: number;
  readonly etcdCpuMs: number;
  readonly ttlCalls: number;
}

export interface RunOutcome {
  readonly sample: RunSample;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdoutPath: string;
  readonly stderr: string;
}

export interface EtcdUnderTest {
  readonly endpoint: string;
  readonly pid: number;
}

export interface Measurer {
  run(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<RunOutcome>;
}

/** Fails with what to install when GNU time is missing: every figure needs it. */
export function checkGnuTime(): void {
  try {
    const version = execFileSync(GNU_TIME, ['--version'], { encoding: 'utf8', stdio: 'pipe' });
    if (!version.includes('GNU')) throw new Error(`${GNU_TIME} is not GNU time`);
  } catch (error) {
    throw new Error(
      `bench: ${GNU_TIME} (GNU time) is needed for CPU and peak RSS: ` +
        `${(error as Error).message}; install it with: apt-get install -y time`,
    );
  }
}

export function makeMeasurer(etcd: EtcdUnderTest, scratchDir: string): Measurer {
  const clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const stdoutPath = path.join(scratchDir, 'run.out');
  const stderrPath = path.join(scratchDir, 'run.err');
  const timePath = path.join(scratchDir, 'run.time');
  const etcdCpuMs = () => (cpuTicks(etcd.pid) * 1000) / clockTicksPerSecond;

  return {
    async run(argv, env) {
      const stdout = fs.openSync(stdoutPath, 'w');
      const stderr = fs.openSync(stderrPath, 'w');
      fs.rmSync(timePath, { force: true });
      const callsBefore = await grpcCallsStarted(etcd.endpoint, 'LeaseTimeToLive');

      const etcdBefore = etcdCpuMs();
      const started = process.hrtime.bigint();
      const child = spawn(GNU_TIME, ['-f', '%U %S %M', '-o', timePath, '--', ...argv], {
        env,
        stdio: ['ignore', stdout, stderr],
      });
      const [exitCode, signal] = (await once(child, 'exit')) as [number | null, string | null];
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const etcdAfter = etcdCpuMs();

      fs.closeSync(stdout);
      fs.closeSync(stderr);
      const callsAfter = await grpcCallsStarted(etcd.endpoint, 'LeaseTimeToLive');
      const usage = readGnuTime(timePath);
      return {
        sample: {
          wallMs,
          ...usage,
          etcdCpuMs: etcdAfter - etcdBefore,
          ttlCalls: callsAfter - callsBefore,
        },
        exitCode,
        signal,
        stdoutPath,
        stderr: fs.readFileSync(stderrPath, 'utf8'),
      };
    },
  };
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces; count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// GNU time writes "Command exited with non-zero status N" above the format line when it does.
function readGnuTime(timePath: string): { userMs: number; sysMs: number; maxRssMb: number } {
  const lines = fs.readFileSync(timePath, 'utf8').trim().split('\n');
  const [user, sys, maxRssKb] = (lines.at(-1) ?? '').split(' ').map(Number);
  if (![user, sys, maxRssKb].every(Number.isFinite)) {
    throw new Error(`bench: cannot read GNU time's report: ${lines.join(' | ')}`);
  }

  return { userMs: user * 1000, sysMs: sys * 1000, maxRssMb: maxRssKb / 1024 };
}
