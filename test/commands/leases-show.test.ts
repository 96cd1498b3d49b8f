// `flanctl leases show SUBNET` run as a subprocess against a private etcd: every accepted way of
// naming a subnet, not found and bad input, leases and reservations in detail, keys sharing one
// etcd lease, fit with the network config, and values that do not parse. stdout, stderr and the
// exit code are checked apart.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { type CliResult, runCli } from '../helpers/cli.js';
import {
  EXIT_NOT_FOUND,
  EXIT_USAGE,
  assertOneLineFlanctlError,
  errorLines,
  leadingDurationSeconds,
  stderrLines,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import { type KeyState, existingKey, grantLeaseWithId, putKey } from '../helpers/kv-inspect.js';
import {
  type LeaseJson,
  type LeasesDocument,
  assertTtlNear,
  detailFields,
  field,
  parseLeasesDocument,
} from '../helpers/leases.js';
import {
  CONFIG_10_5,
  TTL_SLACK_SECONDS,
  loadCaseState,
  seedCaseAt,
  seedState,
  subnetKey,
  testPrefix,
  vxlanAttrs,
} from '../helpers/seed.js';

// The fields `leases ls --json` documents for each lease; `leases show` adds three more.
const LS_FIELDS = [
  'key',
  'subnet',
  'ipv6Subnet',
  'publicIP',
  'publicIPv6',
  'backendType',
  'backendData',
  'type',
  'status',
  'leaseId',
  'ttlSeconds',
  'grantedTtlSeconds',
  'expiresAt',
  'createRevision',
  'modRevision',
  'configMisfits',
];
const SHOW_FIELDS = [...LS_FIELDS, 'version', 'sharedLeaseKeys', 'fitsConfig'];

interface ShownLease extends LeaseJson {
  version: number;
  sharedLeaseKeys: string[];
  fitsConfig: boolean | null;
}

type ShowDocument = LeasesDocument<ShownLease>;

function leaseValue(publicIP: string): string {
  return vxlanAttrs(publicIP, '00:00:5e:10:00:99');
}

function show(
  endpoint: string,
  prefix: string,
  subnet: string,
  extra: string[] = [],
): Promise<CliResult> {
  return runCli(['leases', 'show', subnet, '--endpoints', endpoint, '--prefix', prefix, ...extra]);
}

function assertOk(result: CliResult): void {
  assert.equal(result.code, 0, `exit code; stderr: ${result.stderr}`);
}

function parseDocument(stdout: string): ShowDocument {
  return parseLeasesDocument(stdout, { prefixAndRevision: true, leaseFields: SHOW_FIELDS });
}

function onlyLease(document: ShowDocument): ShownLease {
  const keys = document.leases.map((lease) => lease.key);
  assert.equal(document.leases.length, 1, `one lease expected, got ${JSON.stringify(keys)}`);
  return document.leases[0];
}

function assertExpiresAround(iso: string, remainingSeconds: number, what: string): void {
  const expiresAt = Date.parse(iso);
  const expected = Date.now() + remainingSeconds * 1000;
  assert.ok(
    Number.isFinite(expiresAt) && Math.abs(expiresAt - expected) < TTL_SLACK_SECONDS * 1000,
    `${what}: expiry ${iso} is not about ${remainingSeconds}s from now`,
  );
}

function isoIn(text: string): string {
  const match = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/.exec(text);
  assert.ok(match, `no ISO 8601 time in ${JSON.stringify(text)}`);
  return match[0];
}

describe('flanctl leases show', () => {
  const etcd = etcdForSuite();

  describe('C09: every accepted form finds the dual-stack key', () => {
    const prefix = testPrefix('show', 'c09');
    const combinedKey = subnetKey(prefix, '10.5.34.0-24&fc00:0:0:22::-64');
    const forms = ['10.5.34.0/24', '10.5.34.0-24', combinedKey, '10.5.34.17', 'fc00:0:0:22::/64'];

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C09'));
    });

    for (const form of forms) {
      test(`${form} resolves to 10.5.34.0-24&fc00:0:0:22::-64`, async () => {
        const text = await show(etcd.endpoint, prefix, form);

        assertOk(text);
        assert.equal(text.stderr, '');
        assert.equal(field(detailFields(text.stdout), 'Key'), combinedKey);

        const json = await show(etcd.endpoint, prefix, form, ['--json']);

        assertOk(json);
        assert.equal(json.stderr, '');
        const lease = onlyLease(parseDocument(json.stdout));
        assert.equal(lease.key, combinedKey);
        assert.equal(lease.subnet, '10.5.34.0/24');
        assert.equal(lease.ipv6Subnet, 'fc00:0:0:22::/64');
        assert.equal(lease.leaseId, '694d854330fc5160');
      });
    }

    test('the block shows both halves, both public IPs and both backend data', async () => {
      const result = await show(etcd.endpoint, prefix, 'fc00:0:0:22::/64');

      assertOk(result);
      const fields = detailFields(result.stdout);
      assert.equal(field(fields, 'Subnet'), '10.5.34.0/24');
      assert.equal(field(fields, 'IPv6 subnet'), 'fc00:0:0:22::/64');
      assert.equal(field(fields, 'Public IP'), '192.0.2.34');
      assert.equal(field(fields, 'Public IPv6'), '2001:db8::34');
      assert.ok(field(fields, 'Backend data').includes('00:00:5e:10:00:34'));
      assert.ok(field(fields, 'Backend v6 data').includes('00:00:5e:10:00:35'));

      const json = await show(etcd.endpoint, prefix, 'fc00:0:0:22::/64', ['--json']);

      assertOk(json);
      const lease = onlyLease(parseDocument(json.stdout));
      assert.equal(lease.publicIP, '192.0.2.34');
      assert.equal(lease.publicIPv6, '2001:db8::34');
      assertTtlNear(lease.ttlSeconds, 80000, combinedKey);
    });
  });

  describe('an IPv4-only key: every accepted form finds 10.5.34.0-24', () => {
    const prefix = testPrefix('show', 'forms');
    const key = subnetKey(prefix, '10.5.34.0-24');
    const forms = ['10.5.34.0/24', '10.5.34.0-24', key, '10.5.34.17', '10.5.34.0', '10.5.34.255'];

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.33.0-24'), value: leaseValue('192.0.2.33'), ttl: 86400 },
        { key, value: leaseValue('192.0.2.34'), ttl: 86400 },
        { key: subnetKey(prefix, '10.5.35.0-24'), value: leaseValue('192.0.2.35'), ttl: 86400 },
      ]);
    });

    for (const form of forms) {
      test(`${form} resolves to ${key}`, async () => {
        const text = await show(etcd.endpoint, prefix, form);

        assertOk(text);
        assert.equal(text.stderr, '');
        const fields = detailFields(text.stdout);
        assert.equal(field(fields, 'Key'), key);
        assert.equal(field(fields, 'Public IP'), '192.0.2.34');

        const json = await show(etcd.endpoint, prefix, form, ['--json']);

        assertOk(json);
        const lease = onlyLease(parseDocument(json.stdout));
        assert.equal(lease.key, key);
        assert.equal(lease.ipv6Subnet, null);
      });
    }
  });

  describe('C02: host-address form, no such subnet, wrong prefix length', () => {
    const prefix = testPrefix('show', 'c02');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C02'));
    });

    test('(d) 10.5.1.1/24 names 10.5.1.0/24 with a note on stderr', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.1.1/24');

      assertOk(result);
      assert.equal(field(detailFields(result.stdout), 'Key'), subnetKey(prefix, '10.5.1.0-24'));
      const lines = stderrLines(result);
      assert.equal(lines.length, 1, `one note expected: ${result.stderr}`);
      assert.ok(lines[0].includes('10.5.1.1/24') && lines[0].includes('10.5.1.0/24'), lines[0]);
      assert.ok(!(result.stdout + result.stderr).includes('10.5.1.1-24'), 'a 10.5.1.1-24 key');

      const json = await show(etcd.endpoint, prefix, '10.5.1.1/24', ['--json']);

      assertOk(json);
      assert.equal(onlyLease(parseDocument(json.stdout)).key, subnetKey(prefix, '10.5.1.0-24'));
      assert.ok(json.stderr.includes('10.5.1.0/24'), `no note with --json: ${json.stderr}`);
    });

    test('(e) 10.5.77.0/24 is exit 4 with one line naming the key looked up', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.77.0/24');

      assertOneLineFlanctlError(result, EXIT_NOT_FOUND, subnetKey(prefix, '10.5.77.0-24'));

      const json = await show(etcd.endpoint, prefix, '10.5.77.0/24', ['--json']);

      assertOneLineFlanctlError(json, EXIT_NOT_FOUND, subnetKey(prefix, '10.5.77.0-24'));
    });

    test('(f) 10.5.1.0/25 is exit 4 with a hint that the network uses /24', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.1.0/25');

      assertOneLineFlanctlError(result, EXIT_NOT_FOUND, subnetKey(prefix, '10.5.1.0-25'));
      assert.match(result.stderr, /\/24 subnets/);
    });

    test('a reservation: type reservation, no lease id, no TTL number', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.2.0/24');

      assertOk(result);
      assert.equal(result.stderr, '');
      const fields = detailFields(result.stdout);
      assert.equal(field(fields, 'Type'), 'reservation');
      assert.equal(field(fields, 'Public IP'), '192.0.2.2');
      assert.doesNotMatch(field(fields, 'Lease ID'), /[0-9a-f]{16}/);
      assert.doesNotMatch(field(fields, 'Remaining TTL'), /\d/);
      assert.doesNotMatch(field(fields, 'Expires'), /\d/);
      assert.doesNotMatch(field(fields, 'Same lease'), /\/subnets\//);

      const json = await show(etcd.endpoint, prefix, '10.5.2.0/24', ['--json']);

      assertOk(json);
      const lease = onlyLease(parseDocument(json.stdout));
      assert.equal(lease.type, 'reservation');
      assert.equal(lease.status, 'reservation');
      assert.equal(lease.leaseId, null);
      assert.equal(lease.ttlSeconds, null);
      assert.equal(lease.grantedTtlSeconds, null);
      assert.equal(lease.expiresAt, null);
      assert.deepEqual(lease.sharedLeaseKeys, []);
      assert.equal(lease.fitsConfig, true);
    });

    test('a lease from the case keeps its id and remaining TTL', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.1.0/24');

      assertOk(result);
      const fields = detailFields(result.stdout);
      assert.equal(field(fields, 'Type'), 'lease');
      assert.equal(field(fields, 'Lease ID'), '694d854330fc5110');
      assertTtlNear(leadingDurationSeconds(field(fields, 'Remaining TTL')), 74737, '10.5.1.0/24');

      const json = await show(etcd.endpoint, prefix, '10.5.1.0/24', ['--json']);

      assertOk(json);
      const lease = onlyLease(parseDocument(json.stdout));
      assert.equal(lease.leaseId, '694d854330fc5110');
      assertTtlNear(lease.ttlSeconds, 74737, '10.5.1.0/24');
    });
  });

  describe('the host-address form never turns into a key of its own', () => {
    const prefix = testPrefix('show', 'hostform');
    const emptyPrefix = testPrefix('show', 'hostform-empty');

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.1.0-24'), value: leaseValue('192.0.2.1'), ttl: null },
        // A hand-written key with host bits: what a naive tool would read for 10.5.1.1/24.
        { key: subnetKey(prefix, '10.5.1.1-24'), value: leaseValue('192.0.2.99'), ttl: null },
      ]);
    });

    test('10.5.1.1/24 shows 10.5.1.0-24, not a key named 10.5.1.1-24', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.1.1/24');

      assertOk(result);
      const fields = detailFields(result.stdout);
      assert.equal(field(fields, 'Key'), subnetKey(prefix, '10.5.1.0-24'));
      assert.equal(field(fields, 'Public IP'), '192.0.2.1');
      assert.ok(!result.stdout.includes('192.0.2.99'), 'the 10.5.1.1-24 value was shown');
    });

    test('with no key at all, the not-found error names 10.5.1.0-24 only', async () => {
      const result = await show(etcd.endpoint, emptyPrefix, '10.5.1.1/24');

      assert.equal(result.code, EXIT_NOT_FOUND, `stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      const errors = errorLines(result);
      assert.equal(errors.length, 1, `one error line expected: ${result.stderr}`);
      assert.ok(errors[0].includes(subnetKey(emptyPrefix, '10.5.1.0-24')), errors[0]);
      assert.ok(!result.stderr.includes('10.5.1.1-24'), `looked up 10.5.1.1-24: ${result.stderr}`);
    });
  });

  describe('bad subnet syntax', () => {
    const prefix = testPrefix('show', 'syntax');
    const inputs = [
      'bogus',
      '10.5.1.0/33',
      '10.5.256.0/24',
      '10.5.1.0-24-7',
      '/elsewhere/subnets/10.5.1.0-24',
    ];

    for (const input of inputs) {
      test(`${input} is a usage error naming it`, async () => {
        const result = await show(etcd.endpoint, prefix, input);

        assertOneLineFlanctlError(result, EXIT_USAGE, input);

        const json = await show(etcd.endpoint, prefix, input, ['--json']);

        assertOneLineFlanctlError(json, EXIT_USAGE, input);
      });
    }
  });

  describe('a lease granted by the test: id, TTLs, expiry, revisions, version', () => {
    const prefix = testPrefix('show', 'detail');
    const key = subnetKey(prefix, '10.5.60.0-24');
    // A small id shows the zero padding etcdctl prints: 16 hex digits.
    const hexId = '000000000000abc1';
    let stored: KeyState;

    before(async () => {
      await seedState(etcd.endpoint, [{ key: `${prefix}/config`, value: CONFIG_10_5, ttl: null }]);
      await grantLeaseWithId(etcd.endpoint, hexId);

      await putKey(etcd.endpoint, key, leaseValue('192.0.2.60'), hexId);
      // A renewal re-puts the key: version 2, mod revision above create revision.
      await putKey(etcd.endpoint, key, leaseValue('192.0.2.60'), hexId);

      stored = await existingKey(etcd.endpoint, key);
      assert.equal(stored.version, 2);
    });

    test('the text block shows all facts of the lease', async () => {
      const result = await show(etcd.endpoint, prefix, '10.5.60.0/24');

      assertOk(result);
      assert.equal(result.stderr, '');
      const fields = detailFields(result.stdout);
      assert.equal(field(fields, 'Key'), key);
      assert.equal(field(fields, 'Type'), 'lease');
      assert.equal(field(fields, 'Lease ID'), hexId);
      assert.match(field(fields, 'Granted TTL'), /\b86400\b|^24h0m0s\b/);

      const remaining = leadingDurationSeconds(field(fields, 'Remaining TTL'));
      assertTtlNear(remaining, 86400, key);
      assertExpiresAround(isoIn(field(fields, 'Expires')), remaining, key);

      const revisions = field(fields, 'Revisions');
      assert.match(revisions, new RegExp(`create ${stored.createRevision}\\b`));
      assert.match(revisions, new RegExp(`mod ${stored.modRevision}\\b`));
      assert.equal(field(fields, 'Version'), String(stored.version));
      assert.doesNotMatch(field(fields, 'Same lease'), /\/subnets\//);
      assert.match(field(fields, 'Fits config'), /^yes\b/);
    });

    test('--json is one document with the documented fields and values', async () => {
      const result = await show(etcd.endpoint, prefix, key, ['--json']);

      assertOk(result);
      assert.equal(result.stderr, '');
      const document = parseDocument(result.stdout);
      assert.equal(document.prefix, prefix);
      assert.ok(document.revision >= stored.modRevision, `revision ${document.revision}`);
      assert.deepEqual(document.problems, []);

      const lease = onlyLease(document);
      assert.equal(lease.key, key);
      assert.equal(lease.subnet, '10.5.60.0/24');
      assert.equal(lease.publicIP, '192.0.2.60');
      assert.equal(lease.backendType, 'vxlan');
      assert.deepEqual(lease.backendData, { VNI: 1, VtepMAC: '00:00:5e:10:00:99' });
      assert.equal(lease.type, 'lease');
      assert.equal(lease.status, 'active');
      assert.equal(lease.leaseId, hexId);
      assert.equal(lease.grantedTtlSeconds, 86400);
      assertTtlNear(lease.ttlSeconds, 86400, key);
      assertExpiresAround(lease.expiresAt ?? '', lease.ttlSeconds ?? 0, key);
      assert.equal(lease.createRevision, stored.createRevision);
      assert.equal(lease.modRevision, stored.modRevision);
      assert.equal(lease.version, stored.version);
      assert.deepEqual(lease.sharedLeaseKeys, []);
      assert.equal(lease.fitsConfig, true);
      assert.deepEqual(lease.configMisfits, []);
    });
  });

  describe('two subnet keys attached to one etcd lease', () => {
    const prefix = testPrefix('show', 'shared');
    const first = subnetKey(prefix, '10.5.70.0-24');
    const second = subnetKey(prefix, '10.5.71.0-24');
    const ownLease = subnetKey(prefix, '10.5.72.0-24');
    const hexId = '000000000000abc2';

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: ownLease, value: leaseValue('192.0.2.72'), ttl: 86400 },
      ]);
      await grantLeaseWithId(etcd.endpoint, hexId);

      await putKey(etcd.endpoint, first, leaseValue('192.0.2.70'), hexId);
      await putKey(etcd.endpoint, second, leaseValue('192.0.2.71'), hexId);
    });

    for (const [shown, other] of [
      [first, second],
      [second, first],
    ]) {
      test(`${shown} lists ${other} under "Same lease" and in sharedLeaseKeys`, async () => {
        const result = await show(etcd.endpoint, prefix, shown);

        assertOk(result);
        const fields = detailFields(result.stdout);
        assert.equal(field(fields, 'Lease ID'), hexId);
        const sameLease = field(fields, 'Same lease');
        assert.ok(sameLease.includes(other), `"Same lease: ${sameLease}" does not name ${other}`);
        assert.ok(!sameLease.includes(shown), `"Same lease: ${sameLease}" names the key itself`);
        assert.ok(!sameLease.includes(ownLease), `"Same lease: ${sameLease}" names ${ownLease}`);

        const json = await show(etcd.endpoint, prefix, shown, ['--json']);

        assertOk(json);
        const lease = onlyLease(parseDocument(json.stdout));
        assert.equal(lease.leaseId, hexId);
        assert.deepEqual(lease.sharedLeaseKeys, [other]);
      });
    }

    test('a key on its own lease shares it with nobody', async () => {
      const json = await show(etcd.endpoint, prefix, ownLease, ['--json']);

      assertOk(json);
      assert.deepEqual(onlyLease(parseDocument(json.stdout)).sharedLeaseKeys, []);
    });
  });

  describe('C33: whether the subnet fits the network config', () => {
    const prefix = testPrefix('show', 'c33');
    const cases: Array<{ subnet: string; fits: boolean; reason: RegExp[] }> = [
      { subnet: '10.5.10.0/24', fits: false, reason: [/SubnetLen/, /\b25\b/] },
      { subnet: '10.5.11.0/24', fits: false, reason: [/SubnetLen/, /\b25\b/] },
      { subnet: '10.6.1.0/24', fits: false, reason: [/outside/i, /10\.5\.0\.0\/16/] },
      { subnet: '10.5.12.0/25', fits: true, reason: [] },
    ];

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C33'));
    });

    for (const { subnet, fits, reason } of cases) {
      test(`${subnet} ${fits ? 'fits' : 'does not fit'}`, async () => {
        const result = await show(etcd.endpoint, prefix, subnet);

        assertOk(result);
        const line = field(detailFields(result.stdout), 'Fits config');
        assert.match(line, fits ? /^yes\b/i : /^no\b/i);
        for (const pattern of reason) assert.match(line, pattern);

        const json = await show(etcd.endpoint, prefix, subnet, ['--json']);

        assertOk(json);
        const lease = onlyLease(parseDocument(json.stdout));
        assert.equal(lease.fitsConfig, fits);
        if (fits) {
          assert.deepEqual(lease.configMisfits, []);
        } else {
          const reasons = lease.configMisfits.join('; ');
          for (const pattern of reason) assert.match(reasons, pattern);
        }
      });
    }
  });

  describe('no network config, or one flanneld refuses: fit is unknown', () => {
    const noConfig = testPrefix('show', 'no-config');
    const badConfig = testPrefix('show', 'bad-config');

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: subnetKey(noConfig, '10.5.7.0-24'), value: leaseValue('192.0.2.7'), ttl: 86400 },
        { key: `${badConfig}/config`, value: 'not a config', ttl: null },
        { key: subnetKey(badConfig, '10.5.8.0-24'), value: leaseValue('192.0.2.8'), ttl: null },
      ]);
    });

    for (const [prefix, subnet] of [
      [noConfig, '10.5.7.0/24'],
      [badConfig, '10.5.8.0/24'],
    ]) {
      test(`${subnet} under ${prefix}: "unknown" and fitsConfig null`, async () => {
        const result = await show(etcd.endpoint, prefix, subnet);

        assertOk(result);
        assert.match(field(detailFields(result.stdout), 'Fits config'), /^unknown\b/i);

        const json = await show(etcd.endpoint, prefix, subnet, ['--json']);

        assertOk(json);
        assert.equal(onlyLease(parseDocument(json.stdout)).fitsConfig, null);
      });
    }
  });

  describe('a value that does not parse under the selected key', () => {
    const prefix = testPrefix('show', 'malformed');
    const notJson = subnetKey(prefix, '10.5.40.0-24');
    const noPublicIp = subnetKey(prefix, '10.5.41.0-24');

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: notJson, value: 'not json {', ttl: 86400 },
        { key: noPublicIp, value: '{"BackendType":"vxlan"}', ttl: null },
      ]);
    });

    for (const { key, subnet, reason } of [
      { key: notJson, subnet: '10.5.40.0/24', reason: /JSON/ },
      { key: noPublicIp, subnet: '10.5.41.0/24', reason: /PublicIP/ },
    ]) {
      test(`${subnet}: reported as a problem on stderr, not a crash`, async () => {
        const result = await show(etcd.endpoint, prefix, subnet);

        assertOk(result);
        const problem = stderrLines(result).find((line) => line.includes(key));
        assert.ok(problem, `no stderr line names ${key}: ${result.stderr}`);
        assert.match(problem, /problem/i);
        assert.match(problem, reason);
        assert.doesNotMatch(result.stderr, /^\s+at /m, 'a stack trace was printed');

        const json = await show(etcd.endpoint, prefix, subnet, ['--json']);

        assertOk(json);
        const document = parseDocument(json.stdout);
        const reported = document.problems.find((candidate) => candidate.key === key);
        assert.ok(reported, `no problem for ${key}: ${JSON.stringify(document.problems)}`);
        assert.match(reported.reason, reason);
        assert.ok(!document.leases.some((lease) => lease.key === key), 'shown as a good lease');
      });
    }
  });
});
