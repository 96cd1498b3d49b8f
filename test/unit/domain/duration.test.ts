// Go-style durations: what flanctl prints for TTLs and reads from flags.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DURATION_FORMS,
  formatDuration,
  formatRelative,
  parseDurationMs,
} from '../../../src/domain/duration.js';

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [74737, '20h45m37s'],
    [50000, '13h53m20s'],
    [80000, '22h13m20s'],
    [85925, '23h52m5s'],
    [86400, '24h0m0s'],
    [3600, '1h0m0s'],
    [3661, '1h1m1s'],
    [1800, '30m0s'],
    [60, '1m0s'],
    [59, '59s'],
    [1, '1s'],
    [0, '0s'],
    [200000, '55h33m20s'],
  ];
  for (const [seconds, expected] of cases) {
    test(`prints ${seconds} s as ${expected}`, () => {
      assert.equal(formatDuration(seconds), expected);
    });
  }

  test('clamps negative input to 0s instead of printing a negative duration', () => {
    assert.equal(formatDuration(-1), '0s');
    assert.equal(formatDuration(-68272), '0s');
  });

  test('drops fractions of a second', () => {
    assert.equal(formatDuration(1.9), '1s');
    assert.equal(formatDuration(59.999), '59s');
  });
});

describe('parseDurationMs', () => {
  const valid: Array<[string, number]> = [
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['2h', 7_200_000],
    ['30m', 1_800_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1h0m0s', 3_600_000],
    ['20h45m37s', 74_737_000],
    ['2m500ms', 120_500],
    ['0s', 0],
    [' 90s ', 90_000],
  ];
  for (const [text, expected] of valid) {
    test(`reads ${JSON.stringify(text)} as ${expected} ms`, () => {
      assert.equal(parseDurationMs(text), expected);
    });
  }

  const invalid = ['', '   ', '5', 'abc', '1d', '-5s', '30 m', 'm', 'h1', '1H', '1.5', '.s'];
  for (const text of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseDurationMs(text), undefined);
    });
  }

  test('reads fractions and every unit of Go, as ETCDCTL_COMMAND_TIMEOUT=1.5s may say', () => {
    assert.equal(parseDurationMs('1.5h'), 5_400_000);
    assert.equal(parseDurationMs('1.5s'), 1500);
    assert.equal(parseDurationMs('.5s'), 500);
    assert.equal(parseDurationMs('1s2h'), 7_201_000);
    assert.equal(parseDurationMs('1500us'), 1.5);
    assert.equal(parseDurationMs('2000000ns'), 2);
  });

  test('names example forms for messages', () => {
    assert.equal(DURATION_FORMS, 'a duration such as 90s, 1.5s, 30m, 2h or 1h30m');
  });
});

describe('formatRelative', () => {
  test('says "in" for a time ahead', () => {
    assert.equal(formatRelative(74737), 'in 20h45m37s');
  });

  test('says "ago" for a time past, without a minus sign (C05)', () => {
    assert.equal(formatRelative(-68272), '18h57m52s ago');
  });

  test('says "in 0s" for now', () => {
    assert.equal(formatRelative(0), 'in 0s');
  });
});
