// `flanctl net usage` run as a subprocess against a private etcd: capacity and free ranges of the
// field cases and of networks seeded here, dual stack, keys outside the range, the map, the JSON
// document, and configs that are missing or unusable. stdout, stderr and the exit code are
// checked apart.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { type CliResult, runCli } from '../helpers/cli.js';
import {
  EXIT_OK,
  EXIT_NOT_FOUND,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  assertExitCode,
  assertFlanctlErrorLine,
  assertOneLineFlanctlError,
  parseJsonDocument,
  stderrLines,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import {
  CONFIG_10_5,
  type SeedEntry,
  leaseValue,
  loadCaseState,
  seedCaseAt,
  seedNetworkAt,
  testPrefix,
} from '../helpers/seed.js';

interface FamilyJson {
  family: string;
  network: string;
  subnetLen: number;
  subnetMin: string;
  subnetMax: string;
  capacity: string;
  used: number;
  reserved: number;
  expiredOrMissing: number | null;
  blocked: string;
  free: string;
  percentUsed: number | null;
  outsideRange: number;
  withoutSubnet: number;
  freeRanges: string[];
  freeRangeCount: number;
  freeRangesTruncated: boolean;
  map: { cellsPerRow: number; legend: Record<string, string>; rows: MapRowJson[] } | null;
}

interface MapRowJson {
  subnet: string;
  cells: string;
}

interface UsageDocument {
  prefix: string;
  revision: number;
  configKey: string;
  configProblems: Array<{ field: string; value: string; message: string }>;
  leaseStatuses: boolean;
  families: FamilyJson[];
  problems: Array<{ key: string; reason: string }>;
}

const DAY = 86400;
const ANSI_ESCAPE = /\u001b\[/;

function lease(name: string, host: string): SeedEntry {
  return { key: name, value: leaseValue(host), ttl: DAY };
}

function reservation(name: string, host: string): SeedEntry {
  return { key: name, value: leaseValue(host), ttl: null };
}

function parseDocument(stdout: string): UsageDocument {
  const document = parseJsonDocument<UsageDocument>(stdout);
  assert.equal(typeof document.prefix, 'string');
  assert.ok(Number.isInteger(document.revision), `revision ${document.revision}`);
  assert.equal(typeof document.configKey, 'string');
  assert.ok(Array.isArray(document.configProblems), 'configProblems is not an array');
  assert.equal(typeof document.leaseStatuses, 'boolean');
  assert.ok(Array.isArray(document.problems), 'problems is not an array');
  for (const family of document.families) {
    assert.ok(['ipv4', 'ipv6'].includes(family.family), family.family);
    for (const name of ['capacity', 'blocked', 'free'] as const) {
      assert.match(family[name], /^\d+$/, `${name} is not a decimal string`);
    }
    for (const name of ['used', 'reserved', 'outsideRange', 'withoutSubnet'] as const) {
      assert.ok(Number.isInteger(family[name]), `${name} ${family[name]}`);
    }
    assert.ok(Array.isArray(family.freeRanges), 'freeRanges is not an array');
    assert.ok(Number.isInteger(family.freeRangeCount), 'freeRangeCount');
    assert.equal(typeof family.freeRangesTruncated, 'boolean');
  }
  return document;
}

function familyOf(document: UsageDocument, family: 'ipv4' | 'ipv6'): FamilyJson {
  const found = document.families.find((candidate) => candidate.family === family);
  const families = document.families.map((candidate) => candidate.family);
  assert.ok(found, `no ${family} in ${JSON.stringify(families)}`);
  return found;
}

/** The counts of one family as the document gives them. */
function counts(family: FamilyJson) {
  return {
    capacity: family.capacity,
    used: family.used,
    reserved: family.reserved,
    blocked: family.blocked,
    free: family.free,
    outsideRange: family.outsideRange,
  };
}

/** `Label: value` lines of the text block that starts with "<family> network:". */
function textFields(stdout: string, family: 'IPv4' | 'IPv6'): Map<string, string> {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${family} network:`));
  assert.ok(start >= 0, `no "${family} network:" line in:\n${stdout}`);

  const fields = new Map([['network', lines[start].slice(`${family} network:`.length).trim()]]);
  for (const line of lines.slice(start + 1)) {
    if (line === '' || line.endsWith('network:')) break;
    const match = /^ {2}([A-Za-z][A-Za-z0-9 ]*):\s+(.*)$/.exec(line);
    if (match) fields.set(match[1], match[2]);
  }
  return fields;
}

/** The lines under "Free ranges:" of one family's block, without their indent. */
function textFreeRanges(stdout: string, family: 'IPv4' | 'IPv6'): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${family} network:`));
  const header = lines.findIndex(
    (line, index) => index > start && line.startsWith('  Free ranges:'),
  );
  assert.ok(header > start, `no free ranges for ${family} in:\n${stdout}`);

  const ranges: string[] = [];
  for (const line of lines.slice(header + 1)) {
    if (!line.startsWith('    ')) break;
    ranges.push(line.trim());
  }
  return ranges;
}

function assertOk(result: CliResult): void {
  assert.equal(result.code, EXIT_OK, `exit code; stderr: ${result.stderr}`);
}

describe('flanctl net usage', () => {
  const etcd = etcdForSuite();

  function netUsage(
    prefix: string,
    extra: string[] = [],
    env: Record<string, string | undefined> = {},
  ) {
    return runCli(['net', 'usage', '--endpoints', etcd.endpoint, '--prefix', prefix, ...extra], {
      env,
    });
  }

  describe('C08: 10.5.0.0/22 has three usable subnets, all taken', () => {
    const prefix = testPrefix('usage', 'c08');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C08'));
    });

    test('text: capacity 3, used 3 with one reservation, free 0; a warning names "out of subnets"', async () => {
      const result = await netUsage(prefix);

      assertOk(result);
      const fields = textFields(result.stdout, 'IPv4');
      assert.equal(fields.get('network'), '10.5.0.0/22');
      assert.equal(fields.get('SubnetLen'), '24');
      assert.equal(fields.get('Range'), '10.5.1.0 - 10.5.3.0');
      assert.equal(fields.get('Capacity'), '3');
      assert.equal(fields.get('Used'), '3 (100%)');
      assert.equal(fields.get('Reserved'), '1');
      assert.equal(fields.get('Free'), '0');
      assert.equal(fields.get('Free ranges'), '0');
      assert.deepEqual(textFreeRanges(result.stdout, 'IPv4'), []);
      assert.deepEqual(stderrLines(result), [
        'flanctl: warning: IPv4 10.5.0.0/22: no free subnet (3 of 3 used): the next node ' +
          'without a lease fails with "out of subnets"',
      ]);
    });

    test('--json: the same counts, no lease statuses without --map', async () => {
      const result = await netUsage(prefix, ['--json']);

      assertOk(result);
      const document = parseDocument(result.stdout);
      assert.equal(document.prefix, prefix);
      assert.equal(document.configKey, `${prefix}/config`);
      assert.equal(document.leaseStatuses, false);
      assert.deepEqual(document.problems, []);
      assert.equal(document.families.length, 1);
      const ipv4 = familyOf(document, 'ipv4');
      assert.deepEqual(counts(ipv4), {
        capacity: '3',
        used: 3,
        reserved: 1,
        blocked: '0',
        free: '0',
        outsideRange: 0,
      });
      assert.equal(ipv4.percentUsed, 100);
      assert.equal(ipv4.expiredOrMissing, null);
      assert.deepEqual(ipv4.freeRanges, []);
      assert.equal(ipv4.map, null);
    });

    test('--map with NO_COLOR: plain characters, a legend, the first block not allocatable', async () => {
      const result = await netUsage(prefix, ['--map'], { NO_COLOR: '1', FORCE_COLOR: '1' });

      assertOk(result);
      assert.doesNotMatch(result.stdout, ANSI_ESCAPE);
      const lines = result.stdout.split('\n');
      assert.ok(
        lines.includes(
          '    . free  L lease  R reservation  X expired or missing lease  # blocked  - not allocatable',
        ),
        result.stdout,
      );
      assert.ok(lines.includes('    10.5.0.0/24  -LLR'), result.stdout);
      assert.equal(
        textFields(result.stdout, 'IPv4').get('Expired'),
        '0 (expired or missing leases, still held)',
      );
    });

    test('--map with colour forced off a terminal: cells are painted', async () => {
      const result = await netUsage(prefix, ['--map'], { NO_COLOR: undefined, FORCE_COLOR: '1' });

      assertOk(result);
      assert.match(result.stdout, ANSI_ESCAPE);
      assert.ok(result.stdout.includes('\u001b[32mLL\u001b[39m'), JSON.stringify(result.stdout));
    });

    test('--map --json: rows of cells, lease statuses read', async () => {
      const result = await netUsage(prefix, ['--map', '--json']);

      assertOk(result);
      const document = parseDocument(result.stdout);
      assert.equal(document.leaseStatuses, true);
      const ipv4 = familyOf(document, 'ipv4');
      assert.equal(ipv4.expiredOrMissing, 0);
      assert.ok(ipv4.map);
      assert.equal(ipv4.map.cellsPerRow, 64);
      assert.deepEqual(ipv4.map.rows, [{ subnet: '10.5.0.0/24', cells: '-LLR' }]);
      assert.equal(ipv4.map.legend.R, 'reservation');
    });
  });

  describe('a /16 with leases and reservations', () => {
    const prefix = testPrefix('usage', 'sixteen');

    before(async () => {
      await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5, [
        lease('10.5.1.0-24', '192.0.2.1'),
        lease('10.5.2.0-24', '192.0.2.2'),
        reservation('10.5.3.0-24', '192.0.2.3'),
        lease('10.5.7.0-24', '192.0.2.7'),
        reservation('10.5.128.0-24', '192.0.2.128'),
        lease('10.5.255.0-24', '192.0.2.255'),
      ]);
    });

    const FREE = [
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
    ];

    test('--json: counts and the exact free CIDR blocks in address order', async () => {
      const result = await netUsage(prefix, ['--json']);

      assertOk(result);
      assert.equal(result.stderr, '');
      const ipv4 = familyOf(parseDocument(result.stdout), 'ipv4');
      assert.deepEqual(counts(ipv4), {
        capacity: '255',
        used: 6,
        reserved: 2,
        blocked: '0',
        free: '249',
        outsideRange: 0,
      });
      assert.equal(ipv4.subnetMin, '10.5.1.0');
      assert.equal(ipv4.subnetMax, '10.5.255.0');
      assert.equal(ipv4.percentUsed, 2.3);
      assert.deepEqual(ipv4.freeRanges, FREE);
      assert.equal(ipv4.freeRangeCount, FREE.length);
      assert.equal(ipv4.freeRangesTruncated, false);
    });

    test('text: the same blocks, one per line', async () => {
      const result = await netUsage(prefix);

      assertOk(result);
      assert.equal(textFields(result.stdout, 'IPv4').get('Used'), '6 (2.3%)');
      assert.equal(textFields(result.stdout, 'IPv4').get('Free ranges'), String(FREE.length));
      assert.deepEqual(textFreeRanges(result.stdout, 'IPv4'), FREE);
    });

    test('--map: four rows of 64 cells, each key where its subnet is', async () => {
      const result = await netUsage(prefix, ['--map', '--json']);

      assertOk(result);
      const rows = familyOf(parseDocument(result.stdout), 'ipv4').map?.rows ?? [];
      assert.deepEqual(
        rows.map((row) => row.subnet),
        ['10.5.0.0/24', '10.5.64.0/24', '10.5.128.0/24', '10.5.192.0/24'],
      );
      assert.equal(rows[0].cells, `-LLR...L${'.'.repeat(56)}`);
      assert.equal(rows[1].cells, '.'.repeat(64));
      assert.equal(rows[2].cells, `R${'.'.repeat(63)}`);
      assert.equal(rows[3].cells, `${'.'.repeat(63)}L`);
    });
  });

  describe('dual stack: IPv4 and IPv6 plans side by side', () => {
    const prefix = testPrefix('usage', 'dual');
    const config =
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}';

    before(async () => {
      await seedNetworkAt(etcd.endpoint, prefix, config, [
        lease('10.5.1.0-24&fc00:0:0:1::-64', '192.0.2.1'),
        reservation('10.5.2.0-24&fc00:0:0:2::-64', '192.0.2.2'),
        lease('10.5.3.0-24&fc00:0:0:3::-64', '192.0.2.3'),
        lease('10.5.4.0-24', '192.0.2.4'),
      ]);
    });

    test('--json: one entry per family, each counted on its own half of the keys', async () => {
      const result = await netUsage(prefix, ['--json']);

      assertOk(result);
      const document = parseDocument(result.stdout);
      assert.deepEqual(
        document.families.map((family) => family.family),
        ['ipv4', 'ipv6'],
      );
      assert.deepEqual(counts(familyOf(document, 'ipv4')), {
        capacity: '255',
        used: 4,
        reserved: 1,
        blocked: '0',
        free: '251',
        outsideRange: 0,
      });

      const ipv6 = familyOf(document, 'ipv6');
      assert.equal(ipv6.network, 'fc00::/48');
      assert.equal(ipv6.subnetLen, 64);
      assert.equal(ipv6.subnetMin, 'fc00:0:0:1::');
      assert.equal(ipv6.subnetMax, 'fc00:0:0:ffff::');
      assert.deepEqual(counts(ipv6), {
        capacity: '65535',
        used: 3,
        reserved: 1,
        blocked: '0',
        free: '65532',
        outsideRange: 0,
      });
      assert.equal(ipv6.withoutSubnet, 1);
      assert.deepEqual(ipv6.freeRanges, [
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
    });

    test('text: an IPv6 block after the IPv4 one', async () => {
      const result = await netUsage(prefix);

      assertOk(result);
      const ipv6 = textFields(result.stdout, 'IPv6');
      assert.equal(ipv6.get('network'), 'fc00::/48');
      assert.equal(ipv6.get('Capacity'), '65535');
      assert.equal(ipv6.get('No IPv6'), '1 key without an IPv6 subnet');
      assert.ok(
        result.stdout.indexOf('IPv4 network:') < result.stdout.indexOf('IPv6 network:'),
        result.stdout,
      );
    });

    test('--family ipv6 --map: only the IPv6 block, 1024 rows of the /48', async () => {
      const result = await netUsage(prefix, ['--family', 'ipv6', '--map', '--json']);

      assertOk(result);
      const document = parseDocument(result.stdout);
      assert.deepEqual(
        document.families.map((family) => family.family),
        ['ipv6'],
      );
      const rows = familyOf(document, 'ipv6').map?.rows ?? [];
      assert.equal(rows.length, 1024);
      assert.equal(rows[0].cells.slice(0, 5), '-LRL.');
    });
  });

  describe('C33: keys that do not fit the config', () => {
    const prefix = testPrefix('usage', 'c33');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C33'));
    });

    test('are counted apart and not as used; the /24s still block the /25s they overlap', async () => {
      const result = await netUsage(prefix, ['--json']);

      assertOk(result);
      const ipv4 = familyOf(parseDocument(result.stdout), 'ipv4');
      assert.deepEqual(counts(ipv4), {
        capacity: '511',
        used: 1,
        reserved: 0,
        blocked: '4',
        free: '506',
        outsideRange: 3,
      });
      assert.ok(!ipv4.freeRanges.includes('10.5.10.0/23'), JSON.stringify(ipv4.freeRanges));
      assert.ok(ipv4.freeRanges.includes('10.5.8.0/23'), JSON.stringify(ipv4.freeRanges));
    });

    test('text: an Outside line with the count', async () => {
      const result = await netUsage(prefix);

      assertOk(result);
      const fields = textFields(result.stdout, 'IPv4');
      assert.equal(fields.get('Outside'), '3 keys outside the allocatable range (not counted)');
      assert.equal(fields.get('Used'), '1');
      assert.equal(fields.get('Blocked'), '4 (overlapped by keys outside the allocatable range)');
    });
  });

  describe('keys flannel cannot decode', () => {
    const prefix = testPrefix('usage', 'undecodable');

    before(async () => {
      await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5, [
        lease('10.5.1.0-24', '192.0.2.1'),
        { key: '10.5.2.0-24', value: 'not json', ttl: null },
        { key: 'bogus', value: leaseValue('192.0.2.9'), ttl: null },
      ]);
    });

    test('block nothing, and are problem lines on stderr with exit 0', async () => {
      const result = await netUsage(prefix, ['--json']);

      assertOk(result);
      const document = parseDocument(result.stdout);
      assert.equal(familyOf(document, 'ipv4').used, 1);
      assert.deepEqual(
        document.problems.map((problem) => problem.key),
        [`${prefix}/subnets/10.5.2.0-24`, `${prefix}/subnets/bogus`],
      );
      const problems = stderrLines(result).filter((line) => line.startsWith('flanctl: problem:'));
      assert.equal(problems.length, 2, result.stderr);
    });
  });

  describe('configs usage cannot be computed from', () => {
    const missing = testPrefix('usage', 'missing');
    const noNetwork = testPrefix('usage', 'no-network');
    const notJson = testPrefix('usage', 'not-json');
    const inverted = testPrefix('usage', 'c11b');

    before(async () => {
      await seedNetworkAt(etcd.endpoint, missing, undefined, [lease('10.5.1.0-24', '192.0.2.1')]);
      await seedNetworkAt(etcd.endpoint, noNetwork, '{"Backend":{"Type":"vxlan"}}');
      await seedNetworkAt(etcd.endpoint, notJson, 'Network: 10.5.0.0/16');
      await seedCaseAt(etcd.endpoint, inverted, loadCaseState('C11', 'etcd-state-b.json'));
    });

    test('no config: exit 4 as for config show, one line naming the key, no stdout', async () => {
      for (const extra of [[], ['--json'], ['--map']]) {
        const result = await netUsage(missing, extra);

        assertOneLineFlanctlError(result, EXIT_NOT_FOUND, `no network config at ${missing}/config`);
      }
    });

    test('no Network: exit 3, one line naming the key and the field', async () => {
      const result = await netUsage(noNetwork, ['--json']);

      assertOneLineFlanctlError(
        result,
        EXIT_PROBLEMS,
        `${noNetwork}/config`,
        'Network is required',
      );
    });

    test('not JSON: exit 3, one line naming the key', async () => {
      const result = await netUsage(notJson);

      assertOneLineFlanctlError(result, EXIT_PROBLEMS, `${notJson}/config`);
    });

    test('C11 b: SubnetMin above SubnetMax is capacity 0, then exit 3 naming both', async () => {
      const result = await netUsage(inverted);

      assertFlanctlErrorLine(
        result,
        EXIT_PROBLEMS,
        `${inverted}/config`,
        'SubnetMin 10.30.2.0 is above SubnetMax 10.30.1.0',
      );
      const fields = textFields(result.stdout, 'IPv4');
      assert.equal(fields.get('Capacity'), '0');
      assert.equal(fields.get('Free'), '0');
      assert.equal(
        fields.get('Range'),
        '10.30.2.0 - 10.30.1.0 (empty: SubnetMin is above SubnetMax)',
      );

      const json = await netUsage(inverted, ['--json']);

      assertExitCode(json, EXIT_PROBLEMS);
      const document = parseDocument(json.stdout);
      assert.equal(document.configProblems[0]?.field, 'SubnetMin');
      assert.equal(familyOf(document, 'ipv4').capacity, '0');
      assert.equal(familyOf(document, 'ipv4').percentUsed, null);
    });
  });

  describe('refused requests', () => {
    const bigIpv6 = testPrefix('usage', 'big-ipv6');
    const ipv4Only = testPrefix('usage', 'ipv4-only');

    before(async () => {
      await seedNetworkAt(
        etcd.endpoint,
        bigIpv6,
        '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/40"}',
        [lease('10.5.1.0-24&fc00:0:0:1::-64', '192.0.2.1')],
      );
      await seedNetworkAt(etcd.endpoint, ipv4Only, CONFIG_10_5);
    });

    test('--map over more than 65536 subnets: exit 2 naming the count and the limit', async () => {
      const result = await netUsage(bigIpv6, ['--map']);

      assertOneLineFlanctlError(result, EXIT_USAGE, '16777215', '65536', '--family ipv4');
    });

    test('the same plan without --map: counted and listed', async () => {
      const result = await netUsage(bigIpv6, ['--json']);

      assertOk(result);
      const ipv6 = familyOf(parseDocument(result.stdout), 'ipv6');
      assert.equal(ipv6.capacity, '16777215');
      assert.equal(ipv6.free, '16777214');
      assert.equal(ipv6.freeRanges[0], 'fc00:0:0:2::/63');
    });

    test('--family ipv4 --map on it draws the IPv4 map', async () => {
      const result = await netUsage(bigIpv6, ['--family', 'ipv4', '--map']);

      assertOk(result);
      assert.ok(result.stdout.includes('    10.5.0.0/24    -L......'), result.stdout);
      assert.ok(!result.stdout.includes('IPv6 network:'), result.stdout);
    });

    test('--family ipv6 where the config has none: exit 2', async () => {
      const result = await netUsage(ipv4Only, ['--family', 'ipv6']);

      assertOneLineFlanctlError(result, EXIT_USAGE, '--family ipv6', `${ipv4Only}/config`);
    });
  });
});
