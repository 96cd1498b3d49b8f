// What `npm run bench` makes of its runs: medians, the ratios the issue sets targets on, the
// TTL phase's CPU split, and the tables it prints. Pure: no I/O, so it is unit-tested.
import { renderColumns } from '../src/output/columns.js';
import { type FigureId, LABELS, STARTUP_FIGURES, type SizeFigure } from './figures.js';
import type { RunSample } from './measure.js';

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface FigureResult {
  readonly id: FigureId;
  readonly label: string;
  /** Keys listed; null for the start-up figures, which list nothing. */
  readonly n: number | null;
  readonly command: string;
  readonly runs: readonly RunSample[];
  /** For an anchor figure not measured at this N: the N it was measured at. */
  readonly extrapolatedFrom: number | null;
  readonly wallMs: Stats;
  /** Medians over the runs; null when extrapolated. */
  readonly cpuMs: number | null;
  readonly maxRssMb: number | null;
  readonly etcdCpuMs: number | null;
  readonly ttlCalls: number | null;
}

export interface Target {
  readonly op: '<=' | '>=' | '<';
  readonly value: number;
}

export interface Comparison {
  readonly id: string;
  readonly description: string;
  readonly n: number | null;
  /** A ratio of median wall times (unit 'x'), or a size in MB (unit 'MB'). */
  readonly value: number;
  readonly unit: 'x' | 'MB';
  /**
   * The same ratio of median CPU times (user + sys of the process alone), for reading a wall
   * ratio taken on a busy machine; never judged. Null for sizes and extrapolated figures.
   */
  readonly cpuRatio: number | null;
  readonly target: Target | null;
  /** null when there is no target, or in a smoke run, which judges nothing. */
  readonly met: boolean | null;
  readonly note?: string;
}

export interface TtlPhase {
  readonly client: 'flanctl' | 'reference';
  readonly n: number;
  readonly calls: number;
  readonly wallMs: number;
  readonly clientCpuMs: number;
  readonly etcdCpuMs: number;
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) throw new Error('stats of no values');

  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

export function summarize(
  id: FigureId,
  n: number | null,
  command: string,
  runs: readonly RunSample[],
): FigureResult {
  const median = (pick: (run: RunSample) => number) => stats(runs.map(pick)).median;
  return {
    id,
    label: LABELS[id],
    n,
    command,
    runs,
    extrapolatedFrom: null,
    wallMs: stats(runs.map((run) => run.wallMs)),
    cpuMs: median((run) => run.userMs + run.sysMs),
    maxRssMb: median((run) => run.maxRssMb),
    etcdCpuMs: median((run) => run.etcdCpuMs),
    ttlCalls: median((run) => run.ttlCalls),
  };
}

/** A figure measured at `measured.n`, scaled in proportion to N: the etcdctl loop. */
export function extrapolate(measured: FigureResult, n: number): FigureResult {
  const from = measured.n;
  if (from === null) throw new Error(`${measured.id} has no N to extrapolate from`);

  const scale = n / from;
  const { median, min, max } = measured.wallMs;
  return {
    ...measured,
    n,
    runs: [],
    extrapolatedFrom: from,
    wallMs: { median: median * scale, min: min * scale, max: max * scale },
    cpuMs: null,
    maxRssMb: null,
    etcdCpuMs: null,
    ttlCalls: null,
  };
}

interface RatioSpec {
  readonly figure: FigureId;
  readonly comparator: FigureId;
  readonly description: string;
  /** Targets by N (null key: the start-up figures); sizes without one are reported only. */
  readonly targets: ReadonlyMap<number | null, Target>;
}

const AT_MOST_1 = { op: '<=', value: 1.0 } as const;

/** The targets that compare two figures of the same run. */
export const RATIOS: readonly RatioSpec[] = [
  {
    figure: 'ls-json',
    comparator: 'reference',
    description: 'leases ls --json / etcd3 reference',
    targets: new Map([
      [10_000, AT_MOST_1],
      [65_536, AT_MOST_1],
    ]),
  },
  {
    figure: 'anchor',
    comparator: 'ls-json',
    description: 'etcdctl loop / leases ls --json (times faster)',
    targets: new Map<number, Target>([
      [1_000, { op: '>=', value: 40 }],
      [10_000, { op: '>=', value: 100 }],
    ]),
  },
  {
    figure: 'ls-json-no-ttl',
    comparator: 'floor',
    description: 'leases ls --json --no-ttl / etcdctl -w json',
    targets: new Map([[65_536, { op: '<=', value: 3.5 }]]),
  },
  {
    figure: 'reference-no-ttl',
    comparator: 'floor',
    description: 'etcd3 reference without TTLs / etcdctl -w json',
    targets: new Map(),
  },
  {
    figure: 'ls-table',
    comparator: 'ls-json',
    description: 'leases ls table / leases ls --json',
    targets: new Map([[65_536, { op: '<=', value: 1.1 }]]),
  },
  {
    figure: 'version',
    comparator: 'bare-version',
    description: 'flanctl --version / bare oclif CLI',
    targets: new Map([[null, { op: '<=', value: 1.2 }]]),
  },
  {
    figure: 'ls-empty',
    comparator: 'bare-version',
    description: 'leases ls on an empty prefix / bare oclif CLI',
    targets: new Map([[null, { op: '<=', value: 2.0 }]]),
  },
  {
    figure: 'version',
    comparator: 'node',
    description: 'flanctl --version / node -e 0',
    targets: new Map(),
  },
];

/** Peak RSS targets: the figure, and the N where it must stay under the limit. */
export const RSS_LIMITS: ReadonlyArray<{ figure: FigureId; n: number; target: Target | null }> = [
  { figure: 'ls-json', n: 65_536, target: { op: '<', value: 250 } },
  { figure: 'ls-table', n: 65_536, target: { op: '<', value: 250 } },
  { figure: 'reference', n: 65_536, target: null },
];

/**
 * Linear cost: the wall time added per key between the two largest sizes, over that between
 * the two smallest. Linear work gives about 1; work quadratic in N gives about 7 at the issue's
 * sizes. 1.5 is this bench's line between the two, with room for a shared machine's noise.
 */
export const GROWTH_TARGET: Target = { op: '<=', value: 1.5 };
export const GROWTH_FIGURES: readonly SizeFigure[] = [
  'ls-json',
  'ls-table',
  'ls-json-no-ttl',
  'reference',
];

export function compare(figures: readonly FigureResult[], smoke: boolean): Comparison[] {
  const find = (id: FigureId, n: number | null) =>
    figures.find((figure) => figure.id === id && figure.n === n);
  const judged = (value: number, target: Target | null) =>
    smoke || target === null ? null : meets(value, target);
  const sizes = [...new Set(figures.flatMap((figure) => (figure.n === null ? [] : [figure.n])))];
  const comparisons: Comparison[] = [];

  for (const spec of RATIOS) {
    const startup = (STARTUP_FIGURES as readonly FigureId[]).includes(spec.figure);
    for (const n of startup ? [null] : sizes) {
      const figure = find(spec.figure, n);
      const comparator = find(spec.comparator, n);
      if (!figure || !comparator) continue;

      const value = figure.wallMs.median / comparator.wallMs.median;
      const cpuRatio = figure.cpuMs && comparator.cpuMs ? figure.cpuMs / comparator.cpuMs : null;
      const target = spec.targets.get(n) ?? null;
      const extrapolated = figure.extrapolatedFrom ?? comparator.extrapolatedFrom;
      comparisons.push({
        id: `${spec.figure}/${spec.comparator}`,
        description: spec.description,
        n,
        value,
        unit: 'x',
        cpuRatio,
        target,
        met: judged(value, target),
        ...(extrapolated === null
          ? {}
          : { note: `etcdctl loop extrapolated from ${extrapolated}` }),
      });
    }
  }

  for (const limit of RSS_LIMITS) {
    const rss = find(limit.figure, limit.n)?.maxRssMb;
    if (rss === undefined || rss === null) continue;
    comparisons.push({
      id: `${limit.figure}/rss`,
      description: `peak RSS of ${LABELS[limit.figure]}`,
      n: limit.n,
      value: rss,
      unit: 'MB',
      cpuRatio: null,
      target: limit.target,
      met: judged(rss, limit.target),
    });
  }

  const ordered = [...sizes].sort((a, b) => a - b);
  if (ordered.length >= 3) {
    for (const id of GROWTH_FIGURES) {
      const walls = ordered.map((n) => find(id, n)?.wallMs.median);
      if (walls.some((wall) => wall === undefined)) continue;

      const value = growthRatio(ordered, walls as number[]);
      const cpus = ordered.map((n) => find(id, n)?.cpuMs ?? null);
      const cpuRatio = cpus.every((cpu) => cpu !== null)
        ? growthRatio(ordered, cpus as number[])
        : null;
      const target = id.startsWith('ls-') ? GROWTH_TARGET : null;
      comparisons.push({
        id: `${id}/growth`,
        description: `growth of ${LABELS[id]}`,
        n: ordered[ordered.length - 1],
        value,
        unit: 'x',
        cpuRatio,
        target,
        met: judged(value, target),
      });
    }
  }

  return comparisons;
}

/** Marginal wall time per key over the last interval of sizes, over the first interval. */
export function growthRatio(sizes: readonly number[], walls: readonly number[]): number {
  const last = sizes.length - 1;
  const first = (walls[1] - walls[0]) / (sizes[1] - sizes[0]);
  const final = (walls[last] - walls[last - 1]) / (sizes[last] - sizes[last - 1]);
  return final / first;
}

export function meets(value: number, target: Target): boolean {
  switch (target.op) {
    case '<=':
      return value <= target.value;
    case '>=':
      return value >= target.value;
    case '<':
      return value < target.value;
  }
}

/**
 * The TTL phase of each client at each N, as the difference between its runs with and without
 * TTLs (medians): the wall time it adds, and the CPU flanctl (or the reference) and etcd spend
 * on it. A process that is busy for most of the added wall time is the bottleneck.
 */
export function ttlPhases(figures: readonly FigureResult[]): TtlPhase[] {
  const pairs = [
    { client: 'flanctl', withTtls: 'ls-json', without: 'ls-json-no-ttl' },
    { client: 'reference', withTtls: 'reference', without: 'reference-no-ttl' },
  ] as const;
  const phases: TtlPhase[] = [];

  for (const figure of figures) {
    const pair = pairs.find((candidate) => candidate.withTtls === figure.id);
    const without = figures.find((other) => other.id === pair?.without && other.n === figure.n);
    if (!pair || !without || figure.n === null) continue;

    phases.push({
      client: pair.client,
      n: figure.n,
      calls: figure.ttlCalls ?? 0,
      wallMs: figure.wallMs.median - without.wallMs.median,
      clientCpuMs: (figure.cpuMs ?? 0) - (without.cpuMs ?? 0),
      etcdCpuMs: (figure.etcdCpuMs ?? 0) - (without.etcdCpuMs ?? 0),
    });
  }

  return phases;
}

export function figuresTable(figures: readonly FigureResult[]): string {
  const rows = figures.map((figure) => [
    figure.label,
    figure.n === null ? '-' : count(figure.n),
    figure.extrapolatedFrom === null
      ? duration(figure.wallMs.median)
      : `~${duration(figure.wallMs.median)}`,
    figure.extrapolatedFrom === null ? duration(figure.wallMs.min) : '-',
    figure.extrapolatedFrom === null
      ? String(figure.runs.length)
      : `extrapolated from N=${count(figure.extrapolatedFrom)}`,
    optional(figure.cpuMs, duration),
    optional(figure.etcdCpuMs, duration),
    optional(figure.maxRssMb, (mb) => `${mb.toFixed(0)} MB`),
    optional(figure.ttlCalls, count),
  ]);
  const headers = ['FIGURE', 'N', 'MEDIAN', 'MIN', 'RUNS', 'CPU', 'ETCD CPU', 'PEAK RSS'];
  return renderColumns([...headers, 'TTL CALLS'], rows);
}

export function comparisonsTable(comparisons: readonly Comparison[], smoke: boolean): string {
  const rows = comparisons.map((comparison) => [
    comparison.description,
    comparison.n === null ? '-' : count(comparison.n),
    comparison.unit === 'MB'
      ? `${comparison.value.toFixed(0)} MB`
      : `${comparison.value.toFixed(2)}x`,
    comparison.cpuRatio === null ? '-' : `${comparison.cpuRatio.toFixed(2)}x`,
    comparison.target === null ? '-' : targetText(comparison.target, comparison.unit),
    verdict(comparison, smoke),
  ]);
  return renderColumns(['RATIO', 'N', 'VALUE', 'CPU RATIO', 'TARGET', 'RESULT'], rows);
}

export function ttlPhaseTable(phases: readonly TtlPhase[]): string {
  const rows = phases.map((phase) => [
    phase.client,
    count(phase.n),
    count(phase.calls),
    duration(phase.wallMs),
    `${duration(phase.clientCpuMs)} (${share(phase.clientCpuMs, phase.wallMs)})`,
    `${duration(phase.etcdCpuMs)} (${share(phase.etcdCpuMs, phase.wallMs)})`,
  ]);
  const headers = ['CLIENT', 'N', 'CALLS', 'TTL PHASE WALL', 'CLIENT CPU', 'ETCD CPU'];
  return renderColumns(headers, rows);
}

function verdict(comparison: Comparison, smoke: boolean): string {
  const note = comparison.note === undefined ? '' : ` (${comparison.note})`;
  if (comparison.target === null) return `-${note}`;
  return `${smoke ? 'not judged (smoke run)' : comparison.met ? 'met' : 'MISSED'}${note}`;
}

function targetText(target: Target, unit: 'x' | 'MB'): string {
  const op = { '<=': '<=', '>=': '>=', '<': '<' }[target.op];
  return unit === 'MB' ? `${op} ${target.value} MB` : `${op} ${target.value}x`;
}

/** CPU time as a share of one core over the wall time. */
function share(cpuMs: number, wallMs: number): string {
  return wallMs > 0 ? `${Math.round((cpuMs / wallMs) * 100)}% of a core` : 'n/a';
}

export function duration(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(Math.abs(ms) < 10_000 ? 2 : 1)} s`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function optional<T>(value: T | null, format: (value: T) => string): string {
  return value === null ? '-' : format(value);
}
