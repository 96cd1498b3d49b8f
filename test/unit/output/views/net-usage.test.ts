// What `net usage` prints: the text block per family, the map and its legend, the --json
// document, and the warnings for stderr.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Chalk } from 'chalk';

import { type Holding, familyUsage } from '../../../../src/domain/address-usage.js';
import { type IpFamily, parseCidr } from '../../../../src/domain/cidr.js';
import { type AddressPlan, parseNetworkConfig } from '../../../../src/domain/network-config.js';
import {
  JSON_FREE_RANGE_LIMIT,
  type UsageReport,
  usageDocument,
  usageNotes,
  usageText,
} from '../../../../src/output/views/net-usage.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

function plan(text: string, family: IpFamily = 4): AddressPlan {
  const parsed = parseNetworkConfig(text);
  const found = family === 4 ? parsed.config?.ipv4 : parsed.config?.ipv6;
  assert.ok(found, `test setup: ${text} should have an IPv${family} plan`);
  return found;
}

function held(text: string, holder: Holding['holder'] = 'lease'): Holding {
  const subnet = parseCidr(text);
  assert.ok(subnet, `test setup: ${text} should parse`);
  return { subnet, holder };
}

function report(
  families: Array<[AddressPlan, Holding[]]>,
  options: { map?: boolean; limit?: number } = {},
): UsageReport {
  const map = options.map ?? false;
  return {
    prefix: '/coreos.com/network',
    revision: 42,
    configKey: '/coreos.com/network/config',
    configProblems: [],
    leaseStatuses: map,
    families: families.map(([familyPlan, holdings]) =>
      familyUsage(familyPlan, holdings, {
        freeBlockLimit: options.limit ?? JSON_FREE_RANGE_LIMIT,
        map,
      }),
    ),
    problems: [],
  };
}

const C08_PLAN = '{"Network":"10.5.0.0/22","Backend":{"Type":"vxlan"}}';
const C08_KEYS = [held('10.5.1.0/24'), held('10.5.2.0/24'), held('10.5.3.0/24', 'reservation')];
const DUAL = '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48"}';

describe('usageText', () => {
  test('C08 with --map, no colour: every line exact', () => {
    const text = usageText(report([[plan(C08_PLAN), C08_KEYS]], { map: true }), plain);

    assert.equal(
      text,
      [
        'IPv4 network:   10.5.0.0/22',
        '  SubnetLen:    24',
        '  Range:        10.5.1.0 - 10.5.3.0',
        '  Capacity:     3',
        '  Used:         3 (100%)',
        '  Reserved:     1',
        '  Expired:      0 (expired or missing leases, still held)',
        '  Free:         0',
        '  Free ranges:  0',
        '  Map:          one cell per /24, 64 to a row',
        '    . free  L lease  R reservation  X expired or missing lease  # blocked  - not allocatable',
        '    10.5.0.0/24  -LLR',
        '',
      ].join('\n'),
    );
  });

  test('a /16 with keys outside the range: blocked and outside lines, free ranges listed', () => {
    const keys = [
      held('10.5.1.0/24'),
      held('10.5.2.0/24', 'reservation'),
      held('10.5.4.0/23'),
      held('10.6.0.0/24'),
    ];
    const text = usageText(report([[plan('{"Network":"10.5.0.0/16"}'), keys]]), plain);

    assert.equal(
      text,
      [
        'IPv4 network:   10.5.0.0/16',
        '  SubnetLen:    24',
        '  Range:        10.5.1.0 - 10.5.255.0',
        '  Capacity:     255',
        '  Used:         2',
        '  Reserved:     1',
        '  Blocked:      2 (overlapped by keys outside the allocatable range)',
        '  Taken:        4 (1.5%), used and blocked',
        '  Free:         251',
        '  Outside:      2 keys outside the allocatable range (not counted)',
        '  Free ranges:  7',
        '    10.5.3.0/24',
        '    10.5.6.0/23',
        '    10.5.8.0/21',
        '    10.5.16.0/20',
        '    10.5.32.0/19',
        '    10.5.64.0/18',
        '    10.5.128.0/17',
        '',
      ].join('\n'),
    );
  });

  test('dual stack: one block per family, a blank line between, keys without IPv6 counted', () => {
    const ipv4 = [held('10.5.1.0/24'), held('10.5.2.0/24')];
    const ipv6 = [held('fc00:0:0:1::/64'), { subnet: undefined, holder: 'lease' as const }];
    const text = usageText(
      report([
        [plan(DUAL), ipv4],
        [plan(DUAL, 6), ipv6],
      ]),
      plain,
    );
    const blocks = text.split('\n\n');

    assert.equal(blocks.length, 2);
    assert.ok(blocks[0].startsWith('IPv4 network:   10.5.0.0/16\n'), blocks[0]);
    assert.ok(blocks[1].startsWith('IPv6 network:   fc00::/48\n'), blocks[1]);
    assert.ok(blocks[1].includes('\n  Range:        fc00:0:0:1:: - fc00:0:0:ffff::\n'));
    assert.ok(blocks[1].includes('\n  Capacity:     65535\n'));
    assert.ok(blocks[1].includes('\n  No IPv6:      1 key without an IPv6 subnet\n'), blocks[1]);
  });

  test('more free blocks than the text limit: the first 64 and a count of the rest', () => {
    const keys = Array.from({ length: 127 }, (_, index) => held(`10.5.${index * 2 + 2}.0/24`));
    const text = usageText(report([[plan('{"Network":"10.5.0.0/16"}'), keys]]), plain);
    const listed = text.split('\n').filter((line) => /^ {4}10\.5\./.test(line));

    assert.equal(listed.length, 64);
    assert.equal(listed[0], '    10.5.1.0/24');
    assert.ok(text.includes('\n  Free ranges:  128\n'), text);
    assert.ok(text.endsWith('\n    ... and 64 more (--json lists up to 65536)\n'), text);
  });

  test('SubnetMin above SubnetMax: the range is shown as empty', () => {
    const text = usageText(
      report([
        [
          plan(
            '{"Network":"10.30.0.0/16","SubnetLen":24,"SubnetMin":"10.30.2.0","SubnetMax":"10.30.1.0"}',
          ),
          [],
        ],
      ]),
      plain,
    );

    assert.ok(
      text.includes(
        '\n  Range:        10.30.2.0 - 10.30.1.0 (empty: SubnetMin is above SubnetMax)\n',
      ),
    );
    assert.ok(text.includes('\n  Capacity:     0\n  Used:         0\n'), text);
  });

  test('colour: map cells and legend painted, one escape per run; none without colour', () => {
    const keys = [...C08_KEYS.slice(0, 2), held('10.5.3.0/24', 'dead-lease')];
    const coloured = usageText(report([[plan(C08_PLAN), keys]], { map: true }), colour);
    const row = coloured.split('\n').find((line) => line.startsWith('    10.5.0.0/24'));

    assert.equal(row, `    10.5.0.0/24  ${colour.dim('-')}${colour.green('LL')}${colour.red('X')}`);
    assert.ok(coloured.includes(`${colour.cyan('R')} reservation`));

    const uncoloured = usageText(report([[plan(C08_PLAN), keys]], { map: true }), plain);
    assert.ok(!uncoloured.includes('\u001b'), 'escape codes without colour');
  });

  test('map rows are grouped by eight cells', () => {
    const text = usageText(report([[plan('{"Network":"10.5.0.0/16"}'), []]], { map: true }), plain);
    const rows = text.split('\n').filter((line) => /^ {4}10\.5\.\d+\.0\/24 /.test(line));

    assert.deepEqual(
      rows.map((line) => line.slice(0, 20)),
      [
        '    10.5.0.0/24    -',
        '    10.5.64.0/24   .',
        '    10.5.128.0/24  .',
        '    10.5.192.0/24  .',
      ],
    );
    assert.equal(rows[0].slice(19), `-${'.'.repeat(7)}${` ${'.'.repeat(8)}`.repeat(7)}`);
  });
});

describe('usageDocument', () => {
  test('C08 with the map: the documented shape', () => {
    const document = JSON.parse(
      usageDocument(report([[plan(C08_PLAN), C08_KEYS]], { map: true })),
    ) as unknown;

    assert.deepEqual(document, {
      prefix: '/coreos.com/network',
      revision: 42,
      configKey: '/coreos.com/network/config',
      configProblems: [],
      leaseStatuses: true,
      families: [
        {
          family: 'ipv4',
          network: '10.5.0.0/22',
          subnetLen: 24,
          subnetMin: '10.5.1.0',
          subnetMax: '10.5.3.0',
          capacity: '3',
          used: 3,
          reserved: 1,
          expiredOrMissing: 0,
          blocked: '0',
          free: '0',
          percentUsed: 100,
          outsideRange: 0,
          withoutSubnet: 0,
          freeRanges: [],
          freeRangeCount: 0,
          freeRangesTruncated: false,
          map: {
            cellsPerRow: 64,
            legend: {
              '.': 'free',
              L: 'lease',
              R: 'reservation',
              X: 'expired or missing lease',
              '#': 'blocked',
              '-': 'not allocatable',
            },
            rows: [{ subnet: '10.5.0.0/24', cells: '-LLR' }],
          },
        },
      ],
      problems: [],
    });
  });

  test('without the map: no lease statuses, expiredOrMissing and map are null', () => {
    const document = JSON.parse(usageDocument(report([[plan(C08_PLAN), C08_KEYS]]))) as {
      leaseStatuses: boolean;
      families: Array<Record<string, unknown>>;
    };

    assert.equal(document.leaseStatuses, false);
    assert.equal(document.families[0].expiredOrMissing, null);
    assert.equal(document.families[0].map, null);
  });

  test('capacity 0: percentUsed is null', () => {
    const text =
      '{"Network":"10.30.0.0/16","SubnetLen":24,"SubnetMin":"10.30.2.0","SubnetMax":"10.30.1.0"}';
    const document = JSON.parse(usageDocument(report([[plan(text), []]]))) as {
      families: Array<Record<string, unknown>>;
    };

    assert.equal(document.families[0].capacity, '0');
    assert.equal(document.families[0].percentUsed, null);
  });

  test('truncated free ranges say so and keep the full count', () => {
    const keys = Array.from({ length: 127 }, (_, index) => held(`10.5.${index * 2 + 2}.0/24`));
    const document = JSON.parse(
      usageDocument(report([[plan('{"Network":"10.5.0.0/16"}'), keys]], { limit: 10 })),
    ) as {
      families: Array<{
        freeRanges: string[];
        freeRangeCount: number;
        freeRangesTruncated: boolean;
      }>;
    };

    assert.equal(document.families[0].freeRanges.length, 10);
    assert.equal(document.families[0].freeRangeCount, 128);
    assert.equal(document.families[0].freeRangesTruncated, true);
  });

  test('an enormous IPv6 plan: capacity and free as exact decimal strings', () => {
    const huge = plan('{"EnableIPv6":true,"EnableIPv4":false,"IPv6Network":"fc00::/8"}', 6);
    const document = JSON.parse(usageDocument(report([[huge, [held('fc00:0:0:1::/64')]]]))) as {
      families: Array<Record<string, unknown>>;
    };

    assert.equal(document.families[0].capacity, '72057594037927935');
    assert.equal(document.families[0].free, '72057594037927934');
    assert.equal(document.families[0].used, 1);
  });
});

describe('usageNotes', () => {
  test('no free subnet: a warning naming "out of subnets"', () => {
    assert.deepEqual(usageNotes(report([[plan(C08_PLAN), C08_KEYS]])), [
      'warning: IPv4 10.5.0.0/22: no free subnet (3 of 3 used): the next node without a lease ' +
        'fails with "out of subnets"',
    ]);
  });

  test('dual stack: the warning says flanneld needs both families', () => {
    const full = Array.from({ length: 255 }, (_, index) => held(`10.5.${index + 1}.0/24`));
    const notes = usageNotes(
      report([
        [plan(DUAL), full],
        [plan(DUAL, 6), []],
      ]),
    );

    assert.equal(notes.length, 1);
    assert.ok(notes[0].endsWith('(flanneld needs a free subnet in each family)'), notes[0]);
  });

  test('blocked subnets are named in the no-free warning', () => {
    const notes = usageNotes(report([[plan(C08_PLAN), [held('10.5.0.0/22')]]]));

    assert.deepEqual(notes, [
      'warning: IPv4 10.5.0.0/22: no free subnet (0 of 3 used, 3 blocked): the next node ' +
        'without a lease fails with "out of subnets"',
    ]);
  });

  test('above 80% taken: a warning with the share and what is left; at 80% none', () => {
    const keys = (count: number) =>
      Array.from({ length: count }, (_, index) => held(`10.5.${index + 1}.0/24`));
    const sixteen = plan('{"Network":"10.5.0.0/16"}');

    assert.deepEqual(usageNotes(report([[sixteen, keys(205)]])), [
      'warning: IPv4 10.5.0.0/16: 80.3% of 255 subnets taken, 50 free',
    ]);
    assert.deepEqual(usageNotes(report([[sixteen, keys(204)]])), []);
  });

  test('capacity 0 gets no capacity warning (the config error covers it)', () => {
    const text =
      '{"Network":"10.30.0.0/16","SubnetLen":24,"SubnetMin":"10.30.2.0","SubnetMax":"10.30.1.0"}';
    assert.deepEqual(usageNotes(report([[plan(text), []]])), []);
  });

  test('keys flannel skips are problem lines, control characters escaped', () => {
    const withProblems: UsageReport = {
      ...report([[plan('{"Network":"10.5.0.0/16"}'), []]]),
      problems: [
        { key: '/coreos.com/network/subnets/bogus\u001b[2J', part: 'key', reason: 'not a key' },
      ],
    };

    assert.deepEqual(usageNotes(withProblems), [
      'problem: /coreos.com/network/subnets/bogus\\u001b[2J: not a key',
    ]);
  });
});
