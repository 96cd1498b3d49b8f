// `<prefix>/config` as flanneld reads it: defaults, capacity and the rules it refuses configs by.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { formatCidr } from '../../../src/domain/cidr.js';
import {
  type AddressPlan,
  type ConfigProblem,
  type NetworkConfig,
  describeBounds,
  misfitReasons,
  parseNetworkConfig,
  planCapacity,
} from '../../../src/domain/network-config.js';
import { type SubnetKey, parseSubnetKeyName } from '../../../src/domain/subnet-key.js';

const NETWORK_REQUIRED = 'Network is required when EnableIPv4 is on (the default)';

function config(text: string): NetworkConfig {
  const parsed = parseNetworkConfig(text);
  assert.deepEqual(parsed.problems, [], `test setup: ${text} should be accepted`);
  assert.ok(parsed.config);
  return parsed.config;
}

function ipv4Plan(text: string): AddressPlan {
  const plan = config(text).ipv4;
  assert.ok(plan, `test setup: ${text} should have an IPv4 plan`);
  return plan;
}

function problems(text: string): ConfigProblem[] {
  return parseNetworkConfig(text).problems;
}

function summary(plan: AddressPlan) {
  const bounds = describeBounds(plan);
  return {
    network: formatCidr(plan.network),
    subnetLen: plan.subnetLen,
    min: bounds.min,
    max: bounds.max,
    capacity: planCapacity(plan),
  };
}

function key(name: string): SubnetKey {
  const parsed = parseSubnetKeyName(name);
  assert.ok(parsed.ok, `test setup: ${name} should parse`);
  return parsed.key;
}

describe('parseNetworkConfig: defaults', () => {
  const cases: Array<[string, ReturnType<typeof summary>]> = [
    [
      '{"Network":"10.5.0.0/16"}',
      { network: '10.5.0.0/16', subnetLen: 24, min: '10.5.1.0', max: '10.5.255.0', capacity: 255n },
    ],
    [
      '{"Network":"10.0.0.0/8"}',
      {
        network: '10.0.0.0/8',
        subnetLen: 24,
        min: '10.0.1.0',
        max: '10.255.255.0',
        capacity: 65535n,
      },
    ],
    [
      '{"Network":"10.5.0.0/22"}',
      { network: '10.5.0.0/22', subnetLen: 24, min: '10.5.1.0', max: '10.5.3.0', capacity: 3n },
    ],
    [
      '{"Network":"10.5.0.0/23"}',
      { network: '10.5.0.0/23', subnetLen: 25, min: '10.5.0.128', max: '10.5.1.128', capacity: 3n },
    ],
    [
      '{"Network":"10.5.0.0/28"}',
      { network: '10.5.0.0/28', subnetLen: 30, min: '10.5.0.4', max: '10.5.0.12', capacity: 3n },
    ],
    [
      '{"Network":"10.5.0.0/16","SubnetLen":21}',
      { network: '10.5.0.0/16', subnetLen: 21, min: '10.5.8.0', max: '10.5.248.0', capacity: 31n },
    ],
    [
      '{"Network":"10.5.0.0/16","SubnetLen":18}',
      { network: '10.5.0.0/16', subnetLen: 18, min: '10.5.64.0', max: '10.5.192.0', capacity: 3n },
    ],
    [
      '{"Network":"10.5.0.0/16","SubnetLen":0}',
      { network: '10.5.0.0/16', subnetLen: 24, min: '10.5.1.0', max: '10.5.255.0', capacity: 255n },
    ],
    [
      '{"Network":"10.5.0.0/16","SubnetLen":26,"SubnetMin":"10.5.10.0","SubnetMax":"10.5.10.192"}',
      { network: '10.5.0.0/16', subnetLen: 26, min: '10.5.10.0', max: '10.5.10.192', capacity: 4n },
    ],
  ];
  for (const [text, expected] of cases) {
    const { subnetLen, min, max } = expected;
    test(`derives /${subnetLen} subnets ${min}..${max} from ${text}`, () => {
      assert.deepEqual(summary(ipv4Plan(text)), expected);
    });
  }

  test('lists which values were defaulted', () => {
    assert.deepEqual(ipv4Plan('{"Network":"10.5.0.0/16"}').defaulted, [
      'SubnetLen',
      'SubnetMin',
      'SubnetMax',
    ]);
    assert.deepEqual(ipv4Plan('{"Network":"10.5.0.0/16","SubnetLen":25}').defaulted, [
      'SubnetMin',
      'SubnetMax',
    ]);
    assert.deepEqual(
      ipv4Plan('{"Network":"10.5.0.0/16","SubnetMin":"10.5.4.0","SubnetMax":"10.5.8.0"}').defaulted,
      ['SubnetLen'],
    );
  });

  test('counts SubnetLen 0 as defaulted, since flanneld treats 0 as unset', () => {
    assert.deepEqual(ipv4Plan('{"Network":"10.5.0.0/16","SubnetLen":0}').defaulted, [
      'SubnetLen',
      'SubnetMin',
      'SubnetMax',
    ]);
  });

  test('uses the network address when Network carries host bits', () => {
    assert.equal(formatCidr(ipv4Plan('{"Network":"10.5.1.7/16"}').network), '10.5.0.0/16');
  });

  test('accepts lowercase field names, as Go decodes them', () => {
    const plan = ipv4Plan('{"network":"10.5.0.0/16","subnetlen":25,"subnetmin":"10.5.1.0"}');
    assert.deepEqual(summary(plan), {
      network: '10.5.0.0/16',
      subnetLen: 25,
      min: '10.5.1.0',
      max: '10.5.255.128',
      capacity: 510n,
    });
  });

  test('keeps the parsed JSON as raw', () => {
    assert.deepEqual(config('{"Network":"10.5.0.0/16","Extra":1}').raw, {
      Network: '10.5.0.0/16',
      Extra: 1,
    });
  });

  test('has no IPv6 plan unless EnableIPv6 is true', () => {
    assert.equal(config('{"Network":"10.5.0.0/16","IPv6Network":"fc00::/48"}').ipv6, undefined);
  });
});

describe('parseNetworkConfig: backend type', () => {
  const cases: Array<[string, string]> = [
    ['{"Network":"10.5.0.0/16"}', 'udp'],
    ['{"Network":"10.5.0.0/16","Backend":{}}', 'udp'],
    ['{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}', 'vxlan'],
    ['{"Network":"10.5.0.0/16","Backend":{"type":"host-gw"}}', 'host-gw'],
    ['{"Network":"10.5.0.0/16","backend":{"Type":"wireguard"}}', 'wireguard'],
    ['{"Network":"10.10.178.0/24","Backend":{"Type":"udp","Port":7890}}', 'udp'],
  ];
  for (const [text, expected] of cases) {
    test(`reads ${expected} from ${text}`, () => {
      assert.equal(config(text).backendType, expected);
    });
  }

  for (const [text, field] of [
    ['{"Network":"10.5.0.0/16","Backend":"vxlan"}', 'Backend'],
    ['{"Network":"10.5.0.0/16","Backend":{"Type":5}}', 'Backend.Type'],
  ]) {
    test(`${text} is refused, as flanneld cannot decode its Backend`, () => {
      const problems = parseNetworkConfig(text).problems;
      assert.deepEqual(
        problems.map((problem) => problem.field),
        [field],
      );
      assert.match(problems[0].message, /flanneld refuses this config/);
    });
  }
});

describe('parseNetworkConfig: IPv6', () => {
  test('plans IPv6 subnets of /64 by default next to the IPv4 plan', () => {
    const parsed = config('{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48"}');
    assert.ok(parsed.ipv4 && parsed.ipv6);
    assert.deepEqual(summary(parsed.ipv6), {
      network: 'fc00::/48',
      subnetLen: 64,
      min: 'fc00:0:0:1::',
      max: 'fc00:0:0:ffff::',
      capacity: 65535n,
    });
  });

  test('plans an IPv6-only network when EnableIPv4 is false', () => {
    const parsed = config('{"EnableIPv4":false,"EnableIPv6":true,"IPv6Network":"fc00::/48"}');
    assert.equal(parsed.ipv4, undefined);
    assert.equal(parsed.ipv6?.subnetLen, 64);
  });

  test('honours an explicit IPv6SubnetLen', () => {
    const text =
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48","IPv6SubnetLen":56}';
    const plan = config(text).ipv6;
    assert.ok(plan);
    assert.deepEqual(summary(plan), {
      network: 'fc00::/48',
      subnetLen: 56,
      min: 'fc00:0:0:100::',
      max: 'fc00:0:0:ff00::',
      capacity: 255n,
    });
  });

  test('splits an IPv6 network longer than /62 into four, as flanneld does', () => {
    const text = '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/64"}';
    const plan = config(text).ipv6;
    assert.ok(plan);
    assert.equal(plan.subnetLen, 66);
    assert.equal(planCapacity(plan), 3n);
  });
});

describe('parseNetworkConfig: rules flanneld refuses a config for', () => {
  const cases: Array<[string, string, ConfigProblem[]]> = [
    [
      'Network missing',
      '{"Backend":{"Type":"vxlan"}}',
      [{ field: 'Network', value: '', message: NETWORK_REQUIRED }],
    ],
    [
      'Network empty',
      '{"Network":""}',
      [{ field: 'Network', value: '', message: NETWORK_REQUIRED }],
    ],
    [
      'Network not a CIDR',
      '{"Network":"10.5.0.0"}',
      [{ field: 'Network', value: '10.5.0.0', message: 'Network "10.5.0.0" is not an IPv4 CIDR' }],
    ],
    [
      'Network of the wrong family',
      '{"Network":"fc00::/48"}',
      [
        {
          field: 'Network',
          value: 'fc00::/48',
          message: 'Network "fc00::/48" is not an IPv4 CIDR',
        },
      ],
    ],
    [
      'Network not a string',
      '{"Network":10}',
      [{ field: 'Network', value: '10', message: 'Network 10 is not an IPv4 CIDR' }],
    ],
    [
      'Network longer than /28',
      '{"Network":"10.5.0.0/29"}',
      [
        {
          field: 'Network',
          value: '10.5.0.0/29',
          message: 'Network 10.5.0.0/29 is too small; flanneld needs a prefix of /28 or shorter',
        },
      ],
    ],
    [
      'SubnetLen 31 (C14 b)',
      '{"Network":"10.5.0.0/16","SubnetLen":31}',
      [
        {
          field: 'SubnetLen',
          value: '31',
          message: 'SubnetLen 31 is too long; flanneld allows at most 30',
        },
      ],
    ],
    [
      'SubnetLen 17 in a /16 (C14 c)',
      '{"Network":"10.5.0.0/16","SubnetLen":17}',
      [
        {
          field: 'SubnetLen',
          value: '17',
          message:
            'SubnetLen 17 leaves fewer than four subnets in 10.5.0.0/16; it must be at least 18',
        },
      ],
    ],
    [
      'SubnetLen as a string',
      '{"Network":"10.5.0.0/16","SubnetLen":"24"}',
      [{ field: 'SubnetLen', value: '"24"', message: 'SubnetLen "24" is not a whole number' }],
    ],
    [
      'SubnetLen fractional',
      '{"Network":"10.5.0.0/16","SubnetLen":24.5}',
      [{ field: 'SubnetLen', value: '24.5', message: 'SubnetLen 24.5 is not a whole number' }],
    ],
    [
      'SubnetMin outside the network (C14 d)',
      '{"Network":"10.10.0.0/16","SubnetMin":"10.11.0.0"}',
      [
        {
          field: 'SubnetMin',
          value: '10.11.0.0',
          message: 'SubnetMin 10.11.0.0 is outside the network 10.10.0.0/16',
        },
      ],
    ],
    [
      'SubnetMax not an address',
      '{"Network":"10.10.0.0/16","SubnetMax":"10.10.0.0/24"}',
      [
        {
          field: 'SubnetMax',
          value: '10.10.0.0/24',
          message: 'SubnetMax "10.10.0.0/24" is not an IPv4 address',
        },
      ],
    ],
    [
      'SubnetMin and SubnetMax off the SubnetLen boundary (C14)',
      '{"Network":"10.10.178.0/24","SubnetLen":26,"SubnetMin":"10.10.178.200",' +
        '"SubnetMax":"10.10.178.253","Backend":{"Type":"udp","Port":7890}}',
      [
        {
          field: 'SubnetMin',
          value: '10.10.178.200',
          message:
            'SubnetMin 10.10.178.200 is not on a /26 boundary ' +
            '(nearest lower boundary 10.10.178.192); flanneld refuses this config',
        },
        {
          field: 'SubnetMax',
          value: '10.10.178.253',
          message:
            'SubnetMax 10.10.178.253 is not on a /26 boundary ' +
            '(nearest lower boundary 10.10.178.192); flanneld refuses this config',
        },
      ],
    ],
    [
      'EnableIPv6 without IPv6Network',
      '{"EnableIPv6":true,"Network":"10.5.0.0/16"}',
      [
        {
          field: 'IPv6Network',
          value: '',
          message: 'IPv6Network is required when EnableIPv6 is true',
        },
      ],
    ],
    [
      'IPv6SubnetLen 127',
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48","IPv6SubnetLen":127}',
      [
        {
          field: 'IPv6SubnetLen',
          value: '127',
          message: 'IPv6SubnetLen 127 is too long; flanneld allows at most 126',
        },
      ],
    ],
    [
      'IPv6SubnetLen leaving fewer than four subnets',
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48","IPv6SubnetLen":49}',
      [
        {
          field: 'IPv6SubnetLen',
          value: '49',
          message:
            'IPv6SubnetLen 49 leaves fewer than four subnets in fc00::/48; it must be at least 50',
        },
      ],
    ],
    [
      'IPv6Network longer than /124',
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/125"}',
      [
        {
          field: 'IPv6Network',
          value: 'fc00::/125',
          message:
            'IPv6Network fc00::/125 is too small; flanneld needs a prefix of /124 or shorter',
        },
      ],
    ],
    [
      'IPv6SubnetMin off the boundary',
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48",' +
        '"IPv6SubnetMin":"fc00:0:0:1::1"}',
      [
        {
          field: 'IPv6SubnetMin',
          value: 'fc00:0:0:1::1',
          message:
            'IPv6SubnetMin fc00:0:0:1::1 is not on a /64 boundary ' +
            '(nearest lower boundary fc00:0:0:1::); flanneld refuses this config',
        },
      ],
    ],
    [
      'both families disabled',
      '{"EnableIPv4":false}',
      [
        {
          field: 'EnableIPv4',
          value: 'false',
          message: 'both EnableIPv4 and EnableIPv6 are false; flanneld needs at least one family',
        },
      ],
    ],
    [
      'EnableIPv6 not a boolean',
      '{"EnableIPv6":"true","Network":"10.5.0.0/16"}',
      [{ field: 'EnableIPv6', value: '"true"', message: 'EnableIPv6 "true" is not true or false' }],
    ],
    [
      'a JSON array',
      '[{"Network":"10.5.0.0/16"}]',
      [
        {
          field: 'config',
          value: '[{"Network":"10.5.0.0/16"}]',
          message: 'config is not a JSON object',
        },
      ],
    ],
  ];
  for (const [what, text, expected] of cases) {
    test(`reports ${what}`, () => {
      assert.deepEqual(problems(text), expected);
    });
  }

  test('reports text that is not JSON, such as backslash-escaped quotes (C15)', () => {
    const text = '{\\"Network\\": \\"10.100.0.0/16\\"}';
    const parsed = parseNetworkConfig(text);
    assert.equal(parsed.config, undefined);
    assert.equal(parsed.problems.length, 1);
    assert.equal(parsed.problems[0].field, 'config');
    assert.equal(parsed.problems[0].value, text);
    assert.match(parsed.problems[0].message, /^not valid JSON \(/);
  });

  test('gives no effective plan when a bound is set but unusable (never a silent default)', () => {
    const parsed = parseNetworkConfig('{"Network":"10.10.0.0/16","SubnetMin":"10.11.0.0"}');
    assert.equal(parsed.problems.length, 1);
    assert.equal(parsed.config?.backendType, 'udp');
    assert.equal(parsed.config?.ipv4, undefined);
  });
});

describe('planCapacity', () => {
  test('counts 255 subnets in 10.5.0.0/16 with the defaults', () => {
    assert.equal(planCapacity(ipv4Plan('{"Network":"10.5.0.0/16"}')), 255n);
  });

  test('counts 31 subnets in a /16 with SubnetLen 21 (C11)', () => {
    assert.equal(planCapacity(ipv4Plan('{"Network":"10.30.0.0/16","SubnetLen":21}')), 31n);
  });

  test('counts 3 usable subnets in 10.5.0.0/22 (C08)', () => {
    assert.equal(planCapacity(ipv4Plan('{"Network":"10.5.0.0/22"}')), 3n);
  });

  test('is 0 when SubnetMin lies above SubnetMax, which flanneld does not check (C11 b)', () => {
    const text = '{"Network":"10.30.0.0/16","SubnetMin":"10.30.2.0","SubnetMax":"10.30.1.0"}';
    const parsed = parseNetworkConfig(text);
    assert.deepEqual(parsed.problems, [
      {
        field: 'SubnetMin',
        value: '10.30.2.0',
        message:
          'SubnetMin 10.30.2.0 is above SubnetMax 10.30.1.0: no subnet can be allocated; ' +
          "flanneld starts, then every node fails with 'out of subnets'",
      },
    ]);
    assert.ok(parsed.config?.ipv4);
    assert.equal(planCapacity(parsed.config.ipv4), 0n);
  });

  test('is 1 when SubnetMin equals SubnetMax', () => {
    const text = '{"Network":"10.30.0.0/16","SubnetMin":"10.30.7.0","SubnetMax":"10.30.7.0"}';
    assert.equal(planCapacity(ipv4Plan(text)), 1n);
  });
});

describe('misfitReasons', () => {
  const c33 = config('{"Network":"10.5.0.0/16","SubnetLen":25,"Backend":{"Type":"vxlan"}}');

  test('is empty for a subnet that fits (10.5.12.0/25)', () => {
    assert.deepEqual(misfitReasons(key('10.5.12.0-25'), c33), []);
  });

  test('names a wrong prefix length (10.5.10.0/24 when SubnetLen is 25)', () => {
    assert.deepEqual(misfitReasons(key('10.5.10.0-24'), c33), [
      '10.5.10.0/24 is /24 but SubnetLen is 25',
    ]);
  });

  test('names a subnet outside the network (10.6.1.0/24 in 10.5.0.0/16)', () => {
    assert.deepEqual(misfitReasons(key('10.6.1.0-24'), c33), [
      '10.6.1.0/24 is outside the network 10.5.0.0/16',
    ]);
  });

  test('names a subnet below SubnetMin (the first block is never handed out)', () => {
    const defaults = config('{"Network":"10.5.0.0/16"}');
    assert.deepEqual(misfitReasons(key('10.5.0.0-24'), defaults), [
      '10.5.0.0/24 is outside SubnetMin..SubnetMax (10.5.1.0..10.5.255.0)',
    ]);
  });

  test('names host bits in a hand-written key', () => {
    const defaults = config('{"Network":"10.5.0.0/16"}');
    assert.deepEqual(misfitReasons(key('10.5.1.1-24'), defaults), [
      '10.5.1.1/24 has host bits set (not a network address)',
    ]);
  });

  test('lists every reason that applies', () => {
    const narrow = config('{"Network":"10.5.0.0/16","SubnetLen":25,"SubnetMax":"10.5.9.0"}');
    assert.deepEqual(misfitReasons(key('10.5.10.0-24'), narrow), [
      '10.5.10.0/24 is /24 but SubnetLen is 25',
      '10.5.10.0/24 is outside SubnetMin..SubnetMax (10.5.0.128..10.5.9.0)',
    ]);
  });

  describe('in an IPv6-enabled network (C09)', () => {
    const dual = config(
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48",' +
        '"Backend":{"Type":"vxlan"}}',
    );

    test('accepts a dual-stack key inside both networks', () => {
      assert.deepEqual(misfitReasons(key('10.5.34.0-24&fc00:0:0:22::-64'), dual), []);
    });

    test('names a missing IPv6 half', () => {
      assert.deepEqual(misfitReasons(key('10.5.36.0-24'), dual), [
        'no IPv6 half although the network has IPv6 enabled',
      ]);
    });

    test('names an IPv6 half outside the IPv6 network', () => {
      assert.deepEqual(misfitReasons(key('10.5.34.0-24&fc00:1:0:22::-64'), dual), [
        'fc00:1:0:22::/64 is outside the network fc00::/48',
      ]);
    });
  });

  test('ignores an IPv6 half when the network has IPv6 disabled', () => {
    assert.deepEqual(misfitReasons(key('10.5.34.0-24&fc00:0:0:22::-64'), c33), [
      '10.5.34.0/24 is /24 but SubnetLen is 25',
    ]);
  });
});
