// Where the keys sit in a plan as flanneld's allocator sees it: runs of candidates, totals, free
// ranges as the fewest CIDR blocks, and the cells of the map.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  type Holder,
  type Holding,
  MAP_CELL_LIMIT,
  type MapCell,
  countRangeBlocks,
  familyUsage,
  freeBlocks,
  holdingsOf,
  layoutPlan,
  mapRows,
  rangeBlocks,
  usageTotals,
} from '../../../src/domain/address-usage.js';
import {
  type Cidr,
  type IpFamily,
  formatCidr,
  parseCidr,
  parseIp,
} from '../../../src/domain/cidr.js';
import { type AddressPlan, parseNetworkConfig } from '../../../src/domain/network-config.js';
import { interpret } from '../support/leases.js';

function plan(text: string, family: IpFamily = 4): AddressPlan {
  const parsed = parseNetworkConfig(text);
  const found = family === 4 ? parsed.config?.ipv4 : parsed.config?.ipv6;
  assert.ok(found, `test setup: ${text} should have an IPv${family} plan`);
  return found;
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed, `test setup: ${text} should parse`);
  return parsed;
}

function address(text: string): bigint {
  const parsed = parseIp(text);
  assert.ok(parsed, `test setup: ${text} should parse`);
  return parsed.value;
}

function held(text: string, holder: Holder = 'lease'): Holding {
  return { subnet: cidr(text), holder };
}

/** Runs as `first-last state`, indexes counted from SubnetMin. */
function runsOf(layoutPlanText: AddressPlan, holdings: Holding[]): string[] {
  return layoutPlan(layoutPlanText, holdings).runs.map(
    (run) => `${run.first}-${run.last} ${run.state}`,
  );
}

function blocksText(family: IpFamily, first: string, last: string): string[] {
  return [...rangeBlocks(family, address(first), address(last))].map(formatCidr);
}

const CELL_CHAR: Record<MapCell, string> = {
  free: '.',
  lease: 'L',
  reservation: 'R',
  'dead-lease': 'X',
  blocked: '#',
  outside: '-',
};

function mapText(layoutPlanText: AddressPlan, holdings: Holding[], cellsPerRow: number): string[] {
  return mapRows(layoutPlan(layoutPlanText, holdings), cellsPerRow).map(
    (row) => `${formatCidr(row.first)} ${row.cells.map((cell) => CELL_CHAR[cell]).join('')}`,
  );
}

const NET_10_5 = '{"Network":"10.5.0.0/16"}';
const NET_C08 = '{"Network":"10.5.0.0/22"}';
const NET_C33 = '{"Network":"10.5.0.0/16","SubnetLen":25}';
const DUAL = '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48"}';

describe('rangeBlocks: the fewest aligned blocks covering a range', () => {
  const cases: Array<[IpFamily, string, string, string[]]> = [
    [4, '10.5.1.0', '10.5.1.255', ['10.5.1.0/24']],
    [
      4,
      '10.5.1.0',
      '10.5.255.255',
      [
        '10.5.1.0/24',
        '10.5.2.0/23',
        '10.5.4.0/22',
        '10.5.8.0/21',
        '10.5.16.0/20',
        '10.5.32.0/19',
        '10.5.64.0/18',
        '10.5.128.0/17',
      ],
    ],
    [4, '10.5.3.0', '10.5.12.255', ['10.5.3.0/24', '10.5.4.0/22', '10.5.8.0/22', '10.5.12.0/24']],
    [4, '0.0.0.0', '255.255.255.255', ['0.0.0.0/0']],
    [4, '255.255.255.255', '255.255.255.255', ['255.255.255.255/32']],
    [4, '10.0.0.1', '10.0.0.6', ['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']],
    [
      6,
      'fc00:0:0:1::',
      'fc00:0:0:ffff:ffff:ffff:ffff:ffff',
      [
        'fc00:0:0:1::/64',
        'fc00:0:0:2::/63',
        'fc00:0:0:4::/62',
        'fc00:0:0:8::/61',
        'fc00:0:0:10::/60',
        'fc00:0:0:20::/59',
        'fc00:0:0:40::/58',
        'fc00:0:0:80::/57',
        'fc00:0:0:100::/56',
        'fc00:0:0:200::/55',
        'fc00:0:0:400::/54',
        'fc00:0:0:800::/53',
        'fc00:0:0:1000::/52',
        'fc00:0:0:2000::/51',
        'fc00:0:0:4000::/50',
        'fc00:0:0:8000::/49',
      ],
    ],
    [6, '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', ['::/0']],
  ];

  for (const [family, first, last, expected] of cases) {
    test(`${first} - ${last}`, () => {
      assert.deepEqual(blocksText(family, first, last), expected);
    });
  }

  test('an empty range (first after last) has no blocks', () => {
    assert.deepEqual(blocksText(4, '10.5.2.0', '10.5.1.255'), []);
    assert.equal(countRangeBlocks(address('10.5.2.0'), address('10.5.1.255')), 0n);
  });

  test('every range inside 0..127: exact cover, aligned, fewest blocks, counted right', () => {
    for (let first = 0n; first < 128n; first++) {
      for (let last = first; last < 128n; last++) {
        const blocks = [...rangeBlocks(4, first, last)];
        let next = first;
        for (const block of blocks) {
          const size = 1n << BigInt(32 - block.prefixLength);
          assert.equal(block.address, next, `gap or overlap in ${first}-${last}`);
          assert.equal(block.address % size, 0n, `unaligned block in ${first}-${last}`);
          next += size;
        }
        assert.equal(next, last + 1n, `${first}-${last} not covered exactly`);
        assert.equal(BigInt(blocks.length), countRangeBlocks(first, last), `${first}-${last}`);
        assert.equal(blocks.length, fewestBlocks(first, last), `${first}-${last} not minimal`);
      }
    }
  });

  test('countRangeBlocks agrees on ranges too wide to list', () => {
    const first = address('fc00:0:0:1::');
    const last = address('fcff:ffff:ffff:fffe:ffff:ffff:ffff:ffff');
    assert.equal(countRangeBlocks(first, last), BigInt([...rangeBlocks(6, first, last)].length));
  });
});

// The fewest aligned blocks by dynamic programming over every split: slow, obviously right.
function fewestBlocks(first: bigint, last: bigint): number {
  const best = new Map<bigint, number>([[last + 1n, 0]]);
  for (let start = last; start >= first; start--) {
    let fewest = Number.POSITIVE_INFINITY;
    for (let size = 1n; start + size - 1n <= last; size *= 2n) {
      if (start % size !== 0n) break;
      fewest = Math.min(fewest, 1 + (best.get(start + size) as number));
    }
    best.set(start, fewest);
  }

  return best.get(first) as number;
}

describe('layoutPlan: runs of candidates', () => {
  test('an empty network is one free run from SubnetMin to SubnetMax', () => {
    assert.deepEqual(runsOf(plan(NET_10_5), []), ['0-254 free']);
  });

  test('leases and reservations hold their own candidate; neighbours merge into runs', () => {
    const holdings = [
      held('10.5.1.0/24'),
      held('10.5.2.0/24'),
      held('10.5.3.0/24', 'reservation'),
      held('10.5.10.0/24', 'dead-lease'),
      held('10.5.255.0/24'),
    ];

    assert.deepEqual(runsOf(plan(NET_10_5), holdings), [
      '0-1 lease',
      '2-2 reservation',
      '3-8 free',
      '9-9 dead-lease',
      '10-253 free',
      '254-254 lease',
    ]);
  });

  test('two keys on one subnet: a reservation wins over a lease, a lease over a dead one', () => {
    const holdings = [
      held('10.5.1.0/24', 'lease'),
      held('10.5.1.0/24', 'reservation'),
      held('10.5.2.0/24', 'dead-lease'),
      held('10.5.2.0/24', 'lease'),
      held('10.5.3.0/24', 'lease'),
      held('10.5.3.0/24', 'dead-lease'),
    ];

    assert.deepEqual(runsOf(plan(NET_10_5), holdings), [
      '0-0 reservation',
      '1-2 lease',
      '3-254 free',
    ]);
  });

  test('C33: /24 keys under SubnetLen 25 block the two /25s they overlap; outside keys do not', () => {
    const holdings = [
      held('10.5.10.0/24'),
      held('10.5.11.0/24', 'reservation'),
      held('10.6.1.0/24', 'reservation'),
      held('10.5.12.0/25'),
    ];
    const layout = layoutPlan(plan(NET_C33), holdings);

    // Candidates start at 10.5.0.128/25 (index 0); 10.5.10.0/25 is index 19.
    assert.deepEqual(
      layout.runs.map((run) => `${run.first}-${run.last} ${run.state}`),
      ['0-18 free', '19-22 blocked', '23-23 lease', '24-510 free'],
    );
    assert.equal(layout.outsideRange, 3);
    assert.equal(layout.withoutSubnet, 0);
  });

  test('a key with host bits blocks the candidate it lies in (flannel masks before comparing)', () => {
    const layout = layoutPlan(plan(NET_10_5), [held('10.5.7.9/24')]);

    assert.deepEqual(
      layout.runs.map((run) => `${run.first}-${run.last} ${run.state}`),
      ['0-5 free', '6-6 blocked', '7-254 free'],
    );
    assert.equal(layout.outsideRange, 1);
  });

  test('a longer key inside a candidate blocks that candidate', () => {
    assert.deepEqual(runsOf(plan(NET_10_5), [held('10.5.4.128/26')]), [
      '0-2 free',
      '3-3 blocked',
      '4-254 free',
    ]);
  });

  test('a key wider than the network blocks every candidate', () => {
    const layout = layoutPlan(plan(NET_10_5), [held('10.0.0.0/8')]);

    assert.deepEqual(
      layout.runs.map((run) => `${run.first}-${run.last} ${run.state}`),
      ['0-254 blocked'],
    );
    assert.equal(usageTotals(layout).free, 0n);
  });

  test('fitting keys inside a blocked span keep their own state', () => {
    const holdings = [held('10.5.0.0/20'), held('10.5.3.0/24', 'reservation'), held('10.5.1.0/24')];

    assert.deepEqual(runsOf(plan(NET_10_5), holdings), [
      '0-0 lease',
      '1-1 blocked',
      '2-2 reservation',
      '3-14 blocked',
      '15-254 free',
    ]);
  });

  test('overlapping and adjacent blocking keys merge into one blocked run', () => {
    const holdings = [held('10.5.16.0/20'), held('10.5.20.0/22'), held('10.5.32.0/20')];

    assert.deepEqual(runsOf(plan(NET_10_5), holdings), [
      '0-14 free',
      '15-46 blocked',
      '47-254 free',
    ]);
  });

  test('keys outside the network, or outside SubnetMin..SubnetMax, block nothing', () => {
    const layout = layoutPlan(plan(NET_10_5), [
      held('10.6.1.0/24'),
      held('10.5.0.0/24'),
      held('192.0.2.0/24', 'reservation'),
    ]);

    assert.deepEqual(
      layout.runs.map((run) => `${run.first}-${run.last} ${run.state}`),
      ['0-254 free'],
    );
    assert.equal(layout.outsideRange, 3);
  });

  test('a key blocking the edge of a narrowed range is clipped to it', () => {
    const narrowed = plan(
      '{"Network":"10.5.0.0/16","SubnetMin":"10.5.10.0","SubnetMax":"10.5.19.0"}',
    );

    // 10.5.0.0/20 blocks indexes 0-5 (10.5.10-15), 10.5.16.0/22 blocks 6-9: one run.
    assert.deepEqual(runsOf(narrowed, [held('10.5.0.0/20'), held('10.5.16.0/22')]), [
      '0-9 blocked',
    ]);
    assert.deepEqual(runsOf(narrowed, [held('10.5.18.0/23')]), ['0-7 free', '8-9 blocked']);
    assert.deepEqual(runsOf(narrowed, [held('10.5.20.0/22'), held('10.5.8.0/23')]), ['0-9 free']);
  });

  test('a key without a half in the family is counted apart and holds nothing', () => {
    const ipv6 = plan(DUAL, 6);
    const layout = layoutPlan(ipv6, [
      { subnet: undefined, holder: 'lease' },
      held('fc00:0:0:1::/64', 'reservation'),
    ]);

    assert.equal(layout.withoutSubnet, 1);
    assert.equal(layout.outsideRange, 0);
    assert.deepEqual(
      layout.runs.map((run) => `${run.first}-${run.last} ${run.state}`),
      ['0-0 reservation', '1-65534 free'],
    );
  });

  test('a key of the other family never blocks', () => {
    const layout = layoutPlan(plan(NET_10_5), [held('fc00::/8')]);

    assert.equal(layout.outsideRange, 1);
    assert.deepEqual(
      layout.runs.map((run) => `${run.first}-${run.last} ${run.state}`),
      ['0-254 free'],
    );
  });

  test('C11 b: SubnetMin above SubnetMax leaves no candidates; keys are still counted', () => {
    const text =
      '{"Network":"10.30.0.0/16","SubnetLen":24,"SubnetMin":"10.30.2.0","SubnetMax":"10.30.1.0"}';
    const layout = layoutPlan(plan(text), [held('10.30.1.0/24'), held('10.30.0.0/16')]);

    assert.equal(layout.capacity, 0n);
    assert.deepEqual(layout.runs, []);
    assert.equal(layout.outsideRange, 2);
    assert.deepEqual(usageTotals(layout), {
      capacity: 0n,
      used: 0n,
      reserved: 0n,
      deadLeases: 0n,
      blocked: 0n,
      free: 0n,
      percentUsed: undefined,
    });
    assert.deepEqual(freeBlocks(layout, 10), { blocks: [], total: 0n });
    assert.deepEqual(mapRows(layout, 64), []);
  });
});

describe('usageTotals', () => {
  test('C08: 10.5.0.0/22 has 3 candidates; two leases and a reservation leave none free', () => {
    const layout = layoutPlan(plan(NET_C08), [
      held('10.5.1.0/24'),
      held('10.5.2.0/24'),
      held('10.5.3.0/24', 'reservation'),
    ]);

    assert.deepEqual(usageTotals(layout), {
      capacity: 3n,
      used: 3n,
      reserved: 1n,
      deadLeases: 0n,
      blocked: 0n,
      free: 0n,
      percentUsed: 100,
    });
  });

  test('used counts leases, reservations and dead leases; blocked stays apart', () => {
    const layout = layoutPlan(plan(NET_10_5), [
      held('10.5.1.0/24'),
      held('10.5.2.0/24', 'reservation'),
      held('10.5.3.0/24', 'dead-lease'),
      held('10.5.8.0/22'),
    ]);

    assert.deepEqual(usageTotals(layout), {
      capacity: 255n,
      used: 3n,
      reserved: 1n,
      deadLeases: 1n,
      blocked: 4n,
      free: 248n,
      percentUsed: 2.7,
    });
  });

  test('percentUsed rounds down to one decimal, so only a full plan shows 100', () => {
    const cases: Array<[number, number]> = [
      [0, 0],
      [1, 0.3],
      [85, 33.3],
      [170, 66.6],
      [204, 80],
      [254, 99.6],
      [255, 100],
    ];
    for (const [used, percent] of cases) {
      const holdings = Array.from({ length: used }, (_, index) => held(`10.5.${index + 1}.0/24`));
      assert.equal(
        usageTotals(layoutPlan(plan(NET_10_5), holdings)).percentUsed,
        percent,
        `${used}`,
      );
    }
  });

  test('an IPv6 plan beyond 2^53 candidates is counted exactly', () => {
    const huge = plan('{"EnableIPv6":true,"EnableIPv4":false,"IPv6Network":"fc00::/8"}', 6);
    const totals = usageTotals(layoutPlan(huge, [held('fc00:0:0:1::/64')]));

    assert.equal(totals.capacity, (1n << 56n) - 1n);
    assert.equal(totals.free, (1n << 56n) - 2n);
    assert.equal(totals.used, 1n);
    assert.equal(totals.percentUsed, 0);
  });
});

describe('freeBlocks', () => {
  test('a /16 with some keys: the free subnets as the fewest blocks, in address order', () => {
    const layout = layoutPlan(plan(NET_10_5), [
      held('10.5.1.0/24'),
      held('10.5.2.0/24'),
      held('10.5.3.0/24', 'reservation'),
      held('10.5.7.0/24'),
      held('10.5.128.0/24', 'reservation'),
      held('10.5.255.0/24'),
    ]);

    const free = freeBlocks(layout, 100);
    assert.deepEqual(free.blocks.map(formatCidr), [
      '10.5.4.0/23',
      '10.5.6.0/24',
      '10.5.8.0/21',
      '10.5.16.0/20',
      '10.5.32.0/19',
      '10.5.64.0/18',
      '10.5.129.0/24',
      '10.5.130.0/23',
      '10.5.132.0/22',
      '10.5.136.0/21',
      '10.5.144.0/20',
      '10.5.160.0/19',
      '10.5.192.0/19',
      '10.5.224.0/20',
      '10.5.240.0/21',
      '10.5.248.0/22',
      '10.5.252.0/23',
      '10.5.254.0/24',
    ]);
    assert.equal(free.total, 18n);
  });

  test('blocked and dead subnets are not free', () => {
    const layout = layoutPlan(plan(NET_C08), [
      held('10.5.2.0/25'),
      held('10.5.3.0/24', 'dead-lease'),
    ]);

    assert.deepEqual(freeBlocks(layout, 10).blocks.map(formatCidr), ['10.5.1.0/24']);
  });

  test('the limit keeps the first blocks and the total counts them all', () => {
    const holdings = Array.from({ length: 50 }, (_, index) => held(`10.5.${index * 4 + 2}.0/24`));
    const layout = layoutPlan(plan(NET_10_5), holdings);
    const free = freeBlocks(layout, 3);
    const all = freeBlocks(layout, 1000);

    assert.deepEqual(free.blocks.map(formatCidr), ['10.5.1.0/24', '10.5.3.0/24', '10.5.4.0/23']);
    assert.deepEqual(free.blocks, all.blocks.slice(0, 3));
    assert.equal(free.total, all.total);
    assert.equal(all.total, BigInt(all.blocks.length));
    assert.ok(all.total > 100n, `total ${all.total}`);
  });

  test('an IPv6 /48 split in /64s with the first candidates taken', () => {
    const layout = layoutPlan(plan(DUAL, 6), [
      held('fc00:0:0:1::/64'),
      held('fc00:0:0:2::/64', 'reservation'),
      held('fc00:0:0:3::/64'),
    ]);
    const free = freeBlocks(layout, 100);

    assert.deepEqual(free.blocks.map(formatCidr), [
      'fc00:0:0:4::/62',
      'fc00:0:0:8::/61',
      'fc00:0:0:10::/60',
      'fc00:0:0:20::/59',
      'fc00:0:0:40::/58',
      'fc00:0:0:80::/57',
      'fc00:0:0:100::/56',
      'fc00:0:0:200::/55',
      'fc00:0:0:400::/54',
      'fc00:0:0:800::/53',
      'fc00:0:0:1000::/52',
      'fc00:0:0:2000::/51',
      'fc00:0:0:4000::/50',
      'fc00:0:0:8000::/49',
    ]);
    assert.equal(free.total, 14n);
  });

  test('an enormous IPv6 plan with scattered keys: a few blocks listed, all counted', () => {
    const huge = plan('{"EnableIPv6":true,"EnableIPv4":false,"IPv6Network":"fc00::/16"}', 6);
    const holdings = Array.from({ length: 1000 }, (_, index) =>
      held(`fc00:${(index * 37 + 1).toString(16)}:${((index * 911) % 0xffff).toString(16)}:7::/64`),
    );
    const free = freeBlocks(layoutPlan(huge, holdings), 5);

    assert.equal(free.blocks.length, 5);
    assert.ok(free.total > 1000n, `total ${free.total}`);
    assert.equal(formatCidr(free.blocks[0]), 'fc00:0:0:1::/64');
  });
});

describe('mapRows', () => {
  test('C08: one row from the network start; the first block is not allocatable', () => {
    const holdings = [held('10.5.1.0/24'), held('10.5.2.0/24'), held('10.5.3.0/24', 'reservation')];

    assert.deepEqual(mapText(plan(NET_C08), holdings, 64), ['10.5.0.0/24 -LLR']);
  });

  test('rows are aligned on the network and labelled with their first subnet', () => {
    const holdings = [
      held('10.5.1.0/24'),
      held('10.5.3.0/24', 'reservation'),
      held('10.5.5.0/24', 'dead-lease'),
      held('10.5.8.0/23'),
    ];

    assert.deepEqual(mapText(plan(NET_C08.replace('/22', '/20')), holdings, 8), [
      '10.5.0.0/24 -L.R.X..',
      '10.5.8.0/24 ##......',
    ]);
  });

  test('a /16 in /24s: four rows of 64 cells, 255 candidates', () => {
    const rows = mapRows(layoutPlan(plan(NET_10_5), []), 64);

    assert.deepEqual(
      rows.map((row) => formatCidr(row.first)),
      ['10.5.0.0/24', '10.5.64.0/24', '10.5.128.0/24', '10.5.192.0/24'],
    );
    assert.ok(rows.every((row) => row.cells.length === 64));
    assert.equal(rows[0].cells[0], 'outside');
    assert.equal(rows.flatMap((row) => row.cells).filter((cell) => cell === 'free').length, 255);
  });

  test('a narrowed range: rows without candidates are left out, partial rows padded', () => {
    const narrowed = plan(
      '{"Network":"10.5.0.0/16","SubnetMin":"10.5.70.0","SubnetMax":"10.5.73.0"}',
    );

    assert.deepEqual(mapText(narrowed, [held('10.5.71.0/24')], 4), [
      '10.5.68.0/24 --.L',
      '10.5.72.0/24 ..--',
    ]);
  });

  test('an IPv6 plan at the limit draws every candidate', () => {
    const layout = layoutPlan(plan(DUAL, 6), [held('fc00:0:0:ffff::/64')]);
    const rows = mapRows(layout, 64);

    assert.equal(rows.length, 1024);
    const cells = rows.flatMap((row) => row.cells);
    assert.equal(cells.length, 65_536);
    assert.equal(cells[65_535], 'lease');
    assert.equal(formatCidr(rows[1023].first), 'fc00:0:0:ffc0::/64');
  });

  test('a plan above the limit is refused', () => {
    const big = plan('{"EnableIPv6":true,"EnableIPv4":false,"IPv6Network":"fc00::/47"}', 6);
    const layout = layoutPlan(big, []);

    assert.ok(layout.capacity > BigInt(MAP_CELL_LIMIT));
    assert.throws(() => mapRows(layout, 64), RangeError);
  });
});

describe('holdingsOf and familyUsage', () => {
  const { entries } = interpret([
    { name: '10.5.1.0-24&fc00:0:0:1::-64', leaseId: '694d854330fc5101', ttl: 80000 },
    { name: '10.5.2.0-24', leaseId: null },
    { name: '10.5.3.0-24&fc00:0:0:3::-64', leaseId: '694d854330fc5103', ttl: 0 },
    { name: '10.5.4.0-24', leaseId: '694d854330fc5104' },
  ]);

  test('without lease statuses every lease is a lease', () => {
    assert.deepEqual(
      holdingsOf(entries, 4, false).map((holding) => holding.holder),
      ['lease', 'reservation', 'lease', 'lease'],
    );
  });

  test('with lease statuses, expired and missing leases are dead', () => {
    assert.deepEqual(
      holdingsOf(entries, 4, true).map((holding) => holding.holder),
      ['lease', 'reservation', 'dead-lease', 'dead-lease'],
    );
  });

  test('each family takes its own half of the key', () => {
    assert.deepEqual(
      holdingsOf(entries, 6, true).map((holding) =>
        holding.subnet ? formatCidr(holding.subnet) : null,
      ),
      ['fc00:0:0:1::/64', null, 'fc00:0:0:3::/64', null],
    );
  });

  test('familyUsage bundles totals, free blocks and, when asked, the map', () => {
    const ipv6 = plan(DUAL, 6);
    const usage = familyUsage(ipv6, holdingsOf(entries, 6, true), {
      freeBlockLimit: 2,
      map: false,
    });

    assert.equal(usage.totals.used, 2n);
    assert.equal(usage.totals.deadLeases, 1n);
    assert.equal(usage.layout.withoutSubnet, 2);
    assert.deepEqual(usage.free.blocks.map(formatCidr), ['fc00:0:0:2::/64', 'fc00:0:0:4::/62']);
    assert.equal(usage.map, undefined);

    const mapped = familyUsage(plan(NET_C08), holdingsOf(entries, 4, true), {
      freeBlockLimit: 2,
      map: true,
    });
    assert.equal(mapped.map?.length, 1);
    assert.deepEqual(mapped.map?.[0].cells, ['outside', 'lease', 'reservation', 'dead-lease']);
  });
});
