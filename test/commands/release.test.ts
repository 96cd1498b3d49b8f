// `flanctl release` run as a subprocess against a private etcd: the field cases C08 and C09, the
// renew-margin rule, confirmation off a terminal, selection by --overdue and --public-ip, shared
// leases, the --json results and the journal. Every group seeds its own prefix and journal.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { type CliResult, runCli } from '../helpers/cli.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import {
  type SeedEntry,
  hexLeaseIdToDecimal,
  loadCaseState,
  seedState,
  withRawClient,
} from '../helpers/seed.js';

const CASE_PREFIX = '/coreos.com/network';
const CONFIG_VALUE = '{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}';
// Seeded TTLs are remaining seconds at seed time; a few seconds pass before flanctl reads them.
const TTL_SLACK_SECONDS = 120;
const LIVE_TTL = 36_000;
const OVERDUE_TTL = 1_800;
// A lease id of our own for the shared-lease group; lease ids are global in one etcd.
const SHARED_LEASE_HEX = '7e57000000000a01';

interface KeyState {
  key: string;
  value: Buffer;
  leaseHex: string | null;
  modRevision: number;
}

interface LeaseInfo {
  ttl: number;
  grantedTtl: number;
  keys: string[];
}

interface Snapshot {
  exists: boolean;
  value: string | null;
  leaseId: string | null;
  ttlSeconds: number | null;
  grantedTtlSeconds?: number | null;
  modRevision: number | null;
}

interface ResultJson {
  subnet: string;
  key: string;
  action: string;
  ok: boolean;
  status: string;
  before: Snapshot;
  after: Snapshot | null;
  error: { kind: string; exitCode: number; message: string } | null;
  journalId: string | null;
  revokedLease: { leaseId: string; revoked: boolean; keptFor: string[] } | null;
}

interface ResultsDocument {
  dryRun: boolean;
  journal: string | null;
  results: ResultJson[];
}

interface Group {
  prefix: string;
  subnetsDir: string;
  journal: string;
  stateHome: string;
}

let etcd: EtcdServer;
let tmpRoot: string;
let groupCount = 0;

// 16 hex digits, leading zeros included, as etcdctl and flanctl print a lease id.
function leaseHex(decimal: string): string | null {
  const id = BigInt(decimal);
  return id === 0n ? null : BigInt.asUintN(64, id).toString(16).padStart(16, '0');
}

function subnetValue(publicIP: string, mac: string): string {
  return JSON.stringify({
    PublicIP: publicIP,
    PublicIPv6: null,
    BackendType: 'vxlan',
    BackendData: { VNI: 1, VtepMAC: mac },
  });
}

// One subnet key as flanneld writes it: `name` is 10.5.1.0-24, ttl null for a reservation.
function subnet(
  group: Group,
  name: string,
  publicIP: string,
  ttl: number | null,
  lease?: string,
): SeedEntry {
  const mac = `00:00:5e:10:${name.split('.')[2].padStart(2, '0').slice(-2)}:01`;
  const entry: SeedEntry = { key: group.subnetsDir + name, value: subnetValue(publicIP, mac), ttl };
  if (lease !== undefined) entry.lease = lease;
  return entry;
}

function makeGroup(name: string): Group {
  groupCount += 1;
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
  const prefix = `/t-release-${groupCount}-${name}${CASE_PREFIX}`;
  return {
    prefix,
    subnetsDir: `${prefix}/subnets/`,
    journal: path.join(dir, 'j.jsonl'),
    stateHome: path.join(dir, 'state'),
  };
}

// A group with the network config and the given keys; the builder sees the group for key names.
async function seededGroup(
  name: string,
  build: (group: Group) => SeedEntry[] = () => [],
): Promise<Group> {
  const group = makeGroup(name);
  const entries = [
    { key: `${group.prefix}/config`, value: CONFIG_VALUE, ttl: null },
    ...build(group),
  ];
  await seedState(etcd.endpoint, entries);
  return group;
}

async function caseGroup(caseId: string): Promise<Group> {
  const group = makeGroup(caseId.toLowerCase());
  await seedState(etcd.endpoint, loadCaseState(caseId), {
    rewritePrefix: { from: CASE_PREFIX, to: group.prefix },
  });
  return group;
}

// XDG_STATE_HOME points into the group's temp dir, so even a journal flag that went missing
// could never write into the home directory.
function flanctl(
  group: Group,
  args: string[],
  options: { journal?: string | false; env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  const journal = options.journal === false ? [] : ['--journal', options.journal ?? group.journal];
  return runCli([...args, '--endpoints', etcd.endpoint, '--prefix', group.prefix, ...journal], {
    env: { XDG_STATE_HOME: group.stateHome, ...options.env },
    stdin: options.stdin,
  });
}

async function readPrefix(prefix: string): Promise<KeyState[]> {
  const response = await withRawClient(etcd.endpoint, (client) =>
    client.getAll().prefix(`${prefix}/`).exec(),
  );
  return response.kvs
    .map((kv) => ({
      key: kv.key.toString('utf8'),
      value: kv.value,
      leaseHex: leaseHex(kv.lease),
      modRevision: Number(kv.mod_revision),
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function keyState(key: string): Promise<KeyState | undefined> {
  const response = await withRawClient(etcd.endpoint, (client) =>
    client.kv.range({ key: Buffer.from(key, 'utf8') }),
  );
  const kv = response.kvs[0];
  if (kv === undefined) return undefined;
  return {
    key,
    value: kv.value,
    leaseHex: leaseHex(kv.lease),
    modRevision: Number(kv.mod_revision),
  };
}

async function leaseInfo(hex: string): Promise<LeaseInfo> {
  const answer = await withRawClient(etcd.endpoint, (client) =>
    client.leaseClient.leaseTimeToLive({ ID: hexLeaseIdToDecimal(hex), keys: true }),
  );
  return {
    ttl: Number(answer.TTL),
    grantedTtl: Number(answer.grantedTTL),
    keys: answer.keys.map((key) => key.toString('utf8')).sort(),
  };
}

async function assertLeaseRevoked(hex: string, what: string): Promise<void> {
  const info = await leaseInfo(hex);
  assert.equal(info.ttl, -1, `${what}: lease ${hex} still exists with TTL ${info.ttl}`);
}

async function assertLeaseAlive(hex: string, what: string): Promise<LeaseInfo> {
  const info = await leaseInfo(hex);
  assert.ok(info.ttl > 0, `${what}: lease ${hex} is gone (TTL ${info.ttl})`);
  return info;
}

async function existingKey(key: string): Promise<KeyState> {
  const state = await keyState(key);
  assert.ok(state, `${key} is missing`);
  return state;
}

async function assertKeyGone(key: string): Promise<void> {
  assert.equal(await keyState(key), undefined, `${key} still exists`);
}

function assertTtlNear(actual: number | null | undefined, seeded: number, what: string): void {
  assert.ok(
    typeof actual === 'number' && actual <= seeded && actual >= seeded - TTL_SLACK_SECONDS,
    `${what}: TTL ${actual} is not within ${TTL_SLACK_SECONDS}s below ${seeded}`,
  );
}

// Go's duration text as flanctl prints it: 10h8m20s, 29m58s, 45s.
function durationSeconds(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)s$/.exec(text);
  assert.ok(match, `${JSON.stringify(text)} is not a duration such as 10h8m20s`);
  const [hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return hours * 3600 + minutes * 60 + seconds;
}

function durationsIn(text: string): number[] {
  return [...text.matchAll(/\b(?:\d+h)?(?:\d+m)?\d+s\b/g)].map((match) =>
    durationSeconds(match[0]),
  );
}

function parseResults(result: CliResult): ResultsDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch (error) {
    assert.fail(`stdout is not one JSON document (${(error as Error).message}): ${result.stdout}`);
  }
  return parsed as ResultsDocument;
}

function journalRecords(file: string): Array<Record<string, unknown>> {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function appliedCount(file: string): number {
  return journalRecords(file).filter((record) => record.type === 'applied').length;
}

function assertCode(result: CliResult, code: number): void {
  assert.equal(
    result.code,
    code,
    `exit code ${result.code}, expected ${code}; stdout: ${result.stdout}; stderr: ${result.stderr}`,
  );
}

function assertMentions(text: string, ...parts: string[]): void {
  for (const part of parts) {
    assert.ok(text.includes(part), `${JSON.stringify(part)} not in: ${text}`);
  }
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
      group = await caseGroup('C08');
      seeded = await readPrefix(group.prefix);
    });

    test('(b) without --force a live lease is refused: exit 3, expiry named, nothing deleted', async () => {
      const startedMs = Date.now();
      const result = await flanctl(group, ['release', '10.5.2.0/24', '--yes']);

      assertCode(result, 3);
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
      assert.deepEqual(await readPrefix(group.prefix), seeded);
      assert.equal(appliedCount(group.journal), 0);
    });

    test('without --yes and no terminal: exit 2 at once, asks for --yes, nothing deleted', async () => {
      const result = await flanctl(group, ['release', '10.5.2.0/24', '--force']);

      assertCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '--yes');
      assert.deepEqual(await readPrefix(group.prefix), seeded);
      await assertLeaseAlive('694d854330fc5152', 'the lease of 10.5.2.0/24');
    });

    test('(b) --yes --force deletes exactly that key, prints host and TTL, revokes its lease', async () => {
      const result = await flanctl(group, ['release', '10.5.2.0/24', '--yes', '--force']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.2.0/24', '203.0.113.12');
      const ttls = durationsIn(result.stdout);
      assert.ok(
        ttls.some((ttl) => ttl <= 36_500 && ttl >= 36_500 - TTL_SLACK_SECONDS),
        `no remaining TTL near 36500s in: ${result.stdout}`,
      );
      assert.match(result.stdout, /revoked lease 694d854330fc5152/);
      assert.ok(!result.stdout.includes('10.5.1.0'), `other subnets in stdout: ${result.stdout}`);
      assert.match(result.stderr, /--force/);

      await assertKeyGone(live());
      await assertLeaseRevoked('694d854330fc5152', 'the released lease');
      const expected = loadCaseState('C08', 'expected-state-after.json')
        .map((entry) => ({
          key: group.prefix + entry.key.slice(CASE_PREFIX.length),
          value: entry.value,
          lease: entry.lease?.toLowerCase() ?? null,
        }))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      const now = await readPrefix(group.prefix);
      assert.deepEqual(comparable(now), expected);
      // The keys that stay were not rewritten either.
      const untouched = seeded.filter((state) => state.key !== live());
      assert.deepEqual(now, untouched);
      assertTtlNear((await leaseInfo('694d854330fc5151')).ttl, 36_000, '10.5.1.0/24');
    });

    test('(c) again: exit 4 with a not-found message, nothing else deleted', async () => {
      const beforeRun = await readPrefix(group.prefix);
      const result = await flanctl(group, ['release', '10.5.2.0/24', '--yes']);

      assertCode(result, 4);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.2.0/24');
      assert.match(result.stderr, /not found|no key/i);
      assert.deepEqual(await readPrefix(group.prefix), beforeRun);
    });

    test('(c) with --ignore-not-found a missing key is exit 0', async () => {
      const beforeRun = await readPrefix(group.prefix);
      const result = await flanctl(group, [
        'release',
        '10.5.2.0/24',
        '--yes',
        '--ignore-not-found',
      ]);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.2.0/24');
      assert.doesNotMatch(result.stderr, /error/);
      assert.deepEqual(await readPrefix(group.prefix), beforeRun);
    });

    test('(d) a reservation is refused without --force: exit 3, state unchanged', async () => {
      const beforeRun = await readPrefix(group.prefix);
      const result = await flanctl(group, ['release', '10.5.3.0/24', '--yes']);

      assertCode(result, 3);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.3.0/24', 'reservation', '--force');
      assert.deepEqual(await readPrefix(group.prefix), beforeRun);
    });

    test('(e) --force releases the reservation: exit 0', async () => {
      const result = await flanctl(group, ['release', '10.5.3.0/24', '--yes', '--force']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.3.0/24', '203.0.113.13');
      await assertKeyGone(reservation());
      const left = (await readPrefix(group.prefix)).map((state) => state.key);
      assert.deepEqual(left, [`${group.prefix}/config`, `${group.subnetsDir}10.5.1.0-24`]);
      await assertLeaseAlive('694d854330fc5151', 'the lease of 10.5.1.0/24');
    });
  });

  describe('C09: a dual-stack key', () => {
    test('release 10.5.34.0/24 --yes --force deletes exactly the combined key', async () => {
      const group = await caseGroup('C09');
      const seeded = await readPrefix(group.prefix);
      const combined = `${group.subnetsDir}10.5.34.0-24&fc00:0:0:22::-64`;

      const result = await flanctl(group, ['release', '10.5.34.0/24', '--yes', '--force']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.34.0/24', '192.0.2.34');
      await assertKeyGone(combined);
      await assertLeaseRevoked('694d854330fc5160', 'the combined key lease');
      assert.deepEqual(
        await readPrefix(group.prefix),
        seeded.filter((state) => state.key !== combined),
      );
      await assertLeaseAlive('694d854330fc5161', 'the uppercase key lease');
      await assertLeaseAlive('694d854330fc5162', 'the IPv4-only key lease');
    });
  });

  describe('confirmation and --dry-run', () => {
    test('an overdue lease without --yes off a terminal: exit 2, key and lease kept', async () => {
      const group = await seededGroup('no-yes', (g) => [
        subnet(g, '10.5.11.0-24', '192.0.2.11', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.11.0-24`;
      const seeded = await existingKey(key);

      const result = await flanctl(group, ['release', '10.5.11.0/24']);

      assertCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '--yes');
      assert.deepEqual(await existingKey(key), seeded);
      await assertLeaseAlive(seeded.leaseHex as string, 'the overdue lease');
      assert.equal(appliedCount(group.journal), 0);
    });

    test('--dry-run needs no --yes, prints the plan and changes nothing', async () => {
      const group = await seededGroup('dry-run', (g) => [
        subnet(g, '10.5.12.0-24', '192.0.2.12', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.12.0-24`;
      const seeded = await existingKey(key);

      const result = await flanctl(group, ['release', '10.5.12.0/24', '--dry-run']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.12.0/24', key, seeded.leaseHex as string);
      assert.deepEqual(await existingKey(key), seeded);
      await assertLeaseAlive(seeded.leaseHex as string, 'the overdue lease');
      assert.equal(appliedCount(group.journal), 0);

      const json = await flanctl(group, ['release', '10.5.12.0/24', '--dry-run', '--json']);
      assertCode(json, 0);
      const document = parseResults(json);
      assert.equal(document.dryRun, true);
      assert.equal(document.results.length, 1);
      assert.equal(document.results[0].status, 'planned');
      assert.equal(document.results[0].ok, true);
      assert.equal(document.results[0].after, null);
      assert.deepEqual(await existingKey(key), seeded);
    });
  });

  describe('the renew margin', () => {
    test('an overdue lease is released with --yes and no --force', async () => {
      const group = await seededGroup('overdue', (g) => [
        subnet(g, '10.5.13.0-24', '192.0.2.13', OVERDUE_TTL),
        subnet(g, '10.5.14.0-24', '192.0.2.14', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.13.0-24`;
      const seeded = await existingKey(key);
      const other = await existingKey(`${group.subnetsDir}10.5.14.0-24`);

      const result = await flanctl(group, ['release', '10.5.13.0/24', '--yes']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.13.0/24', '192.0.2.13');
      assert.doesNotMatch(result.stderr, /error/);
      await assertKeyGone(key);
      await assertLeaseRevoked(seeded.leaseHex as string, 'the overdue lease');
      assert.deepEqual(await existingKey(other.key), other);
    });

    test('--renew-margin 20m makes a lease with 30m left live: refused', async () => {
      const group = await seededGroup('margin-20m', (g) => [
        subnet(g, '10.5.15.0-24', '192.0.2.15', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.15.0-24`;
      const seeded = await existingKey(key);

      const result = await flanctl(group, [
        'release',
        '10.5.15.0/24',
        '--yes',
        '--renew-margin',
        '20m',
      ]);

      assertCode(result, 3);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '10.5.15.0/24', '--force');
      assert.deepEqual(await existingKey(key), seeded);
      await assertLeaseAlive(seeded.leaseHex as string, 'the refused lease');
    });

    test('--renew-margin 12h makes a lease with 10h left overdue: released', async () => {
      const group = await seededGroup('margin-12h', (g) => [
        subnet(g, '10.5.16.0-24', '192.0.2.16', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.16.0-24`;

      const result = await flanctl(group, [
        'release',
        '10.5.16.0/24',
        '--yes',
        '--renew-margin',
        '12h',
      ]);

      assertCode(result, 0);
      await assertKeyGone(key);
    });

    test('--overdue --yes releases every overdue lease and nothing else', async () => {
      const group = await seededGroup('overdue-bulk', (g) => [
        subnet(g, '10.5.17.0-24', '192.0.2.17', LIVE_TTL),
        subnet(g, '10.5.18.0-24', '192.0.2.18', OVERDUE_TTL),
        subnet(g, '10.5.19.0-24', '192.0.2.19', 600),
        subnet(g, '10.5.20.0-24', '192.0.2.20', null),
      ]);
      const seeded = await readPrefix(group.prefix);
      const overdueKeys = [`${group.subnetsDir}10.5.18.0-24`, `${group.subnetsDir}10.5.19.0-24`];
      const overdueLeases = seeded
        .filter((state) => overdueKeys.includes(state.key))
        .map((state) => state.leaseHex as string);

      const planned = await flanctl(group, ['release', '--overdue', '--dry-run']);
      assertCode(planned, 0);
      assertMentions(planned.stdout, '10.5.18.0/24', '10.5.19.0/24');
      for (const kept of ['10.5.17.0/24', '10.5.20.0/24']) {
        assert.ok(!planned.stdout.includes(kept), `${kept} in the plan: ${planned.stdout}`);
      }
      assert.deepEqual(await readPrefix(group.prefix), seeded);

      const result = await flanctl(group, ['release', '--overdue', '--yes']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.18.0/24', '10.5.19.0/24');
      assert.deepEqual(
        await readPrefix(group.prefix),
        seeded.filter((state) => !overdueKeys.includes(state.key)),
      );
      for (const lease of overdueLeases) await assertLeaseRevoked(lease, 'an overdue lease');
    });

    test('--public-ip releases what that host holds, under the same rules', async () => {
      const group = await seededGroup('public-ip', (g) => [
        subnet(g, '10.5.21.0-24', '192.0.2.21', OVERDUE_TTL),
        subnet(g, '10.5.22.0-24', '192.0.2.22', LIVE_TTL),
        subnet(g, '10.5.23.0-24', '192.0.2.23', OVERDUE_TTL),
      ]);
      const seeded = await readPrefix(group.prefix);
      const overdueKey = `${group.subnetsDir}10.5.21.0-24`;

      const result = await flanctl(group, ['release', '--public-ip', '192.0.2.21', '--yes']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.21.0/24', '192.0.2.21');
      assert.deepEqual(
        await readPrefix(group.prefix),
        seeded.filter((state) => state.key !== overdueKey),
      );

      const refused = await flanctl(group, ['release', '--public-ip', '192.0.2.22', '--yes']);

      assertCode(refused, 3);
      assertMentions(refused.stderr, '10.5.22.0/24', '--force');
      await existingKey(`${group.subnetsDir}10.5.22.0-24`);
      assert.equal((await readPrefix(group.prefix)).length, seeded.length - 1);
    });

    test('- reads the subnets from stdin', async () => {
      const group = await seededGroup('stdin', (g) => [
        subnet(g, '10.5.24.0-24', '192.0.2.24', OVERDUE_TTL),
        subnet(g, '10.5.25.0-24', '192.0.2.25', OVERDUE_TTL),
      ]);

      const result = await flanctl(group, ['release', '-', '--yes'], { stdin: '10.5.24.0/24\n' });

      assertCode(result, 0);
      await assertKeyGone(`${group.subnetsDir}10.5.24.0-24`);
      await existingKey(`${group.subnetsDir}10.5.25.0-24`);
    });
  });

  describe('a lease shared by two keys', () => {
    test('releasing one key keeps the lease the other still uses, and says so', async () => {
      const group = await seededGroup('shared', (g) => [
        subnet(g, '10.5.26.0-24', '192.0.2.26', OVERDUE_TTL, SHARED_LEASE_HEX),
        subnet(g, '10.5.27.0-24', '192.0.2.27', OVERDUE_TTL, SHARED_LEASE_HEX),
      ]);
      const released = `${group.subnetsDir}10.5.26.0-24`;
      const kept = `${group.subnetsDir}10.5.27.0-24`;
      const keptBefore = await existingKey(kept);

      const result = await flanctl(group, ['release', '10.5.26.0/24', '--yes', '--json']);

      assertCode(result, 0);
      const [only] = parseResults(result).results;
      assert.equal(only.status, 'changed');
      assert.deepEqual(only.revokedLease, {
        leaseId: SHARED_LEASE_HEX,
        revoked: false,
        keptFor: [kept],
      });
      await assertKeyGone(released);
      assert.deepEqual(await existingKey(kept), keptBefore);
      const info = await assertLeaseAlive(SHARED_LEASE_HEX, 'the shared lease');
      assert.deepEqual(info.keys, [kept]);

      const text = await seededGroup('shared-text', (g) => [
        subnet(g, '10.5.28.0-24', '192.0.2.28', OVERDUE_TTL, '7e57000000000a02'),
        subnet(g, '10.5.29.0-24', '192.0.2.29', OVERDUE_TTL, '7e57000000000a02'),
      ]);
      const textResult = await flanctl(text, ['release', '10.5.28.0/24', '--yes']);
      assertCode(textResult, 0);
      assertMentions(textResult.stdout, '7e57000000000a02', `${text.subnetsDir}10.5.29.0-24`);
      assert.match(textResult.stdout, /kept|still used/i);
      await assertLeaseAlive('7e57000000000a02', 'the second shared lease');
    });
  });

  describe('--json and several subnets', () => {
    let group: Group;
    let overdue: KeyState;
    let live: KeyState;

    before(async () => {
      group = await seededGroup('json', (g) => [
        subnet(g, '10.5.30.0-24', '192.0.2.30', OVERDUE_TTL),
        subnet(g, '10.5.31.0-24', '192.0.2.31', LIVE_TTL),
      ]);
      overdue = await existingKey(`${group.subnetsDir}10.5.30.0-24`);
      live = await existingKey(`${group.subnetsDir}10.5.31.0-24`);
    });

    test('one result per subnet, the rest done, exit code of the first failure', async () => {
      const result = await flanctl(group, [
        'release',
        '10.5.30.0/24',
        '10.5.31.0/24',
        '10.5.32.0/24',
        '--yes',
        '--json',
      ]);

      assertCode(result, 3);
      const document = parseResults(result);
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

      await assertKeyGone(overdue.key);
      assert.deepEqual(await existingKey(live.key), live);
      assertMentions(result.stderr, '10.5.31.0/24', '10.5.32.0/24');
      // Last, so that a failure here does not hide the checks above.
      assert.equal(document.dryRun, false, `dryRun is ${document.dryRun}`);
    });

    test('the first failure in the order given decides: not found before refused is exit 4', async () => {
      const result = await flanctl(group, [
        'release',
        '10.5.33.0/24',
        '10.5.31.0/24',
        '--yes',
        '--json',
      ]);

      assertCode(result, 4);
      const document = parseResults(result);
      assert.deepEqual(
        document.results.map((entry) => entry.subnet),
        ['10.5.33.0/24', '10.5.31.0/24'],
      );
      assert.deepEqual(await existingKey(live.key), live);
    });

    test('refused before not found is exit 3', async () => {
      const result = await flanctl(group, ['release', '10.5.31.0/24', '10.5.33.0/24', '--yes']);

      assertCode(result, 3);
      assert.deepEqual(await existingKey(live.key), live);
    });
  });

  describe('the journal', () => {
    test('a release appends an intent and an applied record with the prior state', async () => {
      const group = await seededGroup('journal', (g) => [
        subnet(g, '10.5.40.0-24', '192.0.2.40', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.40.0-24`;
      const seeded = await existingKey(key);
      const startedMs = Date.now();

      const result = await flanctl(group, ['release', '10.5.40.0/24', '--yes']);

      assertCode(result, 0);
      const records = journalRecords(group.journal);
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
      const group = await seededGroup('journal-env', (g) => [
        subnet(g, '10.5.41.0-24', '192.0.2.41', OVERDUE_TTL),
      ]);
      const file = path.join(path.dirname(group.journal), 'env.jsonl');

      const result = await flanctl(group, ['release', '10.5.41.0/24', '--yes'], {
        journal: false,
        env: { FLANCTL_JOURNAL: file },
      });

      assertCode(result, 0);
      assert.equal(appliedCount(file), 1);
      assert.ok(!fs.existsSync(group.stateHome), 'something was written to the default journal');
    });

    for (const [what, place] of [
      ['a path under a regular file', (dir: string) => path.join(dir, 'plain-file', 'j.jsonl')],
      ['a directory', (dir: string) => dir],
    ] as const) {
      test(`a journal that cannot be written (${what}) stops the change: exit 2`, async () => {
        const group = await seededGroup('journal-bad', (g) => [
          subnet(g, '10.5.42.0-24', '192.0.2.42', OVERDUE_TTL),
        ]);
        const dir = path.dirname(group.journal);
        fs.writeFileSync(path.join(dir, 'plain-file'), 'not a directory\n');
        const bad = place(dir);
        const key = `${group.subnetsDir}10.5.42.0-24`;
        const seeded = await existingKey(key);

        const result = await flanctl(group, ['release', '10.5.42.0/24', '--yes'], {
          journal: bad,
        });

        assertCode(result, 2);
        assert.equal(result.stdout, '');
        assertMentions(result.stderr, bad);
        assert.deepEqual(await existingKey(key), seeded);
        await assertLeaseAlive(seeded.leaseHex as string, 'the lease of the kept key');
      });
    }
  });
});
