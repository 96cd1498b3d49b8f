// Reading JSON the way flanneld's Go decoder does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { goField, isJsonObject, parseJson } from '../../../src/domain/go-json.js';

describe('isJsonObject', () => {
  const cases: Array<[unknown, boolean]> = [
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ['text', false],
    [1, false],
    [undefined, false],
  ];
  for (const [value, expected] of cases) {
    test(`${JSON.stringify(value) ?? 'undefined'} is ${expected ? '' : 'not '}an object`, () => {
      assert.equal(isJsonObject(value), expected);
    });
  }
});

describe('goField', () => {
  test('prefers the exact field name', () => {
    assert.deepEqual(goField({ publicip: 'a', PublicIP: 'b' }, 'PublicIP'), {
      key: 'PublicIP',
      value: 'b',
    });
  });

  test('falls back to a case-insensitive match, as encoding/json does', () => {
    assert.deepEqual(goField({ network: '10.5.0.0/16' }, 'Network'), {
      key: 'network',
      value: '10.5.0.0/16',
    });
    assert.deepEqual(goField({ NETWORK: 'x' }, 'Network'), { key: 'NETWORK', value: 'x' });
  });

  test('reports a present null as a field with value null', () => {
    assert.deepEqual(goField({ PublicIPv6: null }, 'PublicIPv6'), {
      key: 'PublicIPv6',
      value: null,
    });
  });

  test('is undefined when no key matches', () => {
    assert.equal(goField({ Networks: [] }, 'Network'), undefined);
    assert.equal(goField({}, 'Network'), undefined);
  });

  test('does not read inherited properties', () => {
    assert.equal(goField({}, 'toString'), undefined);
  });
});

describe('parseJson', () => {
  test('returns the parsed value', () => {
    assert.deepEqual(parseJson('{"a":[1,null]}'), { ok: true, value: { a: [1, null] } });
  });

  test('explains a syntax error and starts the reason with "not valid JSON"', () => {
    const result = parseJson('{"Network": ');
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.reason, /^not valid JSON \(.+\)$/);
  });
});
