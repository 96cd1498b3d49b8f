// `flanctl leases ls` run as a subprocess against a private etcd: the field cases, the filters
// and orders, and lease ids above 2^53. stdout, stderr and the exit code are checked apart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { before, describe, test } from 'node:test';

import { runCli } from '../helpers/cli.js';
import {
  EXIT_USAGE,
  assertOneLineError,
  durationSeconds,
  stderrLines,
} from '../helpers/cli-output.js';
import { etcdForSuite, freePort } from '../helpers/etcd-server.js';
import {
  type LeaseJson,
  type LeasesDocument,
  assertTtlNear,
  leasesLs,
  parseLeasesDocument,
  parseTable,
  rowFor,
  subnets,
} from '../helpers/leases.js';
import {
  CASE_PREFIX,
  TTL_SLACK_SECONDS,
  caseStatePath,
  loadCaseState,
  seedCaseAt,
  seedState,
  testPrefix,
} from '../helpers/seed.js';

const ISSUE_COLUMNS = ['SUBNET', 'PUBLIC IP', 'BACKEND', 'TYPE', 'TTL', 'EXPIRES'];
const WIDE_ONLY_COLUMNS = ['IPV6 SUBNET', 'VTEP MAC', 'LEASE ID', 'GRANTED TTL', 'MOD REV'];

function parseDocument(stdout: string): LeasesDocument<LeaseJson> {
  return parseLeasesDocument(stdout, { prefixAndRevision: true });
}

function leaseFor(document: LeasesDocument<LeaseJson>, subnet: string): LeaseJson {
  const lease = document.leases.find((candidate) => candidate.subnet === subnet);
  const listed = document.leases.map((candidate) => candidate.subnet);
  assert.ok(lease, `no lease for ${subnet} in ${JSON.stringify(listed)}`);
  return lease;
}

// Two runs a moment apart may straddle a second of the remaining TTL; the widths of the TTL
// columns follow, so durations and column padding are evened out before comparing.
function withoutDurations(stdout: string): string {
  return stdout.replace(/\d+h\d+m\d+s/g, '<duration>').replace(/ {2,}/g, '  ');
}

function caseEnvironment(file: string, standIn: string): Record<string, string> {
  const environment: Record<string, string> = {};
  const text = fs.readFileSync(caseStatePath('C21', file), 'utf8');
  for (const line of text.split(/\r?\n/)) {
    const equals = line.indexOf('=');
    if (equals > 0) {
      // The case's addresses are documentation ranges: no test may ever dial them.
      const value = line.slice(equals + 1).replace(/192\.0\.2\.\d+:\d+/g, standIn);
      environment[line.slice(0, equals)] = value;
    }
  }

  assert.ok(!JSON.stringify(environment).includes('192.0.2.'), 'a case address survived');
  return environment;
}

describe('flanctl leases ls', () => {
  const etcd = etcdForSuite();

  describe('C01: a reservation listed next to leases', () => {
    const prefix = testPrefix('c01');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C01'));
    });

    test('prints 3 rows in numeric subnet order with the reservation TTL as "-"', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /warning|problem|10\.5\.9\.0/i);

      const table = parseTable(result.stdout);
      assert.deepEqual(table.headers.slice(0, ISSUE_COLUMNS.length), ISSUE_COLUMNS);
      assert.deepEqual(subnets(table), ['10.5.1.0/24', '10.5.9.0/24', '10.5.52.0/24']);

      const reserved = rowFor(table, '10.5.1.0/24');
      assert.equal(reserved.TYPE, 'reservation');
      assert.equal(reserved.TTL, '-');
      assert.equal(reserved['PUBLIC IP'], '192.0.2.1');
      assert.equal(reserved.BACKEND, 'vxlan');
      assert.doesNotMatch(reserved.EXPIRES, /expired|ago|^0s$|-1/);

      const leased = rowFor(table, '10.5.52.0/24');
      assert.equal(leased.TYPE, 'lease');
      assertTtlNear(durationSeconds(leased.TTL), 74737, '10.5.52.0/24');
      assert.match(leased.EXPIRES, /^in \d+h\d+m\d+s$/);

      const oldLayout = rowFor(table, '10.5.9.0/24');
      assert.equal(oldLayout.TYPE, 'lease');
      assert.equal(oldLayout['PUBLIC IP'], '192.0.2.9');
      assertTtlNear(durationSeconds(oldLayout.TTL), 50000, '10.5.9.0/24');
    });

    test('--json gives null TTL and lease id to the reservation only', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const document = parseDocument(result.stdout);
      assert.equal(document.prefix, prefix);
      assert.deepEqual(document.problems, []);
      assert.deepEqual(
        document.leases.map((lease) => lease.subnet),
        ['10.5.1.0/24', '10.5.9.0/24', '10.5.52.0/24'],
      );

      const reserved = leaseFor(document, '10.5.1.0/24');
      assert.equal(reserved.type, 'reservation');
      assert.equal(reserved.ttlSeconds, null);
      assert.equal(reserved.leaseId, null);
      assert.equal(reserved.expiresAt, null);
      assert.equal(reserved.key, `${prefix}/subnets/10.5.1.0-24`);

      const leased = leaseFor(document, '10.5.52.0/24');
      assert.equal(leased.type, 'lease');
      assert.equal(leased.leaseId, '694d854330fc5110');
      assertTtlNear(leased.ttlSeconds, 74737, '10.5.52.0/24');
      assert.equal(leased.publicIP, '192.0.2.52');
      assert.equal(leased.backendType, 'vxlan');
      assert.deepEqual(leased.backendData, { VNI: 1, VtepMAC: '00:00:5e:10:00:52' });
      assert.ok(Number.isInteger(leased.createRevision) && Number.isInteger(leased.modRevision));

      const expiresAt = Date.parse(leased.expiresAt ?? '');
      const expected = Date.now() + (leased.ttlSeconds ?? 0) * 1000;
      assert.ok(
        Math.abs(expiresAt - expected) < TTL_SLACK_SECONDS * 1000,
        `expiresAt ${leased.expiresAt} is not about ${leased.ttlSeconds}s from now`,
      );

      const oldLayout = leaseFor(document, '10.5.9.0/24');
      assert.equal(oldLayout.leaseId, '694d854330fc5111');
      assert.equal(oldLayout.publicIPv6, null);
      assertTtlNear(oldLayout.ttlSeconds, 50000, '10.5.9.0/24');
    });
  });

  describe('C04: a lease past its renewal point', () => {
    const prefix = testPrefix('c04');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C04'));
    });

    test('marks the 30-minute lease overdue and leaves the other one alone', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const table = parseTable(result.stdout);
      assert.deepEqual(subnets(table), ['10.5.12.0/24', '10.5.13.0/24']);

      const overdue = rowFor(table, '10.5.12.0/24');
      assertTtlNear(durationSeconds(overdue.TTL), 1800, '10.5.12.0/24');
      assert.match(overdue.NOTES, /overdue/i);

      const healthy = rowFor(table, '10.5.13.0/24');
      assertTtlNear(durationSeconds(healthy.TTL), 80000, '10.5.13.0/24');
      assert.doesNotMatch(healthy.NOTES, /overdue/i);
    });

    test('--renew-margin 20m removes the marker; 23h59m marks both', async () => {
      const narrow = await leasesLs(etcd.endpoint, prefix, ['--renew-margin', '20m']);

      assert.equal(narrow.code, 0, `stderr: ${narrow.stderr}`);
      assert.doesNotMatch(narrow.stdout, /overdue/i);
      assert.deepEqual(subnets(parseTable(narrow.stdout)), ['10.5.12.0/24', '10.5.13.0/24']);

      const widest = await leasesLs(etcd.endpoint, prefix, ['--renew-margin', '23h59m']);

      assert.equal(widest.code, 0, `stderr: ${widest.stderr}`);
      for (const row of parseTable(widest.stdout).rows) {
        assert.match(row.NOTES, /overdue/i, `${row.SUBNET} is not marked with a 23h59m margin`);
      }

      const smallest = await leasesLs(etcd.endpoint, prefix, ['--renew-margin', '1m']);

      assert.equal(smallest.code, 0, `stderr: ${smallest.stderr}`);
      assert.doesNotMatch(smallest.stdout, /overdue/i);
    });

    for (const margin of ['59s', '0s', '24h', '1440m']) {
      test(`--renew-margin ${margin} is outside 1m..23h59m: usage error`, async () => {
        const result = await leasesLs(etcd.endpoint, prefix, ['--renew-margin', margin]);

        assertOneLineError(result, EXIT_USAGE, margin);
      });
    }
  });

  describe('C05: the one state of the case a real etcd can hold', () => {
    const prefix = testPrefix('c05');

    before(async () => {
      const entries = loadCaseState('C05').filter((entry) => entry.ttl === null || entry.ttl > 0);
      await seedCaseAt(etcd.endpoint, prefix, entries);
    });

    test('lists 10.5.41.0/24 as an ordinary lease without notes', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const table = parseTable(result.stdout);
      assert.deepEqual(subnets(table), ['10.5.41.0/24']);

      const row = rowFor(table, '10.5.41.0/24');
      assert.equal(row.TYPE, 'lease');
      assertTtlNear(durationSeconds(row.TTL), 40000, '10.5.41.0/24');
      assert.equal(row.NOTES, '');
    });

    test('-o wide prints a lease id with a leading zero as etcdctl does (16 digits)', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['-o', 'wide']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const row = rowFor(parseTable(result.stdout), '10.5.41.0/24');
      assert.equal(row['LEASE ID'], '093a64a83ac42058');
    });

    test('--json carries the same lease id value', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const lease = leaseFor(parseDocument(result.stdout), '10.5.41.0/24');
      assert.equal(typeof lease.leaseId, 'string');
      assert.equal(BigInt(`0x${lease.leaseId}`), 0x093a64a83ac42058n);
      assertTtlNear(lease.ttlSeconds, 40000, '10.5.41.0/24');
    });
  });

  describe('C09: dual-stack keys, one with uppercase IPv6 hex', () => {
    const prefix = testPrefix('c09');
    const upperKey = `${prefix}/subnets/10.5.35.0-24&FC00:0:0:23::-64`;

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C09'));
    });

    test('-o wide shows the IPv6 half and flags the uppercase key on stderr', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['-o', 'wide']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const table = parseTable(result.stdout);
      for (const column of [...ISSUE_COLUMNS, ...WIDE_ONLY_COLUMNS]) {
        assert.ok(table.headers.includes(column), `no ${column} column in ${table.headers}`);
      }

      const dualStack = rowFor(table, '10.5.34.0/24');
      assert.equal(dualStack['IPV6 SUBNET'], 'fc00:0:0:22::/64');
      assert.equal(dualStack['VTEP MAC'], '00:00:5e:10:00:34');
      assert.equal(dualStack['LEASE ID'], '694d854330fc5160');
      assert.equal(rowFor(table, '10.5.36.0/24')['IPV6 SUBNET'], '');

      assert.ok(result.stderr.includes(upperKey), `uppercase key not reported: ${result.stderr}`);
      assert.ok(!result.stdout.includes('fc00:0:0:23'), 'the uppercase key was lowercased');
      assert.ok(!result.stderr.includes('fc00:0:0:23'), 'the uppercase key was lowercased');
    });

    test('--json lists the uppercase key under problems, byte for byte', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const document = parseDocument(result.stdout);
      const dualStack = leaseFor(document, '10.5.34.0/24');
      assert.equal(dualStack.ipv6Subnet, 'fc00:0:0:22::/64');
      assert.equal(dualStack.publicIPv6, '2001:db8::34');
      assert.equal(leaseFor(document, '10.5.36.0/24').ipv6Subnet, null);

      const problem = document.problems.find((candidate) => candidate.key === upperKey);
      assert.ok(problem, `no problem for ${upperKey}: ${JSON.stringify(document.problems)}`);
      assert.ok(problem.reason.length > 0, 'the problem has no reason');
      assert.ok(
        !document.leases.some((lease) => lease.ipv6Subnet === 'fc00:0:0:23::/64'),
        'the uppercase key was lowercased into a valid lease',
      );
    });
  });

  describe('C12: one public IP holding two subnets', () => {
    const prefix = testPrefix('c12');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C12'));
    });

    test('--public-ip 192.0.2.21 returns exactly its two subnets in numeric order', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--public-ip', '192.0.2.21']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const table = parseTable(result.stdout);
      assert.deepEqual(subnets(table), ['10.16.14.0/24', '10.16.55.0/24']);
      assert.ok(table.rows.every((row) => row['PUBLIC IP'] === '192.0.2.21'));

      const json = await leasesLs(etcd.endpoint, prefix, ['--public-ip', '192.0.2.21', '--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const listed = parseDocument(json.stdout).leases.map((lease) => lease.subnet);
      assert.deepEqual(listed, ['10.16.14.0/24', '10.16.55.0/24']);
    });
  });

  describe('C15: config written at the prefix key itself', () => {
    const prefix = testPrefix('c15');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C15'));
    });

    test('no leases, exit 0, and stderr says so and that the config is missing', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /no leases/i);
      assert.ok(
        result.stderr.includes(`${prefix}/config`),
        `config key not named: ${result.stderr}`,
      );
      assert.match(result.stderr, /no (network )?config|config[^\n]*(missing|not found)/i);
    });

    test('--json does not take the prefix key for a lease', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const document = parseDocument(result.stdout);
      assert.equal(document.prefix, prefix);
      assert.deepEqual(document.leases, []);
    });
  });

  // C18 is seeded under its own /kube-centos/network, which no other test uses, so the hint
  // about other prefixes can be checked by name; nothing in this etcd lives at the default.
  describe('C18: a non-default prefix', () => {
    const kubePrefix = '/kube-centos/network';
    const expected = ['10.254.21.0/24', '10.254.22.0/24'];

    before(async () => {
      await seedState(etcd.endpoint, loadCaseState('C18'));
    });

    test('the empty default prefix is exit 0 with a note naming where a config is', async () => {
      const result = await runCli(['leases', 'ls', '--endpoints', etcd.endpoint]);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /no leases/i);
      assert.ok(result.stderr.includes(CASE_PREFIX), `prefix not named: ${result.stderr}`);
      assert.ok(result.stderr.includes('--kube-subnet-mgr'), result.stderr);
      assert.ok(result.stderr.includes(kubePrefix), `${kubePrefix} not named: ${result.stderr}`);
    });

    test('--prefix /kube-centos/network lists its 2 leases', async () => {
      const result = await leasesLs(etcd.endpoint, kubePrefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.deepEqual(subnets(parseTable(result.stdout)), expected);
    });

    test('a trailing slash gives the same output and never a "//" key', async () => {
      const [plain, slashed] = await Promise.all([
        leasesLs(etcd.endpoint, kubePrefix),
        leasesLs(etcd.endpoint, `${kubePrefix}/`),
      ]);

      assert.equal(slashed.code, 0, `stderr: ${slashed.stderr}`);
      assert.equal(slashed.stderr, plain.stderr);
      assert.equal(withoutDurations(slashed.stdout), withoutDurations(plain.stdout));

      const json = await leasesLs(etcd.endpoint, `${kubePrefix}/`, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const document = parseDocument(json.stdout);
      assert.equal(document.prefix, kubePrefix);
      assert.deepEqual(
        document.leases.map((lease) => lease.key),
        [`${kubePrefix}/subnets/10.254.21.0-24`, `${kubePrefix}/subnets/10.254.22.0-24`],
      );
    });

    test('FLANNELD_ETCD_PREFIX selects the prefix and --prefix beats it', async () => {
      const environment = { FLANNELD_ETCD_PREFIX: kubePrefix };
      const fromEnv = await runCli(['leases', 'ls', '--endpoints', etcd.endpoint], {
        env: environment,
      });

      assert.equal(fromEnv.code, 0, `stderr: ${fromEnv.stderr}`);
      assert.deepEqual(subnets(parseTable(fromEnv.stdout)), expected);

      const otherPrefix = '/t-c18-empty/network';
      const flagWins = await leasesLs(etcd.endpoint, otherPrefix, [], { env: environment });

      assert.equal(flagWins.code, 0, `stderr: ${flagWins.stderr}`);
      assert.equal(flagWins.stdout, '');
      assert.ok(flagWins.stderr.includes(otherPrefix), `flag prefix not used: ${flagWins.stderr}`);
    });

    test('a prefix without a leading slash is a usage error naming it', async () => {
      const result = await leasesLs(etcd.endpoint, 'kube-centos/network');

      assertOneLineError(result, EXIT_USAGE, 'kube-centos/network');
    });
  });

  describe('C33: leases and reservations that no longer fit the config', () => {
    const prefix = testPrefix('c33');
    const misfits = ['10.5.10.0/24', '10.5.11.0/24', '10.6.1.0/24'];

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C33'));
    });

    test('NOTES marks the three misfits as incompatible and lists all rows', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const table = parseTable(result.stdout);
      assert.deepEqual(subnets(table), [
        '10.5.10.0/24',
        '10.5.11.0/24',
        '10.5.12.0/25',
        '10.6.1.0/24',
      ]);
      for (const subnet of misfits) {
        assert.match(rowFor(table, subnet).NOTES, /incompatible/i, `${subnet} is not marked`);
      }
      assert.doesNotMatch(rowFor(table, '10.5.12.0/25').NOTES, /incompatible/i);
    });

    test('--json lists configMisfits for the same three only', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const document = parseDocument(result.stdout);
      for (const subnet of misfits) {
        const reasons = leaseFor(document, subnet).configMisfits;
        assert.ok(
          Array.isArray(reasons) && reasons.length > 0,
          `${subnet}: configMisfits ${JSON.stringify(reasons)}`,
        );
      }
      assert.deepEqual(leaseFor(document, '10.5.12.0/25').configMisfits, []);
    });
  });

  describe('C21: connection settings from the environment', () => {
    const secret = 'example-only-secret';
    let closedEndpoint: string;

    before(async () => {
      closedEndpoint = `127.0.0.1:${await freePort()}`;
    });

    test('--debug shows each setting with its source and never the password', async () => {
      const environment = caseEnvironment('env.txt', closedEndpoint);
      const result = await runCli(['leases', 'ls', '--endpoints', etcd.endpoint, '--debug'], {
        env: environment,
      });

      const output = result.stdout + result.stderr;
      assert.ok(!output.includes(secret), 'the password value was printed');
      assert.equal(result.stdout, '');

      const lines = stderrLines(result);
      const lineWith = (...parts: string[]) => {
        const line = lines.find((candidate) => parts.every((part) => candidate.includes(part)));
        assert.ok(line, `no stderr line with ${parts.join(' + ')}: ${result.stderr}`);
        return line;
      };
      assert.match(lineWith('endpoints', etcd.endpoint), /flag/);
      lineWith('prefix', CASE_PREFIX, 'FLANNELD_ETCD_PREFIX');
      lineWith('cacert', '/etc/ssl/etcd/ca.pem', 'ETCDCTL_CACERT');
      lineWith('cert', '/etc/ssl/etcd/client.pem', 'ETCDCTL_CERT');
      lineWith('key', '/etc/ssl/etcd/client-key.pem', 'ETCDCTL_KEY');
      lineWith('user', 'flannel', 'FLANNELD_ETCD_USERNAME');
      lineWith('password', 'FLANNELD_ETCD_PASSWORD');
      lineWith('dial-timeout', 'default');
      lineWith('command-timeout', 'default');

      assert.match(lineWith('FLANNEL_ETCD_ENDPOINTS'), /FLANNELD_ETCD/);
      assert.ok(!result.stderr.includes('ETCDCTL_API'), 'ETCDCTL_API=3 is not ignored quietly');

      // The case's CA file does not exist here: an unreadable file is a usage error naming it.
      assert.equal(result.code, 2, `stderr: ${result.stderr}`);
      assert.ok(lines.some((line) => /error/i.test(line) && line.includes('/etc/ssl/etcd/ca.pem')));
    });

    test('ETCDCTL_ENDPOINTS beats FLANNELD_ETCD_ENDPOINTS and names its source', async () => {
      const environment = {
        ...caseEnvironment('env.txt', closedEndpoint),
        FLANNELD_ETCD_ENDPOINTS: `http://${closedEndpoint}`,
      };
      const result = await runCli(['leases', 'ls', '--debug'], { env: environment });

      const endpointLine = stderrLines(result).find((line) => line.includes('endpoints='));
      assert.ok(endpointLine, `no endpoints line: ${result.stderr}`);
      assert.ok(endpointLine.includes(`https://${closedEndpoint}`), endpointLine);
      assert.ok(endpointLine.includes('ETCDCTL_ENDPOINTS'), endpointLine);
      assert.ok(!(result.stdout + result.stderr).includes(secret), 'the password was printed');
      assert.notEqual(result.code, 0);
    });

    test('etcdctl v2-era names are each warned about and not used', async () => {
      const environment = caseEnvironment('env-v2names.txt', closedEndpoint);
      const prefix = testPrefix('c21');
      const result = await leasesLs(etcd.endpoint, prefix, [], { env: environment });

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      for (const name of Object.keys(environment)) {
        assert.ok(result.stderr.includes(name), `no warning about ${name}: ${result.stderr}`);
      }
    });

    test('a password given in --user never appears, even with --debug', async () => {
      const flagSecret = 'flag-only-secret-1234';
      const result = await runCli([
        'leases',
        'ls',
        '--endpoints',
        `http://${closedEndpoint}`,
        '--user',
        `flannel:${flagSecret}`,
        '--debug',
      ]);

      assert.equal(result.code, 6, `stderr: ${result.stderr}`);
      assert.ok(!(result.stdout + result.stderr).includes(flagSecret), 'the password was printed');
    });

    test('the unknown flag --remote-cafile is a usage error naming it', async () => {
      const result = await leasesLs(etcd.endpoint, testPrefix('c21'), ['--remote-cafile', 'x']);

      assertOneLineError(result, EXIT_USAGE, '--remote-cafile');
    });
  });

  describe('filters and orders on a small network', () => {
    const prefix = testPrefix('filters');
    const subnetKey = (name: string) => `${prefix}/subnets/${name}`;
    const value = (publicIP: string, backend: string) =>
      JSON.stringify({
        PublicIP: publicIP,
        PublicIPv6: null,
        BackendType: backend,
        BackendData: null,
      });

    before(async () => {
      await seedState(etcd.endpoint, [
        {
          key: `${prefix}/config`,
          value: '{"Network":"10.8.0.0/16","Backend":{"Type":"vxlan"}}',
          ttl: null,
        },
        { key: subnetKey('10.8.1.0-24'), value: value('192.0.2.31', 'vxlan'), ttl: 86400 },
        { key: subnetKey('10.8.2.0-24'), value: value('192.0.2.5', 'host-gw'), ttl: 3000 },
        { key: subnetKey('10.8.3.0-24'), value: value('192.0.2.100', 'wireguard'), ttl: 7000 },
        { key: subnetKey('10.8.10.0-24'), value: value('192.0.2.40', 'vxlan'), ttl: null },
      ]);
    });

    const cases: Array<{ name: string; args: string[]; rows: string[] }> = [
      {
        name: 'default order is numeric by subnet',
        args: [],
        rows: ['10.8.1.0/24', '10.8.2.0/24', '10.8.3.0/24', '10.8.10.0/24'],
      },
      { name: '--reservations', args: ['--reservations'], rows: ['10.8.10.0/24'] },
      {
        name: '--leases',
        args: ['--leases'],
        rows: ['10.8.1.0/24', '10.8.2.0/24', '10.8.3.0/24'],
      },
      { name: '--backend host-gw', args: ['--backend', 'host-gw'], rows: ['10.8.2.0/24'] },
      {
        name: '--backend vxlan',
        args: ['--backend', 'vxlan'],
        rows: ['10.8.1.0/24', '10.8.10.0/24'],
      },
      {
        name: '--expiring-within 2h leaves out long leases and reservations',
        args: ['--expiring-within', '2h'],
        rows: ['10.8.2.0/24', '10.8.3.0/24'],
      },
      { name: '--expiring-within 1h', args: ['--expiring-within', '1h'], rows: ['10.8.2.0/24'] },
      {
        name: '--sort ttl: soonest first, the reservation (no expiry) last',
        args: ['--sort', 'ttl'],
        rows: ['10.8.2.0/24', '10.8.3.0/24', '10.8.1.0/24', '10.8.10.0/24'],
      },
      {
        name: '--sort public-ip is numeric, not string order',
        args: ['--sort', 'public-ip'],
        rows: ['10.8.2.0/24', '10.8.1.0/24', '10.8.10.0/24', '10.8.3.0/24'],
      },
      {
        name: 'filters combine with a sort',
        args: ['--leases', '--backend', 'vxlan', '--sort', 'ttl'],
        rows: ['10.8.1.0/24'],
      },
      { name: 'a filter matching nothing', args: ['--public-ip', '192.0.2.99'], rows: [] },
    ];

    for (const { name, args, rows } of cases) {
      test(name, async () => {
        const result = await leasesLs(etcd.endpoint, prefix, args);

        assert.equal(result.code, 0, `stderr: ${result.stderr}`);
        assert.deepEqual(subnets(parseTable(result.stdout)), rows);

        const json = await leasesLs(etcd.endpoint, prefix, [...args, '--json']);

        assert.equal(json.code, 0, `stderr: ${json.stderr}`);
        assert.deepEqual(
          parseDocument(json.stdout).leases.map((lease) => lease.subnet),
          rows,
        );
      });
    }

    test('TYPE tells a reservation from a lease by its lease id', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      const table = parseTable(result.stdout);
      assert.equal(rowFor(table, '10.8.10.0/24').TYPE, 'reservation');
      assert.equal(rowFor(table, '10.8.2.0/24').TYPE, 'lease');
      assert.match(rowFor(table, '10.8.2.0/24').NOTES, /overdue/i);
    });
  });

  describe('lease ids above 2^53', () => {
    const prefix = testPrefix('ids');
    // As a JS number this id would read back as 7fffffffffff0000.
    const bigId = '7fffffffffff0001';
    // Above 2^63: etcd's int64 holds it as a negative number, ten bytes on the wire.
    const negativeId = 'f000000000000abc';

    before(async () => {
      await seedState(etcd.endpoint, [
        {
          key: `${prefix}/config`,
          value: '{"Network":"10.9.0.0/16","Backend":{"Type":"vxlan"}}',
          ttl: null,
        },
        {
          key: `${prefix}/subnets/10.9.20.0-24`,
          value: '{"PublicIP":"192.0.2.20","BackendType":"vxlan","BackendData":null}',
          ttl: 86400,
          lease: bigId,
        },
        {
          key: `${prefix}/subnets/10.9.21.0-24`,
          value: '{"PublicIP":"192.0.2.21","BackendType":"vxlan","BackendData":null}',
          ttl: 7200,
          lease: negativeId,
        },
      ]);
    });

    test('-o wide and --json print the id exactly, in hex', async () => {
      const wide = await leasesLs(etcd.endpoint, prefix, ['-o', 'wide']);

      assert.equal(wide.code, 0, `stderr: ${wide.stderr}`);
      assert.equal(rowFor(parseTable(wide.stdout), '10.9.20.0/24')['LEASE ID'], bigId);

      const json = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      assert.equal(leaseFor(parseDocument(json.stdout), '10.9.20.0/24').leaseId, bigId);
      assert.ok(json.stdout.includes(`"${bigId}"`), 'the lease id is not a JSON string');
    });

    test('an id above 2^63 is listed exactly and etcd finds it by that id (its TTL is known)', async () => {
      const json = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const lease = leaseFor(parseDocument(json.stdout), '10.9.21.0/24');
      assert.equal(lease.leaseId, negativeId);
      assert.equal(lease.status, 'active');
      assert.equal(lease.grantedTtlSeconds, 7200);
      assertTtlNear(lease.ttlSeconds, 7200, negativeId);
    });
  });
});
