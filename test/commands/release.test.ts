// `flanctl release` run as a subprocess against a private etcd: the field cases C08 and C09, the
// renew-margin rule, confirmation off a terminal, selection by --overdue and --public-ip, shared
// leases, the --json results and the journal. Every group seeds its own prefix and journal.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  type Group,
  type ResultsDocument,
  type Snapshot,
  GroupFactory,
  flanctlIn,
  groupKeys,
  readJournal,
  subnetIn,
} from '../helpers/changing-commands.js';
import {
  assertExitCode,
  assertMentions,
  durationSeconds,
  parseJsonDocument,
} from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import {
  type KeyState,
  assertKeyGone,
  assertLeaseAlive,
  assertLeaseRevoked,
  existingKey,
  leaseState,
} from '../helpers/kv-inspect.js';
import { CASE_PREFIX, TTL_SLACK_SECONDS, loadCaseState } from '../helpers/seed.js';

const LIVE_TTL = 36_000;
const OVERDUE_TTL = 1_800;
// A lease id of our own for the shared-lease group; lease ids are global in one etcd.
const SHARED_LEASE_HEX = '7e57000000000a01';

let etcd: EtcdServer;
let tmpRoot: string;
let groups: GroupFactory;

function assertTtlNear(actual: number | null | undefined, seeded: number, what: string): void {
  assert.ok(
    typeof actual === 'number' && actual <= seeded && actual >= seeded - TTL_SLACK_SECONDS,
    `${what}: TTL ${actual} is not within ${TTL_SLACK_SECONDS}s below ${seeded}`,
  );
}

// Every Go duration in the text, such as the remaining TTL in a result line.
function durationsIn(text: string): number[] {
  return [...text.matchAll(/\b(?:\d+h)?(?:\d+m)?\d+s\b/g)].map((match) =>
    durationSeconds(match[0]),
  );
}

function appliedCount(file: string): number {
  return readJournal(file).filter((record) => record.type === 'applied').length;
}

function comparable(states: KeyState[]) {
  return states.map((state) => ({
    key: state.key,
    value: state.value.toString('utf8'),
    lease: state.leaseHex,
  }));
}

before(async () => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-release-test-'));
  etcd = await startEtcd();
  groups = new GroupFactory('release', etcd.endpoint, tmpRoot);
});

after(async () => {
  await etcd?.stop();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

describe('flanctl release', () => {
  describe('C08: releasing the leases of terminated instances', () => {
    let group: Group;
    let seeded: KeyState[];
    const live = () => `${group.subnetsDir}10.5.2.0-24`;
    const reservation = () => `${group.subnetsDir}10.5.3.0-24`;

    before(async () => {
      group = await groups.fromCase('C08');
      seeded = await groupKeys(group);
    });

    test('(b) without --force a live lease is refused: exit 3, expiry named, nothing deleted', async () => {
      const startedMs = Date.now();
      const result = await flanctlIn(group, ['release', '10.5.2.0/24', '--yes']);

      assertExitCode(result, 3);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.2.0/24', '--force');
      const stamps = [...result.stderr.matchAll(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g)];
      assert.ok(stamps.length > 0, `no expiry time in: ${result.stderr}`);
      const expiresMs = Date.parse(stamps[0][0]);
      const expectedMs = startedMs + 36_500 * 1000;
      assert.ok(
        Math.abs(expiresMs - expectedMs) <= TTL_SLACK_SECONDS * 1000,
        `expiry ${stamps[0][0]} is not about 36500s from now`,
      );
      assert.match(result.stderr, /expire/i);
      assert.deepEqual(await groupKeys(group), seeded);
      assert.equal(appliedCount(group.journal), 0);
    });

    test('without --yes and no terminal: exit 2 at once, asks for --yes, nothing deleted', async () => {
      const result = await flanctlIn(group, ['release', '10.5.2.0/24', '--force']);

      assertExitCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '--yes');
      assert.deepEqual(await groupKeys(group), seeded);
      await assertLeaseAlive(etcd.endpoint, '694d854330fc5152', 'the lease of 10.5.2.0/24');
    });

    test('(b) --yes --force deletes exactly that key, prints host and TTL, revokes its lease', async () => {
      const result = await flanctlIn(group, ['release', '10.5.2.0/24', '--yes', '--force']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.2.0/24', '203.0.113.12');
      const ttls = durationsIn(result.stdout);
      assert.ok(
        ttls.some((ttl) => ttl <= 36_500 && ttl >= 36_500 - TTL_SLACK_SECONDS),
        `no remaining TTL near 36500s in: ${result.stdout}`,
      );
      assert.match(result.stdout, /revoked lease 694d854330fc5152/);
      assert.ok(!result.stdout.includes('10.5.1.0'), `other subnets in stdout: ${result.stdout}`);
      assert.match(result.stderr, /--force/);

      await assertKeyGone(etcd.endpoint, live());
      await assertLeaseRevoked(etcd.endpoint, '694d854330fc5152', 'the released lease');
      const expected = loadCaseState('C08', 'expected-state-after.json')
        .map((entry) => ({
          key: group.prefix + entry.key.slice(CASE_PREFIX.length),
          value: entry.value,
          lease: entry.lease?.toLowerCase() ?? null,
        }))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      const now = await groupKeys(group);
      assert.deepEqual(comparable(now), expected);
      // The keys that stay were not rewritten either.
      const untouched = seeded.filter((state) => state.key !== live());
      assert.deepEqual(now, untouched);
      assertTtlNear(
        (await leaseState(etcd.endpoint, '694d854330fc5151')).ttl,
        36_000,
        '10.5.1.0/24',
      );
    });

    test('(c) again: exit 4 with a not-found message, nothing else deleted', async () => {
      const beforeRun = await groupKeys(group);
      const result = await flanctlIn(group, ['release', '10.5.2.0/24', '--yes']);

      assertExitCode(result, 4);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.2.0/24');
      assert.match(result.stderr, /not found|no key/i);
      assert.deepEqual(await groupKeys(group), beforeRun);
    });

    test('(c) with --ignore-not-found a missing key is exit 0', async () => {
      const beforeRun = await groupKeys(group);
      const result = await flanctlIn(group, [
        'release',
        '10.5.2.0/24',
        '--yes',
        '--ignore-not-found',
      ]);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.2.0/24');
      assert.doesNotMatch(result.stderr, /error/);
      assert.deepEqual(await groupKeys(group), beforeRun);
    });

    test('(d) a reservation is refused without --force: exit 3, state unchanged', async () => {
      const beforeRun = await groupKeys(group);
      const result = await flanctlIn(group, ['release', '10.5.3.0/24', '--yes']);

      assertExitCode(result, 3);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.3.0/24', 'reservation', '--force');
      assert.deepEqual(await groupKeys(group), beforeRun);
    });

    test('(e) --force releases the reservation: exit 0', async () => {
      const result = await flanctlIn(group, ['release', '10.5.3.0/24', '--yes', '--force']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.3.0/24', '203.0.113.13');
      await assertKeyGone(etcd.endpoint, reservation());
      const left = (await groupKeys(group)).map((state) => state.key);
      assert.deepEqual(left, [`${group.prefix}/config`, `${group.subnetsDir}10.5.1.0-24`]);
      await assertLeaseAlive(etcd.endpoint, '694d854330fc5151', 'the lease of 10.5.1.0/24');
    });
  });

  describe('C09: a dual-stack key', () => {
    test('release 10.5.34.0/24 --yes --force deletes exactly the combined key', async () => {
      const group = await groups.fromCase('C09');
      const seeded = await groupKeys(group);
      const combined = `${group.subnetsDir}10.5.34.0-24&fc00:0:0:22::-64`;

      const result = await flanctlIn(group, ['release', '10.5.34.0/24', '--yes', '--force']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.34.0/24', '192.0.2.34');
      await assertKeyGone(etcd.endpoint, combined);
      await assertLeaseRevoked(etcd.endpoint, '694d854330fc5160', 'the combined key lease');
      assert.deepEqual(
        await groupKeys(group),
        seeded.filter((state) => state.key !== combined),
      );
      await assertLeaseAlive(etcd.endpoint, '694d854330fc5161', 'the uppercase key lease');
      await assertLeaseAlive(etcd.endpoint, '694d854330fc5162', 'the IPv4-only key lease');
    });
  });

  describe('confirmation and --dry-run', () => {
    test('an overdue lease without --yes off a terminal: exit 2, key and lease kept', async () => {
      const group = await groups.seeded('no-yes', (g) => [
        subnetIn(g, '10.5.11.0-24', '192.0.2.11', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.11.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);

      const result = await flanctlIn(group, ['release', '10.5.11.0/24']);

      assertExitCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '--yes');
      assert.deepEqual(await existingKey(etcd.endpoint, key), seeded);
      await assertLeaseAlive(etcd.endpoint, seeded.leaseHex as string, 'the overdue lease');
      assert.equal(appliedCount(group.journal), 0);
    });

    test('--dry-run needs no --yes, prints the plan and changes nothing', async () => {
      const group = await groups.seeded('dry-run', (g) => [
        subnetIn(g, '10.5.12.0-24', '192.0.2.12', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.12.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);

      const result = await flanctlIn(group, ['release', '10.5.12.0/24', '--dry-run']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.12.0/24', key, seeded.leaseHex as string);
      assert.deepEqual(await existingKey(etcd.endpoint, key), seeded);
      await assertLeaseAlive(etcd.endpoint, seeded.leaseHex as string, 'the overdue lease');
      assert.equal(appliedCount(group.journal), 0);

      const json = await flanctlIn(group, ['release', '10.5.12.0/24', '--dry-run', '--json']);
      assertExitCode(json, 0);
      const document = parseJsonDocument<ResultsDocument>(json.stdout);
      assert.equal(document.dryRun, true);
      assert.equal(document.results.length, 1);
      assert.equal(document.results[0].status, 'planned');
      assert.equal(document.results[0].ok, true);
      assert.equal(document.results[0].after, null);
      assert.deepEqual(await existingKey(etcd.endpoint, key), seeded);
    });
  });

  describe('the renew margin', () => {
    test('an overdue lease is released with --yes and no --force', async () => {
      const group = await groups.seeded('overdue', (g) => [
        subnetIn(g, '10.5.13.0-24', '192.0.2.13', OVERDUE_TTL),
        subnetIn(g, '10.5.14.0-24', '192.0.2.14', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.13.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      const other = await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.14.0-24`);

      const result = await flanctlIn(group, ['release', '10.5.13.0/24', '--yes']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.13.0/24', '192.0.2.13');
      assert.doesNotMatch(result.stderr, /error/);
      await assertKeyGone(etcd.endpoint, key);
      await assertLeaseRevoked(etcd.endpoint, seeded.leaseHex as string, 'the overdue lease');
      assert.deepEqual(await existingKey(etcd.endpoint, other.key), other);
    });

    test('--renew-margin 20m makes a lease with 30m left live: refused', async () => {
      const group = await groups.seeded('margin-20m', (g) => [
        subnetIn(g, '10.5.15.0-24', '192.0.2.15', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.15.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);

      const result = await flanctlIn(group, [
        'release',
        '10.5.15.0/24',
        '--yes',
        '--renew-margin',
        '20m',
      ]);

      assertExitCode(result, 3);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.15.0/24', '--force');
      assert.deepEqual(await existingKey(etcd.endpoint, key), seeded);
      await assertLeaseAlive(etcd.endpoint, seeded.leaseHex as string, 'the refused lease');
    });

    test('--renew-margin 12h makes a lease with 10h left overdue: released', async () => {
      const group = await groups.seeded('margin-12h', (g) => [
        subnetIn(g, '10.5.16.0-24', '192.0.2.16', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.16.0-24`;

      const result = await flanctlIn(group, [
        'release',
        '10.5.16.0/24',
        '--yes',
        '--renew-margin',
        '12h',
      ]);

      assertExitCode(result, 0);
      await assertKeyGone(etcd.endpoint, key);
    });

    test('--overdue --yes releases every overdue lease and nothing else', async () => {
      const group = await groups.seeded('overdue-bulk', (g) => [
        subnetIn(g, '10.5.17.0-24', '192.0.2.17', LIVE_TTL),
        subnetIn(g, '10.5.18.0-24', '192.0.2.18', OVERDUE_TTL),
        subnetIn(g, '10.5.19.0-24', '192.0.2.19', 600),
        subnetIn(g, '10.5.20.0-24', '192.0.2.20', null),
      ]);
      const seeded = await groupKeys(group);
      const overdueKeys = [`${group.subnetsDir}10.5.18.0-24`, `${group.subnetsDir}10.5.19.0-24`];
      const overdueLeases = seeded
        .filter((state) => overdueKeys.includes(state.key))
        .map((state) => state.leaseHex as string);

      const planned = await flanctlIn(group, ['release', '--overdue', '--dry-run']);
      assertExitCode(planned, 0);
      assertMentions(planned.stdout, '10.5.18.0/24', '10.5.19.0/24');
      for (const kept of ['10.5.17.0/24', '10.5.20.0/24']) {
        assert.ok(!planned.stdout.includes(kept), `${kept} in the plan: ${planned.stdout}`);
      }
      assert.deepEqual(await groupKeys(group), seeded);

      const result = await flanctlIn(group, ['release', '--overdue', '--yes']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.18.0/24', '10.5.19.0/24');
      assert.deepEqual(
        await groupKeys(group),
        seeded.filter((state) => !overdueKeys.includes(state.key)),
      );
      for (const lease of overdueLeases)
        await assertLeaseRevoked(etcd.endpoint, lease, 'an overdue lease');
    });

    test('--public-ip releases what that host holds, under the same rules', async () => {
      const group = await groups.seeded('public-ip', (g) => [
        subnetIn(g, '10.5.21.0-24', '192.0.2.21', OVERDUE_TTL),
        subnetIn(g, '10.5.22.0-24', '192.0.2.22', LIVE_TTL),
        subnetIn(g, '10.5.23.0-24', '192.0.2.23', OVERDUE_TTL),
      ]);
      const seeded = await groupKeys(group);
      const overdueKey = `${group.subnetsDir}10.5.21.0-24`;

      const result = await flanctlIn(group, ['release', '--public-ip', '192.0.2.21', '--yes']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.21.0/24', '192.0.2.21');
      assert.deepEqual(
        await groupKeys(group),
        seeded.filter((state) => state.key !== overdueKey),
      );

      const refused = await flanctlIn(group, ['release', '--public-ip', '192.0.2.22', '--yes']);

      assertExitCode(refused, 3);
      assertMentions(refused.stderr, '10.5.22.0/24', '--force');
      await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.22.0-24`);
      assert.equal((await groupKeys(group)).length, seeded.length - 1);
    });

    test('- reads the subnets from stdin', async () => {
      const group = await groups.seeded('stdin', (g) => [
        subnetIn(g, '10.5.24.0-24', '192.0.2.24', OVERDUE_TTL),
        subnetIn(g, '10.5.25.0-24', '192.0.2.25', OVERDUE_TTL),
      ]);

      const result = await flanctlIn(group, ['release', '-', '--yes'], { stdin: '10.5.24.0/24\n' });

      assertExitCode(result, 0);
      await assertKeyGone(etcd.endpoint, `${group.subnetsDir}10.5.24.0-24`);
      await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.25.0-24`);
    });
  });

  describe('a lease shared by two keys', () => {
    test('releasing one key keeps the lease the other still uses, and says so', async () => {
      const group = await groups.seeded('shared', (g) => [
        subnetIn(g, '10.5.26.0-24', '192.0.2.26', OVERDUE_TTL, SHARED_LEASE_HEX),
        subnetIn(g, '10.5.27.0-24', '192.0.2.27', OVERDUE_TTL, SHARED_LEASE_HEX),
      ]);
      const released = `${group.subnetsDir}10.5.26.0-24`;
      const kept = `${group.subnetsDir}10.5.27.0-24`;
      const keptBefore = await existingKey(etcd.endpoint, kept);

      const result = await flanctlIn(group, ['release', '10.5.26.0/24', '--yes', '--json']);

      assertExitCode(result, 0);
      const [only] = parseJsonDocument<ResultsDocument>(result.stdout).results;
      assert.equal(only.status, 'changed');
      assert.deepEqual(only.revokedLease, {
        leaseId: SHARED_LEASE_HEX,
        revoked: false,
        keptFor: [kept],
      });
      await assertKeyGone(etcd.endpoint, released);
      assert.deepEqual(await existingKey(etcd.endpoint, kept), keptBefore);
      const info = await assertLeaseAlive(etcd.endpoint, SHARED_LEASE_HEX, 'the shared lease');
      assert.deepEqual(info.keys, [kept]);

      const text = await groups.seeded('shared-text', (g) => [
        subnetIn(g, '10.5.28.0-24', '192.0.2.28', OVERDUE_TTL, '7e57000000000a02'),
        subnetIn(g, '10.5.29.0-24', '192.0.2.29', OVERDUE_TTL, '7e57000000000a02'),
      ]);
      const textResult = await flanctlIn(text, ['release', '10.5.28.0/24', '--yes']);
      assertExitCode(textResult, 0);
      assertMentions(textResult.stdout, '7e57000000000a02', `${text.subnetsDir}10.5.29.0-24`);
      assert.match(textResult.stdout, /kept|still used/i);
      await assertLeaseAlive(etcd.endpoint, '7e57000000000a02', 'the second shared lease');
    });
  });

  describe('--json and several subnets', () => {
    let group: Group;
    let overdue: KeyState;
    let live: KeyState;

    before(async () => {
      group = await groups.seeded('json', (g) => [
        subnetIn(g, '10.5.30.0-24', '192.0.2.30', OVERDUE_TTL),
        subnetIn(g, '10.5.31.0-24', '192.0.2.31', LIVE_TTL),
      ]);
      overdue = await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.30.0-24`);
      live = await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.31.0-24`);
    });

    test('one result per subnet, the rest done, exit code of the first failure', async () => {
      const result = await flanctlIn(group, [
        'release',
        '10.5.30.0/24',
        '10.5.31.0/24',
        '10.5.32.0/24',
        '--yes',
        '--json',
      ]);

      assertExitCode(result, 3);
      const document = parseJsonDocument<ResultsDocument>(result.stdout);
      assert.equal(document.journal, group.journal);
      assert.deepEqual(
        document.results.map((entry) => entry.subnet),
        ['10.5.30.0/24', '10.5.31.0/24', '10.5.32.0/24'],
      );

      const [released, refused, missing] = document.results;
      for (const entry of document.results) {
        for (const field of [
          'subnet',
          'key',
          'action',
          'ok',
          'status',
          'before',
          'after',
          'error',
          'journalId',
          'revokedLease',
        ]) {
          assert.ok(field in entry, `${field} missing in ${JSON.stringify(entry)}`);
        }
        assert.equal(entry.action, 'release');
      }

      assert.equal(released.key, overdue.key);
      assert.equal(released.ok, true);
      assert.equal(released.status, 'changed');
      assert.equal(released.error, null);
      assert.equal(released.before.exists, true);
      assert.equal(released.before.value, overdue.value.toString('utf8'));
      assert.equal(released.before.leaseId, overdue.leaseHex);
      assertTtlNear(released.before.ttlSeconds, OVERDUE_TTL, 'before.ttlSeconds');
      assert.equal(released.before.modRevision, overdue.modRevision);
      assert.equal(released.after?.exists, false);
      assert.equal(typeof released.journalId, 'string');
      assert.equal(released.revokedLease?.leaseId, overdue.leaseHex);
      assert.equal(released.revokedLease?.revoked, true);

      assert.equal(refused.key, live.key);
      assert.equal(refused.ok, false);
      assert.equal(refused.status, 'failed');
      assert.equal(refused.error?.exitCode, 3);
      assert.equal(refused.journalId, null);
      assert.equal(refused.after, null);

      assert.equal(missing.key, `${group.subnetsDir}10.5.32.0-24`);
      assert.equal(missing.ok, false);
      assert.equal(missing.error?.exitCode, 4);
      assert.equal(missing.before.exists, false);

      await assertKeyGone(etcd.endpoint, overdue.key);
      assert.deepEqual(await existingKey(etcd.endpoint, live.key), live);
      assertMentions(result.stderr, '10.5.31.0/24', '10.5.32.0/24');
      // Last, so that a failure here does not hide the checks above.
      assert.equal(document.dryRun, false, `dryRun is ${document.dryRun}`);
    });

    test('the first failure in the order given decides: not found before refused is exit 4', async () => {
      const result = await flanctlIn(group, [
        'release',
        '10.5.33.0/24',
        '10.5.31.0/24',
        '--yes',
        '--json',
      ]);

      assertExitCode(result, 4);
      const document = parseJsonDocument<ResultsDocument>(result.stdout);
      assert.deepEqual(
        document.results.map((entry) => entry.subnet),
        ['10.5.33.0/24', '10.5.31.0/24'],
      );
      assert.deepEqual(await existingKey(etcd.endpoint, live.key), live);
    });

    test('refused before not found is exit 3', async () => {
      const result = await flanctlIn(group, ['release', '10.5.31.0/24', '10.5.33.0/24', '--yes']);

      assertExitCode(result, 3);
      assert.deepEqual(await existingKey(etcd.endpoint, live.key), live);
    });
  });

  describe('the journal', () => {
    test('a release appends an intent and an applied record with the prior state', async () => {
      const group = await groups.seeded('journal', (g) => [
        subnetIn(g, '10.5.40.0-24', '192.0.2.40', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.40.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      const startedMs = Date.now();

      const result = await flanctlIn(group, ['release', '10.5.40.0/24', '--yes']);

      assertExitCode(result, 0);
      const records = readJournal(group.journal);
      assert.equal(records.length, 2, `records: ${JSON.stringify(records)}`);
      const [intent, applied] = records;

      assert.equal(intent.type, 'intent');
      assert.equal(typeof intent.id, 'string');
      const intentMs = Date.parse(intent.time as string);
      assert.ok(
        intentMs >= startedMs - 1000 && intentMs <= Date.now() + 1000,
        `intent time ${intent.time}`,
      );
      assert.equal(intent.user, os.userInfo().username);
      assert.equal(intent.host, os.hostname());
      assert.ok(Array.isArray(intent.command), 'command is not an array');
      for (const word of ['release', '10.5.40.0/24', '--yes']) {
        assert.ok((intent.command as string[]).includes(word), `${word} not in the command line`);
      }
      assert.equal(intent.prefix, group.prefix);
      assert.equal(intent.key, key);
      const prior = intent.before as Snapshot;
      assert.equal(prior.exists, true);
      assert.equal(prior.value, seeded.value.toString('utf8'));
      assert.equal(prior.leaseId, seeded.leaseHex);
      assertTtlNear(prior.ttlSeconds, OVERDUE_TTL, 'journal before.ttlSeconds');
      assert.equal(prior.modRevision, seeded.modRevision);

      assert.equal(applied.type, 'applied');
      assert.equal(applied.id, intent.id);
      assert.ok(!Number.isNaN(Date.parse(applied.time as string)), `applied time ${applied.time}`);
      assert.equal((applied.after as Snapshot).exists, false);
      assertMentions(result.stdout, intent.id as string);
      assert.ok(!fs.existsSync(group.stateHome), 'something was written to the default journal');
    });

    test('FLANCTL_JOURNAL names the journal too', async () => {
      const group = await groups.seeded('journal-env', (g) => [
        subnetIn(g, '10.5.41.0-24', '192.0.2.41', OVERDUE_TTL),
      ]);
      const file = path.join(path.dirname(group.journal), 'env.jsonl');

      const result = await flanctlIn(group, ['release', '10.5.41.0/24', '--yes'], {
        journal: false,
        env: { FLANCTL_JOURNAL: file },
      });

      assertExitCode(result, 0);
      assert.equal(appliedCount(file), 1);
      assert.ok(!fs.existsSync(group.stateHome), 'something was written to the default journal');
    });

    for (const [what, place] of [
      ['a path under a regular file', (dir: string) => path.join(dir, 'plain-file', 'j.jsonl')],
      ['a directory', (dir: string) => dir],
    ] as const) {
      test(`a journal that cannot be written (${what}) stops the change: exit 2`, async () => {
        const group = await groups.seeded('journal-bad', (g) => [
          subnetIn(g, '10.5.42.0-24', '192.0.2.42', OVERDUE_TTL),
        ]);
        const dir = path.dirname(group.journal);
        fs.writeFileSync(path.join(dir, 'plain-file'), 'not a directory\n');
        const bad = place(dir);
        const key = `${group.subnetsDir}10.5.42.0-24`;
        const seeded = await existingKey(etcd.endpoint, key);

        const result = await flanctlIn(group, ['release', '10.5.42.0/24', '--yes'], {
          journal: bad,
        });

        assertExitCode(result, 2);
        assert.equal(result.stdout, '');
        assertMentions(result.stderr, bad);
        assert.deepEqual(await existingKey(etcd.endpoint, key), seeded);
        await assertLeaseAlive(
          etcd.endpoint,
          seeded.leaseHex as string,
          'the lease of the kept key',
        );
      });
    }
  });
});
