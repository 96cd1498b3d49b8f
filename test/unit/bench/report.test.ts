// What `npm run bench` makes of its runs: medians, extrapolation, the ratios and their
// targets, the growth check and the TTL-phase split. Pure functions, fed made-up runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { FigureId } from '../../../bench/figures.js';
import type { RunSample } from '../../../bench/measure.js';
import {
  type Comparison,
  type FigureResult,
  compare,
  comparisonsTable,
  extrapolate,
  growthRatio,
  meets,
  stats,
  summarize,
  ttlPhases,
} from '../../../bench/report.js';

function run(wallMs: number, extra: Partial<RunSample> = {}): RunSample {
  return { wallMs, userMs: 0, sysMs: 0, maxRssMb: 100, etcdCpuMs: 0, ttlCalls: 0, ...extra };
}

function figure(id: FigureId, n: number | null, ...walls: number[]): FigureResult {
  return summarize(
    id,
    n,
    id,
    walls.map((wall) => run(wall)),
  );
}

function find(comparisons: Comparison[], id: string, n: number | null): Comparison {
  const found = comparisons.find((comparison) => comparison.id === id && comparison.n === n);
  assert.ok(found, `no ${id} at ${n} in ${JSON.stringify(comparisons.map((c) => [c.id, c.n]))}`);
  return found;
}

describe('stats', () => {
  test('the median of an odd count is the middle value, whatever the order', () => {
    assert.deepEqual(stats([5, 1, 9, 3, 7]), { median: 5, min: 1, max: 9 });
  });

  test('the median of an even count is the mean of the two middle values', () => {
    assert.deepEqual(stats([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  });

  test('refuses no values', () => {
    assert.throws(() => stats([]), /no values/);
  });
});

describe('summarize', () => {
  test('takes medians of wall, CPU (user + sys), RSS, etcd CPU and TTL calls', () => {
    const result = summarize('ls-json', 1000, 'flanctl leases ls --json', [
      run(300, { userMs: 100, sysMs: 50, maxRssMb: 90, etcdCpuMs: 20, ttlCalls: 950 }),
      run(100, { userMs: 10, sysMs: 10, maxRssMb: 80, etcdCpuMs: 10, ttlCalls: 950 }),
      run(200, { userMs: 60, sysMs: 20, maxRssMb: 85, etcdCpuMs: 30, ttlCalls: 950 }),
    ]);

    assert.deepEqual(result.wallMs, { median: 200, min: 100, max: 300 });
    assert.equal(result.cpuMs, 80);
    assert.equal(result.maxRssMb, 85);
    assert.equal(result.etcdCpuMs, 20);
    assert.equal(result.ttlCalls, 950);
    assert.equal(result.label, 'flanctl leases ls --json');
    assert.equal(result.extrapolatedFrom, null);
  });
});

describe('extrapolate', () => {
  test('scales the wall times in proportion to N and marks the figure', () => {
    const measured = figure('anchor', 1000, 20_000, 30_000, 25_000);
    const scaled = extrapolate(measured, 10_000);

    assert.deepEqual(scaled.wallMs, { median: 250_000, min: 200_000, max: 300_000 });
    assert.equal(scaled.extrapolatedFrom, 1000);
    assert.equal(scaled.n, 10_000);
    assert.deepEqual(scaled.runs, []);
    assert.equal(scaled.maxRssMb, null);
  });
});

describe('compare', () => {
  const figures = [
    figure('node', null, 50),
    figure('bare-version', null, 100),
    figure('version', null, 130),
    figure('ls-empty', null, 190),
    ...[1000, 10_000, 65_536].flatMap((n) => [
      figure('floor', n, n / 100),
      figure('reference', n, n / 10),
      figure('ls-json', n, n / 8),
      figure('ls-table', n, n / 8),
    ]),
    figure('anchor', 1000, 25_000),
  ];
  const judged = compare(figures, false);

  test('judges a target at the sizes the issue names, and only there', () => {
    const at1000 = find(judged, 'ls-json/reference', 1000);
    const at10000 = find(judged, 'ls-json/reference', 10_000);

    assert.equal(at1000.value, 1.25);
    assert.equal(at1000.target, null);
    assert.equal(at1000.met, null);
    assert.deepEqual(at10000.target, { op: '<=', value: 1 });
    assert.equal(at10000.met, false);
  });

  test('the etcdctl loop counts as times slower than flanctl', () => {
    const anchor = find(judged, 'anchor/ls-json', 1000);

    assert.equal(anchor.value, 200);
    assert.equal(anchor.met, true);
  });

  test('start-up ratios have no N; 1.3x misses 1.2x, 1.9x meets 2x', () => {
    assert.equal(find(judged, 'version/bare-version', null).met, false);
    assert.equal(find(judged, 'ls-empty/bare-version', null).met, true);
    assert.equal(find(judged, 'version/node', null).value, 2.6);
  });

  test('peak RSS is compared with its limit in MB', () => {
    const rss = find(judged, 'ls-json/rss', 65_536);

    assert.equal(rss.unit, 'MB');
    assert.equal(rss.value, 100);
    assert.equal(rss.met, true);
  });

  test('linear growth meets the growth target', () => {
    assert.equal(find(judged, 'ls-json/growth', 65_536).met, true);
  });

  test('the CPU ratio sits next to the wall ratio, and is null without CPU times', () => {
    const withCpu = compare(
      [
        summarize('ls-json', 1000, '', [run(900, { userMs: 600, sysMs: 60 })]),
        summarize('reference', 1000, '', [run(600, { userMs: 300, sysMs: 30 })]),
      ],
      false,
    );

    assert.equal(find(withCpu, 'ls-json/reference', 1000).value, 1.5);
    assert.equal(find(withCpu, 'ls-json/reference', 1000).cpuRatio, 2);
    assert.equal(find(judged, 'ls-json/reference', 1000).cpuRatio, null);
  });

  test('a figure missing at a size gives no ratio there', () => {
    assert.equal(
      judged.some((comparison) => comparison.id === 'ls-json-no-ttl/floor'),
      false,
    );
  });

  test('a smoke run judges nothing, but still has every ratio', () => {
    const smoke = compare(figures, true);

    assert.equal(smoke.length, judged.length);
    assert.ok(smoke.every((comparison) => comparison.met === null));
    assert.match(comparisonsTable(smoke, true), /not judged \(smoke run\)/);
  });

  test('the table says MISSED for a missed target', () => {
    assert.match(comparisonsTable(judged, false), /MISSED/);
  });

  test('ratios against an extrapolated etcdctl loop say so', () => {
    const anchor = figures.find((candidate) => candidate.id === 'anchor') as FigureResult;
    const withScaled = compare([...figures, extrapolate(anchor, 10_000)], false);

    const scaled = find(withScaled, 'anchor/ls-json', 10_000);
    assert.equal(scaled.note, 'etcdctl loop extrapolated from 1000');
    assert.equal(scaled.value, 200);
  });
});

describe('growthRatio', () => {
  const sizes = [1000, 10_000, 65_536];

  test('is 1 for a cost linear in N, start-up aside', () => {
    const walls = sizes.map((n) => 200 + n * 0.5);
    assert.ok(Math.abs(growthRatio(sizes, walls) - 1) < 1e-9);
  });

  test('is about 7 for a cost quadratic in N', () => {
    const walls = sizes.map((n) => 200 + n * n * 1e-4);
    assert.ok(growthRatio(sizes, walls) > 6.5);
  });
});

describe('meets', () => {
  test('holds each operator to its edge', () => {
    assert.equal(meets(1, { op: '<=', value: 1 }), true);
    assert.equal(meets(40, { op: '>=', value: 40 }), true);
    assert.equal(meets(250, { op: '<', value: 250 }), false);
  });
});

describe('ttlPhases', () => {
  test('is the difference of the runs with and without TTLs, per client and N', () => {
    const withTtls = summarize('ls-json', 1000, '', [
      run(900, { userMs: 500, sysMs: 100, etcdCpuMs: 300, ttlCalls: 950 }),
    ]);
    const without = summarize('ls-json-no-ttl', 1000, '', [
      run(400, { userMs: 300, sysMs: 0, etcdCpuMs: 20 }),
    ]);

    assert.deepEqual(ttlPhases([withTtls, without]), [
      { client: 'flanctl', n: 1000, calls: 950, wallMs: 500, clientCpuMs: 300, etcdCpuMs: 280 },
    ]);
  });

  test('needs both runs', () => {
    assert.deepEqual(ttlPhases([figure('reference', 1000, 100)]), []);
  });
});
