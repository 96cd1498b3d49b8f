// Subnet key names exactly as flanneld writes them, and the forms an operator types.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type Cidr, formatCidr, parseCidr } from '../../../src/domain/cidr.js';
import {
  type SubnetKey,
  type SubnetSelector,
  SELECTOR_FORMS,
  compareSubnetKeys,
  formatSubnetKeyName,
  parseSubnetKeyName,
  parseSubnetSelector,
  selectorMatches,
  subnetText,
} from '../../../src/domain/subnet-key.js';

const SUBNETS_DIR = '/coreos.com/network/subnets/';
const NOT_A_KEY = 'not a flannel subnet key (expected A.B.C.D-LEN or A.B.C.D-LEN&IPV6-LEN)';

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed, `test setup: ${text} should parse`);
  return parsed;
}

function key(name: string): SubnetKey {
  const parsed = parseSubnetKeyName(name);
  assert.ok(parsed.ok, `test setup: ${name} should parse`);
  return parsed.key;
}

function selector(input: string): SubnetSelector {
  const parsed = parseSubnetSelector(input, SUBNETS_DIR);
  assert.ok(parsed.ok, `test setup: ${input} should parse`);
  return parsed.selector;
}

function rejection(input: string): string {
  const parsed = parseSubnetSelector(input, SUBNETS_DIR);
  assert.equal(parsed.ok, false, `${input} should be rejected`);
  return parsed.ok ? '' : parsed.reason;
}

describe('parseSubnetKeyName: keys flanneld writes', () => {
  test('reads an IPv4 key', () => {
    assert.deepEqual(parseSubnetKeyName('10.5.34.0-24'), {
      ok: true,
      key: { name: '10.5.34.0-24', ipv4: cidr('10.5.34.0/24') },
    });
  });

  test('reads a dual-stack key with both halves', () => {
    assert.deepEqual(parseSubnetKeyName('10.5.34.0-24&fc00:0:0:22::-64'), {
      ok: true,
      key: {
        name: '10.5.34.0-24&fc00:0:0:22::-64',
        ipv4: cidr('10.5.34.0/24'),
        ipv6: cidr('fc00:0:0:22::/64'),
      },
    });
  });

  test('keeps the stored name verbatim', () => {
    assert.equal(key('10.5.1.0-24').name, '10.5.1.0-24');
  });

  test('accepts the longest IPv4 subnet flanneld can hand out, /30, and /31', () => {
    assert.equal(key('10.5.0.4-30').ipv4.prefixLength, 30);
    assert.equal(key('10.5.0.4-31').ipv4.prefixLength, 31);
  });
});

describe('parseSubnetKeyName: rejected names', () => {
  const cases: Array<[string, string]> = [
    [
      '10.5.34.0-24&FC00:0:0:22::-64',
      "IPv6 half FC00:0:0:22:: has characters flannel's key pattern rejects " +
        '(uppercase hex or dots); flannel ignores this key',
    ],
    [
      '10.5.35.0-24&fc00:0:0:2A::-64',
      "IPv6 half fc00:0:0:2A:: has characters flannel's key pattern rejects " +
        '(uppercase hex or dots); flannel ignores this key',
    ],
    [
      '10.5.1.0-24&::ffff:10.5.1.0-96',
      "IPv6 half ::ffff:10.5.1.0 has characters flannel's key pattern rejects " +
        '(uppercase hex or dots); flannel ignores this key',
    ],
    ['256.5.1.0-24', 'invalid IPv4 subnet 256.5.1.0/24 in key'],
    ['10.5.300.0-24', 'invalid IPv4 subnet 10.5.300.0/24 in key'],
    ['10.05.1.0-24', 'invalid IPv4 subnet 10.05.1.0/24 in key'],
    ['010.5.1.0-24', 'invalid IPv4 subnet 010.5.1.0/24 in key'],
    ['10.5.1.0-32', 'invalid IPv4 subnet 10.5.1.0/32 in key'],
    ['10.5.1.0-33', 'invalid IPv4 subnet 10.5.1.0/33 in key'],
    ['10.5.1.0-24&fc00::-129', 'invalid IPv6 subnet fc00::/129 in key'],
    ['10.5.1.0-24&fc00:::1-64', 'invalid IPv6 subnet fc00:::1/64 in key'],
    ['10.5.1.0/24', NOT_A_KEY],
    ['10.5.1.0', NOT_A_KEY],
    ['10.5.1.0-', NOT_A_KEY],
    ['10.5.1-24', NOT_A_KEY],
    ['10.5.1.0-24&', NOT_A_KEY],
    ['10.5.1.0-24&fc00::', NOT_A_KEY],
    ['10.5.1.0-24&fc00::-64&x', NOT_A_KEY],
    ['10.5.1.0-24 ', NOT_A_KEY],
    ['config', NOT_A_KEY],
    ['', NOT_A_KEY],
    ['fc00:0:0:22::-64', NOT_A_KEY],
  ];
  for (const [name, reason] of cases) {
    test(`rejects ${JSON.stringify(name)}`, () => {
      assert.deepEqual(parseSubnetKeyName(name), { ok: false, reason });
    });
  }
});

describe('formatSubnetKeyName', () => {
  test('writes the IPv4 form', () => {
    assert.equal(formatSubnetKeyName(cidr('10.5.34.0/24')), '10.5.34.0-24');
  });

  test('writes the dual-stack form with the IPv6 half in lowercase shortest form', () => {
    const ipv6 = cidr('FC00:0000:0000:0022:0000:0000:0000:0000/64');
    assert.equal(formatSubnetKeyName(cidr('10.5.34.0/24'), ipv6), '10.5.34.0-24&fc00:0:0:22::-64');
  });

  const names = [
    '10.5.34.0-24',
    '10.5.9.0-24',
    '10.5.34.0-24&fc00:0:0:22::-64',
    '10.10.178.192-26',
  ];
  for (const name of names) {
    test(`round-trips ${name}`, () => {
      const parsed = key(name);
      assert.equal(formatSubnetKeyName(parsed.ipv4, parsed.ipv6), name);
    });
  }
});

describe('subnetText', () => {
  test('shows the IPv4 subnet as a CIDR', () => {
    assert.equal(subnetText(key('10.5.34.0-24&fc00:0:0:22::-64')), '10.5.34.0/24');
  });
});

describe('compareSubnetKeys', () => {
  test('orders by address, not by string (10.5.9.0 before 10.5.52.0)', () => {
    const names = ['10.5.52.0-24', '10.5.1.0-24', '10.5.9.0-24'];
    const sorted = names
      .map(key)
      .sort(compareSubnetKeys)
      .map((k) => k.name);
    assert.deepEqual(sorted, ['10.5.1.0-24', '10.5.9.0-24', '10.5.52.0-24']);
  });

  test('puts an IPv4-only key before a dual-stack key with the same IPv4 half', () => {
    assert.ok(compareSubnetKeys(key('10.5.34.0-24'), key('10.5.34.0-24&fc00:0:0:22::-64')) < 0);
    assert.ok(compareSubnetKeys(key('10.5.34.0-24&fc00:0:0:22::-64'), key('10.5.34.0-24')) > 0);
  });

  test('orders same-IPv4 dual-stack keys by their IPv6 half', () => {
    const low = key('10.5.34.0-24&fc00:0:0:22::-64');
    const high = key('10.5.34.0-24&fc00:0:0:23::-64');
    assert.ok(compareSubnetKeys(low, high) < 0);
  });

  test('puts the shorter prefix first on the same address', () => {
    assert.ok(compareSubnetKeys(key('10.5.12.0-24'), key('10.5.12.0-25')) < 0);
  });

  test('is a total order: antisymmetric, zero only for equal keys, and sorting is stable', () => {
    const names = [
      '10.5.34.0-24&fc00:0:0:23::-64',
      '10.5.52.0-24',
      '10.5.34.0-24',
      '10.5.12.0-25',
      '10.5.34.0-24&fc00:0:0:22::-64',
      '10.5.9.0-24',
      '10.5.12.0-24',
    ];
    const keys = names.map(key);
    for (const a of keys) {
      for (const b of keys) {
        const forward = Math.sign(compareSubnetKeys(a, b));
        const backward = Math.sign(compareSubnetKeys(b, a));
        assert.equal(forward, -backward || 0, `${a.name} vs ${b.name}`);
        assert.equal(forward === 0, a.name === b.name, `${a.name} vs ${b.name}`);
      }
    }

    const expected = [
      '10.5.9.0-24',
      '10.5.12.0-24',
      '10.5.12.0-25',
      '10.5.34.0-24',
      '10.5.34.0-24&fc00:0:0:22::-64',
      '10.5.34.0-24&fc00:0:0:23::-64',
      '10.5.52.0-24',
    ];
    assert.deepEqual(
      [...keys].sort(compareSubnetKeys).map((k) => k.name),
      expected,
    );
    assert.deepEqual(
      [...keys]
        .reverse()
        .sort(compareSubnetKeys)
        .map((k) => k.name),
      expected,
    );
  });
});

describe('parseSubnetSelector', () => {
  test('reads a CIDR as typed', () => {
    assert.deepEqual(selector('10.5.1.0/24'), {
      kind: 'cidr',
      cidr: cidr('10.5.1.0/24'),
      typed: '10.5.1.0/24',
    });
  });

  test('reads the dash form like the slash form, so it also finds dual-stack keys', () => {
    assert.deepEqual(selector('10.5.1.0-24'), {
      kind: 'cidr',
      cidr: cidr('10.5.1.0/24'),
      typed: '10.5.1.0-24',
    });
  });

  test('normalises a dash form with host bits and says so', () => {
    assert.deepEqual(selector('10.5.1.1-24'), {
      kind: 'cidr',
      cidr: cidr('10.5.1.0/24'),
      typed: '10.5.1.1-24',
      normalisedFrom: '10.5.1.1-24',
    });
  });

  test('reads a dual-stack key name', () => {
    assert.deepEqual(selector('10.5.34.0-24&fc00:0:0:22::-64'), {
      kind: 'key-name',
      name: '10.5.34.0-24&fc00:0:0:22::-64',
    });
  });

  test('reduces a full key under the subnets directory to its name', () => {
    assert.deepEqual(selector('/coreos.com/network/subnets/10.5.1.0-24'), {
      kind: 'key-name',
      name: '10.5.1.0-24',
    });
  });

  test('ignores surrounding whitespace', () => {
    assert.deepEqual(selector('  10.5.34.0-24&fc00:0:0:22::-64\n'), {
      kind: 'key-name',
      name: '10.5.34.0-24&fc00:0:0:22::-64',
    });
  });

  test('normalises the host-address form 10.5.1.1/24 to its network and says so', () => {
    const parsed = selector('10.5.1.1/24');
    assert.deepEqual(parsed, {
      kind: 'cidr',
      cidr: cidr('10.5.1.0/24'),
      typed: '10.5.1.1/24',
      normalisedFrom: '10.5.1.1/24',
    });
  });

  test('never turns 10.5.1.1/24 into a key named 10.5.1.1-24', () => {
    const parsed = selector('10.5.1.1/24');
    assert.notEqual(parsed.kind, 'key-name');
    assert.equal(selectorMatches(parsed, key('10.5.1.0-24')), true);
    assert.equal(parsed.kind === 'cidr' ? formatSubnetKeyName(parsed.cidr) : '', '10.5.1.0-24');
  });

  test('reads a bare IPv4 address as an address selector', () => {
    const parsed = selector('10.5.1.7');
    assert.equal(parsed.kind, 'address');
    assert.deepEqual(parsed.kind === 'address' ? parsed.ip : undefined, {
      family: 4,
      value: cidr('10.5.1.7/32').address,
    });
  });

  test('reads a bare IPv6 address as an address selector', () => {
    assert.equal(selector('fc00:0:0:22::5').kind, 'address');
  });

  test('reads an IPv6 CIDR', () => {
    assert.deepEqual(selector('fc00:0:0:22::/64'), {
      kind: 'cidr',
      cidr: cidr('fc00:0:0:22::/64'),
      typed: 'fc00:0:0:22::/64',
    });
  });

  test('rejects a full key under another prefix, naming both', () => {
    assert.equal(
      rejection('/kube-centos/network/subnets/10.5.1.0-24'),
      'key /kube-centos/network/subnets/10.5.1.0-24 is not under /coreos.com/network/subnets/',
    );
  });

  test('rejects a key under a sibling directory that only shares a name prefix', () => {
    assert.equal(
      rejection('/coreos.com/network/subnetsX/10.5.1.0-24'),
      'key /coreos.com/network/subnetsX/10.5.1.0-24 is not under /coreos.com/network/subnets/',
    );
  });

  test('rejects the subnets directory itself', () => {
    assert.equal(
      rejection('/coreos.com/network/subnets/'),
      '/coreos.com/network/subnets/ is not a key directly under /coreos.com/network/subnets/',
    );
  });

  test('takes a pasted full key exactly, even one flannel would ignore, so it can be shown', () => {
    assert.deepEqual(selector('/coreos.com/network/subnets/10.5.34.0-24&FC00::-64'), {
      kind: 'key-name',
      name: '10.5.34.0-24&FC00::-64',
    });
  });

  test('rejects an empty selector', () => {
    assert.equal(rejection(''), `empty subnet; expected ${SELECTOR_FORMS}`);
    assert.equal(rejection('   '), `empty subnet; expected ${SELECTOR_FORMS}`);
  });

  test('rejects a CIDR that does not parse', () => {
    const expected = `is not a valid CIDR; expected ${SELECTOR_FORMS}`;
    assert.equal(rejection('10.5.1.0/33'), `10.5.1.0/33 ${expected}`);
    assert.equal(rejection('node-1/24'), `node-1/24 ${expected}`);
  });

  test('rejects a dash form that is not a valid key', () => {
    assert.equal(
      rejection('10.5.1.0-33'),
      `10.5.1.0-33 is not a valid CIDR; expected ${SELECTOR_FORMS}`,
    );
    assert.equal(
      rejection('10.5.1.0-33&fc00::-64'),
      '10.5.1.0-33&fc00::-64: invalid IPv4 subnet 10.5.1.0/33 in key',
    );
  });

  test('rejects garbage with the accepted forms', () => {
    assert.equal(rejection('garbage'), `garbage is not ${SELECTOR_FORMS}`);
    assert.equal(rejection('10.5.1'), `10.5.1 is not ${SELECTOR_FORMS}`);
  });

  test('describes the accepted forms', () => {
    assert.equal(
      SELECTOR_FORMS,
      'a subnet such as 10.5.1.0/24 or 10.5.1.0-24, a full key, or an address inside a subnet',
    );
  });
});

describe('selectorMatches', () => {
  const v4 = key('10.5.1.0-24');
  const dual = key('10.5.34.0-24&fc00:0:0:22::-64');

  const cases: Array<[string, SubnetKey, boolean]> = [
    ['10.5.1.0/24', v4, true],
    ['10.5.1.0-24', v4, true],
    ['/coreos.com/network/subnets/10.5.1.0-24', v4, true],
    ['10.5.1.200/24', v4, true],
    ['10.5.1.0/25', v4, false],
    ['10.5.1.0/23', v4, false],
    ['10.5.2.0/24', v4, false],
    ['10.5.1.255', v4, true],
    ['10.5.2.0', v4, false],
    ['10.5.34.0/24', dual, true],
    ['fc00:0:0:22::/64', dual, true],
    ['fc00:0:0:22::1/64', dual, true],
    ['fc00:0:0:23::/64', dual, false],
    ['fc00:0:0:22::/63', dual, false],
    ['fc00:0:0:22::abcd', dual, true],
    ['10.5.34.9', dual, true],
    ['10.5.34.0-24&fc00:0:0:22::-64', dual, true],
    ['fc00:0:0:22::/64', v4, false],
    ['10.5.34.0-24', dual, true],
    ['10.5.1.0/24', key('10.5.1.1-24'), false],
    ['/coreos.com/network/subnets/10.5.1.1-24', key('10.5.1.1-24'), true],
  ];
  for (const [input, subnetKey, expected] of cases) {
    test(`${input} ${expected ? 'matches' : 'does not match'} ${subnetKey.name}`, () => {
      assert.equal(selectorMatches(selector(input), subnetKey), expected);
    });
  }

  test('formats what a matched CIDR selector names', () => {
    const parsed = selector('fc00:0:0:22::/64');
    assert.equal(parsed.kind === 'cidr' ? formatCidr(parsed.cidr) : '', 'fc00:0:0:22::/64');
  });
});
