// `npm run bench`: starts its own etcd on 127.0.0.1, grows a flannel network in it to each size,
// and times flanctl against etcdctl and a plain etcd3 script on that same etcd, runs
// interleaved. Prints the figures, the issue's ratios with their targets, and the CPU split of
// the TTL phase; writes everything to bench/results.json. It never fails on a time: targets are
// reported, not asserted. It fails only when a run did not do its whole job.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { repoRoot } from '../test/helpers/cli.js';
import { startEtcd } from '../test/helpers/etcd-server.js';
import {
  type FigureContext,
  type FigureId,
  LABELS,
  SIZE_FIGURES,
  STARTUP_FIGURES,
  checkRun,
  figureArgv,
} from './figures.js';
import { type Measurer, type RunSample, checkGnuTime, makeMeasurer } from './measure.js';
import {
  BENCH_PREFIX,
  EMPTY_PREFIX,
  LEASE_TTL_SECONDS,
  MAX_SIZE,
  RESERVATION_EVERY,
  growNetwork,
  leaseCount,
} from './network.js';
import {
  type FigureResult,
  compare,
  comparisonsTable,
  duration,
  extrapolate,
  figuresTable,
  summarize,
  ttlPhaseTable,
  ttlPhases,
} from './report.js';

const USAGE =
  'usage: npm run bench -- [--sizes 1000,10000,65536] [--runs 5] [--startup-runs 15]\n' +
  '                        [--anchor-runs 5] [--out bench/results.json] [--smoke]';
const MIN_RUNS = 5;
/** The etcdctl loop is measured at the largest size up to this, and scaled to the others. */
const ANCHOR_MAX_SIZE = 1_000;
/** etcd's backend commits every 100 ms; let the last seeding writes land before timing. */
const SETTLE_MS = 1_000;
const SMOKE_NOTE = 'smoke run: proves the bench works; its numbers are not a measurement';

interface BenchOptions {
  readonly sizes: number[];
  readonly runs: number;
  readonly startupRuns: number;
  readonly anchorRuns: number;
  readonly out: string;
  readonly smoke: boolean;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '1000,10000,65536' },
      runs: { type: 'string' },
      'startup-runs': { type: 'string' },
      'anchor-runs': { type: 'string' },
      out: { type: 'string', default: path.join(repoRoot(), 'bench', 'results.json') },
      smoke: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }

  const smoke = values.smoke;
  const least = smoke ? 1 : MIN_RUNS;
  const runs = wholeNumber('--runs', values.runs ?? (smoke ? '1' : '5'), least);
  const startupRuns = wholeNumber(
    '--startup-runs',
    values['startup-runs'] ?? (smoke ? '1' : '15'),
    least,
  );
  // The issue asks for 5 runs per figure; fewer etcdctl loops (~30 s each) is allowed, and said.
  const anchorRuns = wholeNumber('--anchor-runs', values['anchor-runs'] ?? String(runs), 1);
  if (anchorRuns > runs) usage(`--anchor-runs ${anchorRuns} is above --runs ${runs}`);

  const sizes = [
    ...new Set(values.sizes.split(',').map((size) => wholeNumber('--sizes', size, 1))),
  ];
  for (const size of sizes) {
    if (size > MAX_SIZE) usage(`--sizes ${size} is above ${MAX_SIZE}, the /24s of 10.0.0.0/8`);
  }

  const out = path.resolve(values.out);
  return { sizes: sizes.sort((a, b) => a - b), runs, startupRuns, anchorRuns, out, smoke };
}

function wholeNumber(flag: string, text: string, least: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < least) {
    usage(`${flag} ${JSON.stringify(text)} is not a whole number of at least ${least}`);
  }
  return value;
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/**
 * The environment of every measured process: nothing that could point it at another etcd, and
 * no NODE_OPTIONS or NODE_ENV (which turns on oclif's TypeScript lookup) to change what runs.
 */
function childEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  const dropped = ['FLANCTL_', 'ETCDCTL_', 'FLANNELD_', 'FLANNEL_', 'NODE_'];
  for (const [name, value] of Object.entries(process.env)) {
    if (!dropped.some((prefix) => name.startsWith(prefix))) environment[name] = value;
  }
  return { ...environment, ETCDCTL_API: '3' };
}

function progress(line: string): void {
  process.stderr.write(`bench: ${line}\n`);
}

interface Group {
  readonly ids: readonly FigureId[];
  readonly n: number | null;
  readonly rounds: number;
  /** Rounds the etcdctl loop takes part in, when it is in the group. */
  readonly anchorRounds: number;
}

/** Runs a group's figures in turn, round after round, so drift hits every figure alike. */
async function measureGroup(
  group: Group,
  measurer: Measurer,
  context: FigureContext,
): Promise<FigureResult[]> {
  const samples = new Map<FigureId, RunSample[]>(group.ids.map((id) => [id, []]));
  const expected = { keys: group.n ?? 0, leases: group.n === null ? 0 : leaseCount(group.n) };
  const environment = childEnvironment();
  const where = group.n === null ? 'start-up' : `N=${group.n}`;

  for (let round = 1; round <= group.rounds; round++) {
    for (const id of group.ids) {
      if (id === 'anchor' && round > group.anchorRounds) continue;

      const outcome = await measurer.run(figureArgv(id, context), environment);
      const problem = checkRun(id, outcome, expected);
      if (problem !== undefined) {
        throw new Error(`${LABELS[id]} at ${where}, run ${round} does not count: ${problem}`);
      }

      samples.get(id)?.push(outcome.sample);
      const wall = duration(outcome.sample.wallMs);
      progress(`${where} run ${round}/${group.rounds}: ${LABELS[id]} ${wall}`);
    }
  }

  return group.ids.map((id) =>
    summarize(id, group.n, figureArgv(id, context).join(' '), samples.get(id) ?? []),
  );
}

function anchorSize(sizes: readonly number[]): number {
  const small = sizes.filter((size) => size <= ANCHOR_MAX_SIZE);
  return small.length > 0 ? Math.max(...small) : Math.min(...sizes);
}

function firstLine(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0].trim();
  } catch (error) {
    return `unknown (${(error as Error).message.split('\n')[0]})`;
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  checkGnuTime();
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  const etcd = await startEtcd();
  const scratchDir = await mkdtemp(path.join(os.tmpdir(), 'flanctl-bench-'));
  progress(`etcd ${etcd.endpoint} (pid ${etcd.pid}); sizes ${options.sizes.join(', ')}`);

  let figures: FigureResult[];
  try {
    const context: FigureContext = {
      repoRoot: repoRoot(),
      benchDir: path.dirname(fileURLToPath(import.meta.url)),
      endpoint: etcd.endpoint,
      prefix: BENCH_PREFIX,
      emptyPrefix: EMPTY_PREFIX,
    };
    figures = await measureAll(options, makeMeasurer(etcd, scratchDir), context);
  } finally {
    await etcd.stop();
    await rm(scratchDir, { recursive: true, force: true });
  }

  const comparisons = compare(figures, options.smoke);
  const phases = ttlPhases(figures);
  const results = {
    schema: 'flanctl-bench/1',
    smoke: options.smoke,
    ...(options.smoke ? { note: SMOKE_NOTE } : {}),
    startedAt: startedAt.toISOString(),
    wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
    machine: machineFacts(loadAtStart),
    settings: {
      sizes: options.sizes,
      runs: options.runs,
      startupRuns: options.startupRuns,
      anchorRuns: options.anchorRuns,
      anchorSize: anchorSize(options.sizes),
      prefix: BENCH_PREFIX,
      leaseTtlSeconds: LEASE_TTL_SECONDS,
      reservationEvery: RESERVATION_EVERY,
    },
    figures,
    comparisons,
    ttlPhases: phases,
  };
  fs.mkdirSync(path.dirname(options.out), { recursive: true });
  fs.writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);

  process.stdout.write(
    `${options.smoke ? `${SMOKE_NOTE}\n\n` : ''}${describeRun(results)}\n\n` +
      `${figuresTable(figures)}\n${comparisonsTable(comparisons, options.smoke)}\n` +
      `TTL phase (runs with TTLs minus runs without, medians):\n${ttlPhaseTable(phases)}\n` +
      `written to ${options.out}\n`,
  );
}

/** Start-up on the empty etcd, then each size in turn on the same, growing network. */
async function measureAll(
  options: BenchOptions,
  measurer: Measurer,
  context: FigureContext,
): Promise<FigureResult[]> {
  // Start-up first, while the etcd is empty: the empty-prefix listing then finds nothing
  // else in the keyspace to hint at, and times flanctl's start-up, not a scan.
  const startup = { ids: STARTUP_FIGURES, n: null, rounds: options.startupRuns, anchorRounds: 0 };
  const figures = await measureGroup(startup, measurer, context);

  const anchorAt = anchorSize(options.sizes);
  let seeded = 0;
  for (const n of options.sizes) {
    progress(`seeding keys ${seeded} to ${n - 1} (not timed)`);
    await growNetwork(context.endpoint, context.prefix, seeded, n);
    seeded = n;
    await sleep(SETTLE_MS);

    const ids = SIZE_FIGURES.filter((id) => id !== 'anchor' || n === anchorAt);
    const group = { ids, n, rounds: options.runs, anchorRounds: options.anchorRuns };
    figures.push(...(await measureGroup(group, measurer, context)));
  }

  const anchor = figures.find((figure) => figure.id === 'anchor');
  for (const n of options.sizes) {
    if (anchor && n !== anchorAt) figures.push(extrapolate(anchor, n));
  }
  return orderForDisplay(figures);
}

function machineFacts(loadAtStart: number[]) {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    etcd: firstLine('etcd', ['--version']),
    etcdctl: firstLine('etcdctl', ['version']),
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: os.loadavg(),
  };
}

function describeRun(results: {
  startedAt: string;
  wallSeconds: number;
  machine: ReturnType<typeof machineFacts>;
}): string {
  const { machine } = results;
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  return (
    `flanctl bench ${results.startedAt}, took ${duration(results.wallSeconds * 1000)}: ` +
    `${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}, ${machine.etcd}; ` +
    `load average ${load(machine.loadAverageAtStart)} at start, ` +
    `${load(machine.loadAverageAtEnd)} at end`
  );
}

const DISPLAY_ORDER: readonly FigureId[] = [
  ...STARTUP_FIGURES,
  'floor',
  'anchor',
  'reference',
  'reference-no-ttl',
  'ls-json',
  'ls-json-no-ttl',
  'ls-table',
];

function orderForDisplay(figures: readonly FigureResult[]): FigureResult[] {
  return [...figures].sort(
    (a, b) => (a.n ?? 0) - (b.n ?? 0) || DISPLAY_ORDER.indexOf(a.id) - DISPLAY_ORDER.indexOf(b.id),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
