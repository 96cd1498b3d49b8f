// `npm run bench` works: one smoke run at N = 200 (one run per figure, its own etcd) writes a
// complete results file. Nothing here is about time: a bench reports times, tests never judge
// them. Every figure must be a positive number, which a run that failed cannot give.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LEASE_TTL_SECONDS, leaseCount } from '../../bench/network.js';
import type { Comparison, FigureResult, TtlPhase } from '../../bench/report.js';
import { repoRoot } from '../helpers/cli.js';

const SIZE = 200;
const STARTUP_IDS = ['node', 'bare-version', 'version', 'ls-empty'];
const SIZE_IDS = [
  'floor',
  'anchor',
  'reference',
  'reference-no-ttl',
  'ls-json',
  'ls-json-no-ttl',
  'ls-table',
];
const ASKS_TTLS = ['anchor', 'reference', 'ls-json', 'ls-table'];
// The etcdctl loop alone starts ~400 etcdctl processes; a busy 2-core machine needs a while.
const BENCH_TIMEOUT_MS = 240_000;

interface Results {
  schema: string;
  smoke: boolean;
  note: string;
  wallSeconds: number;
  machine: Record<string, unknown>;
  settings: { sizes: number[]; runs: number; anchorSize: number; leaseTtlSeconds: number };
  figures: FigureResult[];
  comparisons: Comparison[];
  ttlPhases: TtlPhase[];
}

function isPositive(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

describe('npm run bench --smoke at N = 200', { timeout: BENCH_TIMEOUT_MS }, () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-bench-smoke-'));
  const outPath = path.join(outDir, 'results.json');
  let code: number | null = null;
  let stdout = '';
  let stderr = '';
  let results: Results;

  before(async () => {
    const bench = path.join(repoRoot(), 'build', 'bench', 'bench.js');
    const args = [bench, '--smoke', '--sizes', String(SIZE), '--out', outPath];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    [code] = (await once(child, 'close')) as [number | null];

    assert.equal(code, 0, `bench failed:\n${stderr}`);
    results = JSON.parse(fs.readFileSync(outPath, 'utf8')) as Results;
  });

  after(() => {
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  test('says on stdout and in the file that a smoke run is not a measurement', () => {
    assert.match(stdout, /not a measurement/);
    assert.match(stdout, /FIGURE\s+N\s+MEDIAN/);
    assert.equal(results.schema, 'flanctl-bench/1');
    assert.equal(results.smoke, true);
    assert.match(results.note, /not a measurement/);
    assert.deepEqual(results.settings.sizes, [SIZE]);
    assert.equal(results.settings.anchorSize, SIZE);
    assert.equal(results.settings.leaseTtlSeconds, LEASE_TTL_SECONDS);
    assert.ok(isPositive(results.wallSeconds));
    assert.equal(typeof results.machine.etcd, 'string');
  });

  test('has every figure once: start-up without N, the rest at N = 200', () => {
    const listed = results.figures.map((figure) => `${figure.id}@${figure.n}`);
    const wanted = [
      ...STARTUP_IDS.map((id) => `${id}@null`),
      ...SIZE_IDS.map((id) => `${id}@${SIZE}`),
    ];

    assert.deepEqual([...listed].sort(), [...wanted].sort());
  });

  test('every figure is a positive number, from runs that all measured something', () => {
    for (const figure of results.figures) {
      const what = `${figure.id}@${figure.n}`;
      assert.equal(figure.extrapolatedFrom, null, what);
      assert.ok(figure.runs.length >= 1, `${what}: no runs`);
      assert.ok(isPositive(figure.wallMs.median), `${what}: median ${figure.wallMs.median}`);
      assert.ok(isPositive(figure.wallMs.min), `${what}: min ${figure.wallMs.min}`);
      assert.ok(isPositive(figure.maxRssMb), `${what}: peak RSS ${figure.maxRssMb}`);
      for (const run of figure.runs) {
        assert.ok(
          isPositive(run.wallMs) && isPositive(run.maxRssMb),
          `${what}: run ${JSON.stringify(run)}`,
        );
      }
    }
  });

  test('the figures that ask for TTLs asked once per lease, the others never', () => {
    for (const figure of results.figures) {
      const wanted = ASKS_TTLS.includes(figure.id) ? leaseCount(SIZE) : 0;
      assert.equal(figure.ttlCalls, wanted, `${figure.id}@${figure.n}`);
    }
  });

  test('every ratio is a positive number, and none is judged', () => {
    assert.ok(results.comparisons.length > 0);
    for (const comparison of results.comparisons) {
      assert.ok(isPositive(comparison.value), `${comparison.id}: ${comparison.value}`);
      assert.equal(comparison.met, null, comparison.id);
    }
  });

  test('has the TTL phase of flanctl and of the reference, with their call counts', () => {
    const phases = results.ttlPhases.map((phase) => [phase.client, phase.n, phase.calls]);

    assert.deepEqual(phases, [
      ['reference', SIZE, leaseCount(SIZE)],
      ['flanctl', SIZE, leaseCount(SIZE)],
    ]);
    for (const phase of results.ttlPhases) {
      assert.ok([phase.wallMs, phase.clientCpuMs, phase.etcdCpuMs].every(Number.isFinite));
    }
  });
});
