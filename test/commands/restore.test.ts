// `flanctl restore` run as a subprocess against a private etcd: undoing release, reserve,
// unreserve and a pre-assignment; choosing entries; refusing keys that changed since; and
// journals that are empty, missing or partly unreadable. Every group has its own prefix and
// journal in a temp dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { type CliResult, runCli } from '../helpers/cli.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { type SeedEntry, hexLeaseIdToDecimal, seedState, withRawClient } from '../helpers/seed.js';

const CASE_PREFIX = '/coreos.com/network';
const CONFIG_VALUE = '{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}';
const LIVE_TTL = 36_000;
const OVERDUE_TTL = 1_800;
// Seeded TTLs are remaining seconds at seed time; a few seconds pass before flanctl reads them.
const TTL_SLACK_SECONDS = 120;
// A restored lease is granted the recorded remaining TTL; it has run for a moment since.
const RESTORED_TTL_SLACK_SECONDS = 30;

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
  modRevision: number | null;
}

interface JournalRecord {
  type: string;
  id: string;
  time: string;
  action?: string;
  subnet?: string;
  key?: string;
  before?: Snapshot;
  after?: Snapshot;
  [field: string]: unknown;
}

interface ResultJson {
  subnet: string;
  key: string;
  action: string;
  ok: boolean;
  status: string;
  before: Snapshot;
  after: Snapshot | null;
  journalId: string | null;
  error: { exitCode: number; message: string } | null;
}

interface Group {
  prefix: string;
  subnetsDir: string;
  dir: string;
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

function subnet(group: Group, name: string, publicIP: string, ttl: number | null): SeedEntry {
  const mac = `00:00:5e:10:${name.split('.')[2].padStart(2, '0').slice(-2)}:01`;
  return { key: group.subnetsDir + name, value: subnetValue(publicIP, mac), ttl };
}

async function seededGroup(
  name: string,
  build: (group: Group) => SeedEntry[] = () => [],
): Promise<Group> {
  groupCount += 1;
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
  const prefix = `/t-restore-${groupCount}-${name}${CASE_PREFIX}`;
  const group: Group = {
    prefix,
    subnetsDir: `${prefix}/subnets/`,
    dir,
    journal: path.join(dir, 'j.jsonl'),
    stateHome: path.join(dir, 'state'),
  };
  const entries = [{ key: `${prefix}/config`, value: CONFIG_VALUE, ttl: null }, ...build(group)];
  await seedState(etcd.endpoint, entries);
  return group;
}

// XDG_STATE_HOME points into the group's temp dir, so even a journal flag that went missing
// could never write into the home directory.
function flanctl(
  group: Group,
  args: string[],
  options: { journal?: string | false; stdin?: string } = {},
): Promise<CliResult> {
  const journal = options.journal === false ? [] : ['--journal', options.journal ?? group.journal];
  return runCli([...args, '--endpoints', etcd.endpoint, '--prefix', group.prefix, ...journal], {
    env: { XDG_STATE_HOME: group.stateHome },
    stdin: options.stdin,
  });
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

async function existingKey(key: string): Promise<KeyState> {
  const state = await keyState(key);
  assert.ok(state, `${key} is missing`);
  return state;
}

async function assertKeyGone(key: string): Promise<void> {
  assert.equal(await keyState(key), undefined, `${key} still exists`);
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

// A put as flanneld's renewal does it: a fresh lease, the same key.
async function renewLikeFlanneld(key: string, value: Buffer, ttl: number): Promise<string> {
  return withRawClient(etcd.endpoint, async (client) => {
    const granted = await client.leaseClient.leaseGrant({ TTL: ttl, ID: '0' });
    await client.kv.put({ key: Buffer.from(key, 'utf8'), value, lease: granted.ID });
    return leaseHex(granted.ID) as string;
  });
}

async function putPlain(key: string, value: string): Promise<void> {
  await withRawClient(etcd.endpoint, (client) =>
    client.kv.put({ key: Buffer.from(key, 'utf8'), value: Buffer.from(value, 'utf8') }),
  );
}

// The key is a lease again with the value it had, under a new etcd lease holding close to the
// remaining TTL the journal recorded.
async function assertRestoredLease(
  key: string,
  value: Buffer,
  recordedTtl: number,
  oldLeaseHex: string | null,
): Promise<string> {
  const state = await existingKey(key);
  assert.ok(state.value.equals(value), `value ${state.value} is not ${value}`);
  assert.ok(state.leaseHex, `${key} has no etcd lease`);
  assert.notEqual(state.leaseHex, oldLeaseHex, 'the old lease id came back');
  const info = await leaseInfo(state.leaseHex);
  assert.ok(
    info.ttl <= recordedTtl && info.ttl >= recordedTtl - RESTORED_TTL_SLACK_SECONDS,
    `restored TTL ${info.ttl} is not close to the recorded ${recordedTtl}`,
  );
  assert.deepEqual(info.keys, [key]);
  return state.leaseHex;
}

function journalRecords(file: string): JournalRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as JournalRecord);
}

function intents(file: string): JournalRecord[] {
  return journalRecords(file).filter((record) => record.type === 'intent');
}

function lastIntentFor(file: string, key: string): JournalRecord {
  const found = intents(file).filter((record) => record.key === key);
  assert.ok(found.length > 0, `no journal intent for ${key}`);
  return found[found.length - 1];
}

function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch (error) {
    assert.fail(`stdout is not one JSON document (${(error as Error).message}): ${result.stdout}`);
  }
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

async function mustRun(group: Group, args: string[]): Promise<CliResult> {
  const result = await flanctl(group, args);
  assertCode(result, 0);
  return result;
}

before(async () => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-restore-test-'));
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

describe('flanctl restore', () => {
  describe('round trips', () => {
    test('after release: the key comes back byte-identical under a new lease with its TTL', async () => {
      // Spacing that a decode and re-encode would change, to catch anything but a byte copy.
      const value =
        '{"PublicIP": "192.0.2.50",  "BackendType":"vxlan","BackendData":{"VtepMAC":"00:00:5e:10:50:01"}}';
      const group = await seededGroup('after-release', (g) => [
        { key: `${g.subnetsDir}10.5.50.0-24`, value, ttl: OVERDUE_TTL },
      ]);
      const key = `${group.subnetsDir}10.5.50.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['release', '10.5.50.0/24', '--yes']);
      await assertKeyGone(key);
      const recorded = lastIntentFor(group.journal, key).before as Snapshot;

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.50.0/24');
      assert.match(result.stdout, /restore --entry \S+/);
      assert.ok(recorded.ttlSeconds !== null && recorded.ttlSeconds <= OVERDUE_TTL);
      await assertRestoredLease(key, seeded.value, recorded.ttlSeconds, seeded.leaseHex);
      assert.ok(
        (recorded.ttlSeconds as number) >= OVERDUE_TTL - TTL_SLACK_SECONDS,
        `recorded TTL ${recorded.ttlSeconds}`,
      );
    });

    test('after reserve: restore makes it a lease again with the same value', async () => {
      const group = await seededGroup('after-reserve', (g) => [
        subnet(g, '10.5.51.0-24', '192.0.2.51', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.51.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['reserve', '10.5.51.0/24']);
      assert.equal((await existingKey(key)).leaseHex, null, 'reserve left a lease');
      const recorded = lastIntentFor(group.journal, key).before as Snapshot;

      const result = await flanctl(group, ['restore', '--yes', '--json']);

      assertCode(result, 0);
      const restoredLease = await assertRestoredLease(
        key,
        seeded.value,
        recorded.ttlSeconds as number,
        seeded.leaseHex,
      );
      const document = parseJson<{ dryRun: boolean; results: ResultJson[] }>(result);
      assert.equal(document.results.length, 1);
      const [only] = document.results;
      assert.equal(only.action, 'restore');
      assert.equal(only.ok, true);
      assert.equal(only.status, 'changed');
      assert.equal(only.key, key);
      assert.equal(only.subnet, '10.5.51.0/24');
      assert.equal(only.before.leaseId, null);
      assert.equal(only.after?.exists, true);
      assert.equal(only.after?.leaseId, restoredLease);
      assert.equal(typeof only.journalId, 'string');
      assert.equal(only.error, null);
    });

    test('after unreserve: a reservation again, and the lease unreserve granted is revoked', async () => {
      const group = await seededGroup('after-unreserve', (g) => [
        subnet(g, '10.5.52.0-24', '192.0.2.52', null),
      ]);
      const key = `${group.subnetsDir}10.5.52.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['unreserve', '10.5.52.0/24']);
      const granted = (await existingKey(key)).leaseHex;
      assert.ok(granted, 'unreserve granted no lease');

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 0);
      const state = await existingKey(key);
      assert.ok(state.value.equals(seeded.value), `value ${state.value}`);
      assert.equal(state.leaseHex, null, 'the key still has an etcd lease');
      await assertLeaseRevoked(granted, 'the lease unreserve granted');
    });

    test('a pre-assigned reservation: restore deletes it', async () => {
      const group = await seededGroup('after-preassign', (g) => [
        subnet(g, '10.5.53.0-24', '192.0.2.53', LIVE_TTL),
      ]);
      const other = await existingKey(`${group.subnetsDir}10.5.53.0-24`);
      const key = `${group.subnetsDir}10.5.7.0-24`;
      await mustRun(group, ['reserve', '10.5.7.0/24', '--public-ip', '192.0.2.17']);
      const created = await existingKey(key);
      assert.equal(created.leaseHex, null);

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.7.0/24');
      await assertKeyGone(key);
      assert.deepEqual(await existingKey(other.key), other);
    });
  });

  describe('choosing entries', () => {
    test('--list lists the entries, as text and as JSON, and changes nothing', async () => {
      const group = await seededGroup('list', (g) => [
        subnet(g, '10.5.54.0-24', '192.0.2.54', OVERDUE_TTL),
        subnet(g, '10.5.55.0-24', '192.0.2.55', OVERDUE_TTL),
      ]);
      await mustRun(group, ['release', '10.5.54.0/24', '10.5.55.0/24', '--yes']);
      const ids = intents(group.journal).map((record) => record.id);
      assert.equal(ids.length, 2);
      const journalBytes = fs.readFileSync(group.journal);

      const text = await flanctl(group, ['restore', '--list']);

      assertCode(text, 0);
      assertMentions(text.stdout, ...ids, 'release', '10.5.54.0/24', '10.5.55.0/24');

      const json = await flanctl(group, ['restore', '--list', '--json']);

      assertCode(json, 0);
      const { entries } = parseJson<{ entries: JournalRecord[] }>(json);
      assert.deepEqual(
        entries.map((entry) => entry.id),
        ids,
      );
      for (const entry of entries) {
        assert.equal(entry.action, 'release');
        assert.equal(entry.prefix, group.prefix);
        assert.equal(entry.user, os.userInfo().username);
        assert.equal(entry.host, os.hostname());
        assert.ok(Array.isArray(entry.command), 'command is not an array');
        assert.equal(entry.before?.exists, true);
        assert.ok(!Number.isNaN(Date.parse(entry.time)), `time ${entry.time}`);
      }
      assert.deepEqual(
        entries.map((entry) => entry.key),
        [`${group.subnetsDir}10.5.54.0-24`, `${group.subnetsDir}10.5.55.0-24`],
      );

      const positional = await flanctl(group, ['restore', group.journal, '--list'], {
        journal: false,
      });
      assertCode(positional, 0);
      assertMentions(positional.stdout, ...ids);

      await assertKeyGone(`${group.subnetsDir}10.5.54.0-24`);
      await assertKeyGone(`${group.subnetsDir}10.5.55.0-24`);
      assert.ok(fs.readFileSync(group.journal).equals(journalBytes), 'the journal changed');
    });

    test('--entry ID undoes that entry only', async () => {
      const group = await seededGroup('entry', (g) => [
        subnet(g, '10.5.56.0-24', '192.0.2.56', OVERDUE_TTL),
        subnet(g, '10.5.57.0-24', '192.0.2.57', OVERDUE_TTL),
      ]);
      const first = await existingKey(`${group.subnetsDir}10.5.56.0-24`);
      await mustRun(group, ['release', '10.5.56.0/24', '10.5.57.0/24', '--yes']);
      const entry = lastIntentFor(group.journal, first.key);

      const result = await flanctl(group, ['restore', '--entry', entry.id, '--yes']);

      assertCode(result, 0);
      await assertRestoredLease(
        first.key,
        first.value,
        entry.before?.ttlSeconds as number,
        first.leaseHex,
      );
      await assertKeyGone(`${group.subnetsDir}10.5.57.0-24`);
    });

    test('--since 10m undoes the recent changes of distinct keys, not older ones', async () => {
      const group = await seededGroup('since', (g) => [
        subnet(g, '10.5.58.0-24', '192.0.2.58', OVERDUE_TTL),
        subnet(g, '10.5.59.0-24', '192.0.2.59', OVERDUE_TTL),
        subnet(g, '10.5.60.0-24', '192.0.2.60', OVERDUE_TTL),
      ]);
      const [old, recentA, recentB] = await Promise.all(
        ['10.5.58.0-24', '10.5.59.0-24', '10.5.60.0-24'].map((name) =>
          existingKey(group.subnetsDir + name),
        ),
      );
      await mustRun(group, ['release', '10.5.58.0/24', '--yes']);
      // Make the first change two hours old, as if it had been made then.
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
      const aged = journalRecords(group.journal).map((record) =>
        JSON.stringify({ ...record, time: twoHoursAgo }),
      );
      fs.writeFileSync(group.journal, `${aged.join('\n')}\n`);
      await mustRun(group, ['release', '10.5.59.0/24', '--yes']);
      await mustRun(group, ['release', '10.5.60.0/24', '--yes']);

      const recordedTtls = [recentA, recentB].map(
        (state) => lastIntentFor(group.journal, state.key).before?.ttlSeconds as number,
      );

      const result = await flanctl(group, ['restore', '--since', '10m', '--yes']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.59.0/24', '10.5.60.0/24');
      for (const [index, state] of [recentA, recentB].entries()) {
        await assertRestoredLease(state.key, state.value, recordedTtls[index], state.leaseHex);
      }
      await assertKeyGone(old.key);
    });

    test('several entries of one key undo back to before the oldest', async () => {
      const group = await seededGroup('one-key', (g) => [
        subnet(g, '10.5.61.0-24', '192.0.2.61', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.61.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['reserve', '10.5.61.0/24']);
      await mustRun(group, ['release', '10.5.61.0/24', '--yes', '--force']);
      await assertKeyGone(key);
      const oldest = intents(group.journal)[0];
      assert.equal(oldest.action, 'reserve');

      const result = await flanctl(group, ['restore', '--since', '10m', '--yes']);

      assertCode(result, 0);
      await assertRestoredLease(
        key,
        seeded.value,
        oldest.before?.ttlSeconds as number,
        seeded.leaseHex,
      );
    });
  });

  describe('safety', () => {
    test('a key changed after the entry is refused with exit 3 naming it, unless --force', async () => {
      const group = await seededGroup('changed', (g) => [
        subnet(g, '10.5.62.0-24', '192.0.2.62', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.62.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['release', '10.5.62.0/24', '--yes']);
      const intruder = subnetValue('192.0.2.99', '00:00:5e:10:99:01');
      await putPlain(key, intruder);
      const changed = await existingKey(key);

      const refused = await flanctl(group, ['restore', '--yes']);

      assertCode(refused, 3);
      assertMentions(refused.stderr, key, '--force');
      assert.deepEqual(await existingKey(key), changed);

      const forced = await flanctl(group, ['restore', '--yes', '--force']);

      assertCode(forced, 0);
      const recorded = lastIntentFor(group.journal, key);
      assert.equal(recorded.action, 'restore');
      const released = intents(group.journal)[0].before as Snapshot;
      await assertRestoredLease(key, seeded.value, released.ttlSeconds as number, seeded.leaseHex);
    });

    test('a flanneld renewal after unreserve counts as a change: refused, renewal kept', async () => {
      const group = await seededGroup('renewed', (g) => [
        subnet(g, '10.5.63.0-24', '192.0.2.63', null),
      ]);
      const key = `${group.subnetsDir}10.5.63.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['unreserve', '10.5.63.0/24']);
      const renewal = await renewLikeFlanneld(key, seeded.value, 86_400);
      const renewed = await existingKey(key);

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 3);
      assertMentions(result.stderr, key, '--force');
      assert.deepEqual(await existingKey(key), renewed);
      assert.ok((await leaseInfo(renewal)).ttl > 0, 'the renewal lease was revoked');
    });

    test('without --yes off a terminal: exit 2, nothing changed', async () => {
      const group = await seededGroup('no-yes', (g) => [
        subnet(g, '10.5.64.0-24', '192.0.2.64', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.64.0-24`;
      await mustRun(group, ['release', '10.5.64.0/24', '--yes']);
      const recordsBefore = journalRecords(group.journal).length;

      const result = await flanctl(group, ['restore']);

      assertCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '--yes');
      await assertKeyGone(key);
      assert.equal(journalRecords(group.journal).length, recordsBefore);
    });

    test('--dry-run prints the plan and changes nothing', async () => {
      const group = await seededGroup('dry-run', (g) => [
        subnet(g, '10.5.65.0-24', '192.0.2.65', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.65.0-24`;
      await mustRun(group, ['release', '10.5.65.0/24', '--yes']);
      const journalBytes = fs.readFileSync(group.journal);

      const result = await flanctl(group, ['restore', '--dry-run']);

      assertCode(result, 0);
      assertMentions(result.stdout, '10.5.65.0/24', key);
      await assertKeyGone(key);
      assert.ok(fs.readFileSync(group.journal).equals(journalBytes), 'the journal changed');
    });

    test('restore is journaled: a second restore --yes redoes the first change', async () => {
      const group = await seededGroup('redo', (g) => [
        subnet(g, '10.5.66.0-24', '192.0.2.66', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.66.0-24`;
      await mustRun(group, ['release', '10.5.66.0/24', '--yes']);
      await mustRun(group, ['restore', '--yes']);
      const restoredLease = (await existingKey(key)).leaseHex;
      assert.ok(restoredLease, 'the restored key has no lease');

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 0);
      await assertKeyGone(key);
      await assertLeaseRevoked(restoredLease, 'the lease restore granted');
      assert.deepEqual(
        intents(group.journal).map((record) => record.action),
        ['release', 'restore', 'restore'],
      );
    });
  });

  describe('journal problems', () => {
    test('an empty journal: exit 2 with a clear message', async () => {
      const group = await seededGroup('empty');
      fs.writeFileSync(group.journal, '');

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, group.journal);
      assert.match(result.stderr, /no (applied )?change|empty/i);
    });

    test('a missing journal: exit 2 with a clear message', async () => {
      const group = await seededGroup('missing');
      const missing = path.join(group.dir, 'nothing-here.jsonl');

      for (const args of [
        ['restore', '--yes'],
        ['restore', '--list'],
      ]) {
        const result = await flanctl(group, args, { journal: missing });

        assertCode(result, 2);
        assert.equal(result.stdout, '');
        assertMentions(result.stderr, missing);
      }
      assert.ok(!fs.existsSync(missing), 'restore created the journal');
    });

    test('a garbage line is warned about and the rest still works', async () => {
      const group = await seededGroup('garbage', (g) => [
        subnet(g, '10.5.67.0-24', '192.0.2.67', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.67.0-24`;
      const seeded = await existingKey(key);
      await mustRun(group, ['release', '10.5.67.0/24', '--yes']);
      const [intent] = intents(group.journal);
      const good = fs.readFileSync(group.journal, 'utf8');
      fs.writeFileSync(group.journal, `this is not json\n${good}{"type":"applied",\n`);

      const listed = await flanctl(group, ['restore', '--list']);

      assertCode(listed, 0);
      assertMentions(listed.stdout, intent.id);
      assert.match(listed.stderr, /warning/i);
      assertMentions(listed.stderr, group.journal);

      const result = await flanctl(group, ['restore', '--yes']);

      assertCode(result, 0);
      assert.match(result.stderr, /warning/i);
      await assertRestoredLease(
        key,
        seeded.value,
        intent.before?.ttlSeconds as number,
        seeded.leaseHex,
      );
    });
  });
});
