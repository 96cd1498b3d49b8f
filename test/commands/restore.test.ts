// `flanctl restore` run as a subprocess against a private etcd: undoing release, reserve,
// unreserve and a pre-assignment; choosing entries; refusing keys that changed since; and
// journals that are empty, missing or partly unreadable. Every group has its own prefix and
// journal in a temp dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  type Group,
  type JournalRecord,
  type ResultJson,
  type Snapshot,
  GroupFactory,
  flanctlIn,
  readJournal,
  subnetIn,
} from '../helpers/changing-commands.js';
import type { CliResult } from '../helpers/cli.js';
import { assertExitCode, assertMentions, parseJsonDocument } from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import {
  assertKeyGone,
  assertLeaseRevoked,
  existingKey,
  leaseState,
  putKey,
  renewLikeFlanneld,
} from '../helpers/kv-inspect.js';
import { TTL_SLACK_SECONDS, vxlanAttrs } from '../helpers/seed.js';

const LIVE_TTL = 36_000;
const OVERDUE_TTL = 1_800;
// A restored lease is granted the recorded remaining TTL; it has run for a moment since.
const RESTORED_TTL_SLACK_SECONDS = 30;

let etcd: EtcdServer;
let tmpRoot: string;
let groups: GroupFactory;

// The key is a lease again with the value it had, under a new etcd lease holding close to the
// remaining TTL the journal recorded.
async function assertRestoredLease(
  key: string,
  value: Buffer,
  recordedTtl: number,
  oldLeaseHex: string | null,
): Promise<string> {
  const state = await existingKey(etcd.endpoint, key);
  assert.ok(state.value.equals(value), `value ${state.value} is not ${value}`);
  assert.ok(state.leaseHex, `${key} has no etcd lease`);
  assert.notEqual(state.leaseHex, oldLeaseHex, 'the old lease id came back');
  const info = await leaseState(etcd.endpoint, state.leaseHex);
  assert.ok(
    info.ttl <= recordedTtl && info.ttl >= recordedTtl - RESTORED_TTL_SLACK_SECONDS,
    `restored TTL ${info.ttl} is not close to the recorded ${recordedTtl}`,
  );
  assert.deepEqual(info.keys, [key]);
  return state.leaseHex;
}

function intents(file: string): JournalRecord[] {
  return readJournal(file).filter((record) => record.type === 'intent');
}

function lastIntentFor(file: string, key: string): JournalRecord {
  const found = intents(file).filter((record) => record.key === key);
  assert.ok(found.length > 0, `no journal intent for ${key}`);
  return found[found.length - 1];
}

async function mustRun(group: Group, args: string[]): Promise<CliResult> {
  const result = await flanctlIn(group, args);
  assertExitCode(result, 0);
  return result;
}

before(async () => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-restore-test-'));
  etcd = await startEtcd();
  groups = new GroupFactory('restore', etcd.endpoint, tmpRoot);
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
      const group = await groups.seeded('after-release', (g) => [
        { key: `${g.subnetsDir}10.5.50.0-24`, value, ttl: OVERDUE_TTL },
      ]);
      const key = `${group.subnetsDir}10.5.50.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['release', '10.5.50.0/24', '--yes']);
      await assertKeyGone(etcd.endpoint, key);
      const recorded = lastIntentFor(group.journal, key).before as Snapshot;

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 0);
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
      const group = await groups.seeded('after-reserve', (g) => [
        subnetIn(g, '10.5.51.0-24', '192.0.2.51', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.51.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['reserve', '10.5.51.0/24']);
      assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, null, 'reserve left a lease');
      const recorded = lastIntentFor(group.journal, key).before as Snapshot;

      const result = await flanctlIn(group, ['restore', '--yes', '--json']);

      assertExitCode(result, 0);
      const restoredLease = await assertRestoredLease(
        key,
        seeded.value,
        recorded.ttlSeconds as number,
        seeded.leaseHex,
      );
      const document = parseJsonDocument<{ dryRun: boolean; results: ResultJson[] }>(result.stdout);
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
      const group = await groups.seeded('after-unreserve', (g) => [
        subnetIn(g, '10.5.52.0-24', '192.0.2.52', null),
      ]);
      const key = `${group.subnetsDir}10.5.52.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['unreserve', '10.5.52.0/24']);
      const granted = (await existingKey(etcd.endpoint, key)).leaseHex;
      assert.ok(granted, 'unreserve granted no lease');

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 0);
      const state = await existingKey(etcd.endpoint, key);
      assert.ok(state.value.equals(seeded.value), `value ${state.value}`);
      assert.equal(state.leaseHex, null, 'the key still has an etcd lease');
      await assertLeaseRevoked(etcd.endpoint, granted, 'the lease unreserve granted');
    });

    test('a pre-assigned reservation: restore deletes it', async () => {
      const group = await groups.seeded('after-preassign', (g) => [
        subnetIn(g, '10.5.53.0-24', '192.0.2.53', LIVE_TTL),
      ]);
      const other = await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.53.0-24`);
      const key = `${group.subnetsDir}10.5.7.0-24`;
      await mustRun(group, ['reserve', '10.5.7.0/24', '--public-ip', '192.0.2.17']);
      const created = await existingKey(etcd.endpoint, key);
      assert.equal(created.leaseHex, null);

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.7.0/24');
      await assertKeyGone(etcd.endpoint, key);
      assert.deepEqual(await existingKey(etcd.endpoint, other.key), other);
    });
  });

  describe('choosing entries', () => {
    test('--list lists the entries, as text and as JSON, and changes nothing', async () => {
      const group = await groups.seeded('list', (g) => [
        subnetIn(g, '10.5.54.0-24', '192.0.2.54', OVERDUE_TTL),
        subnetIn(g, '10.5.55.0-24', '192.0.2.55', OVERDUE_TTL),
      ]);
      await mustRun(group, ['release', '10.5.54.0/24', '10.5.55.0/24', '--yes']);
      const ids = intents(group.journal).map((record) => record.id);
      assert.equal(ids.length, 2);
      const journalBytes = fs.readFileSync(group.journal);

      const text = await flanctlIn(group, ['restore', '--list']);

      assertExitCode(text, 0);
      assertMentions(text.stdout, ...ids, 'release', '10.5.54.0/24', '10.5.55.0/24');

      const json = await flanctlIn(group, ['restore', '--list', '--json']);

      assertExitCode(json, 0);
      const { entries } = parseJsonDocument<{ entries: JournalRecord[] }>(json.stdout);
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

      const positional = await flanctlIn(group, ['restore', group.journal, '--list'], {
        journal: false,
      });
      assertExitCode(positional, 0);
      assertMentions(positional.stdout, ...ids);

      await assertKeyGone(etcd.endpoint, `${group.subnetsDir}10.5.54.0-24`);
      await assertKeyGone(etcd.endpoint, `${group.subnetsDir}10.5.55.0-24`);
      assert.ok(fs.readFileSync(group.journal).equals(journalBytes), 'the journal changed');
    });

    test('--entry ID undoes that entry only', async () => {
      const group = await groups.seeded('entry', (g) => [
        subnetIn(g, '10.5.56.0-24', '192.0.2.56', OVERDUE_TTL),
        subnetIn(g, '10.5.57.0-24', '192.0.2.57', OVERDUE_TTL),
      ]);
      const first = await existingKey(etcd.endpoint, `${group.subnetsDir}10.5.56.0-24`);
      await mustRun(group, ['release', '10.5.56.0/24', '10.5.57.0/24', '--yes']);
      const entry = lastIntentFor(group.journal, first.key);

      const result = await flanctlIn(group, ['restore', '--entry', entry.id, '--yes']);

      assertExitCode(result, 0);
      await assertRestoredLease(
        first.key,
        first.value,
        entry.before?.ttlSeconds as number,
        first.leaseHex,
      );
      await assertKeyGone(etcd.endpoint, `${group.subnetsDir}10.5.57.0-24`);
    });

    test('--since 10m undoes the recent changes of distinct keys, not older ones', async () => {
      const group = await groups.seeded('since', (g) => [
        subnetIn(g, '10.5.58.0-24', '192.0.2.58', OVERDUE_TTL),
        subnetIn(g, '10.5.59.0-24', '192.0.2.59', OVERDUE_TTL),
        subnetIn(g, '10.5.60.0-24', '192.0.2.60', OVERDUE_TTL),
      ]);
      const [old, recentA, recentB] = await Promise.all(
        ['10.5.58.0-24', '10.5.59.0-24', '10.5.60.0-24'].map((name) =>
          existingKey(etcd.endpoint, group.subnetsDir + name),
        ),
      );
      await mustRun(group, ['release', '10.5.58.0/24', '--yes']);
      // Make the first change two hours old, as if it had been made then.
      const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000).toISOString();
      const aged = readJournal(group.journal).map((record) =>
        JSON.stringify({ ...record, time: twoHoursAgo }),
      );
      fs.writeFileSync(group.journal, `${aged.join('\n')}\n`);
      await mustRun(group, ['release', '10.5.59.0/24', '--yes']);
      await mustRun(group, ['release', '10.5.60.0/24', '--yes']);

      const recordedTtls = [recentA, recentB].map(
        (state) => lastIntentFor(group.journal, state.key).before?.ttlSeconds as number,
      );

      const result = await flanctlIn(group, ['restore', '--since', '10m', '--yes']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.59.0/24', '10.5.60.0/24');
      for (const [index, state] of [recentA, recentB].entries()) {
        await assertRestoredLease(state.key, state.value, recordedTtls[index], state.leaseHex);
      }
      await assertKeyGone(etcd.endpoint, old.key);
    });

    test('several entries of one key undo back to before the oldest', async () => {
      const group = await groups.seeded('one-key', (g) => [
        subnetIn(g, '10.5.61.0-24', '192.0.2.61', LIVE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.61.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['reserve', '10.5.61.0/24']);
      await mustRun(group, ['release', '10.5.61.0/24', '--yes', '--force']);
      await assertKeyGone(etcd.endpoint, key);
      const oldest = intents(group.journal)[0];
      assert.equal(oldest.action, 'reserve');

      const result = await flanctlIn(group, ['restore', '--since', '10m', '--yes']);

      assertExitCode(result, 0);
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
      const group = await groups.seeded('changed', (g) => [
        subnetIn(g, '10.5.62.0-24', '192.0.2.62', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.62.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['release', '10.5.62.0/24', '--yes']);
      const intruder = vxlanAttrs('192.0.2.99', '00:00:5e:10:99:01');
      await putKey(etcd.endpoint, key, intruder);
      const changed = await existingKey(etcd.endpoint, key);

      const refused = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(refused, 3);
      assertMentions(refused.stderr, key, '--force');
      assert.deepEqual(await existingKey(etcd.endpoint, key), changed);

      const forced = await flanctlIn(group, ['restore', '--yes', '--force']);

      assertExitCode(forced, 0);
      const recorded = lastIntentFor(group.journal, key);
      assert.equal(recorded.action, 'restore');
      const released = intents(group.journal)[0].before as Snapshot;
      await assertRestoredLease(key, seeded.value, released.ttlSeconds as number, seeded.leaseHex);
    });

    test('a flanneld renewal after unreserve counts as a change: refused, renewal kept', async () => {
      const group = await groups.seeded('renewed', (g) => [
        subnetIn(g, '10.5.63.0-24', '192.0.2.63', null),
      ]);
      const key = `${group.subnetsDir}10.5.63.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['unreserve', '10.5.63.0/24']);
      const renewal = await renewLikeFlanneld(etcd.endpoint, key, seeded.value, 86_400);
      const renewed = await existingKey(etcd.endpoint, key);

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 3);
      assertMentions(result.stderr, key, '--force');
      assert.deepEqual(await existingKey(etcd.endpoint, key), renewed);
      assert.ok(
        (await leaseState(etcd.endpoint, renewal)).ttl > 0,
        'the renewal lease was revoked',
      );
    });

    test('without --yes off a terminal: exit 2, nothing changed', async () => {
      const group = await groups.seeded('no-yes', (g) => [
        subnetIn(g, '10.5.64.0-24', '192.0.2.64', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.64.0-24`;
      await mustRun(group, ['release', '10.5.64.0/24', '--yes']);
      const recordsBefore = readJournal(group.journal).length;

      const result = await flanctlIn(group, ['restore']);

      assertExitCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, '--yes');
      await assertKeyGone(etcd.endpoint, key);
      assert.equal(readJournal(group.journal).length, recordsBefore);
    });

    test('--dry-run prints the plan and changes nothing', async () => {
      const group = await groups.seeded('dry-run', (g) => [
        subnetIn(g, '10.5.65.0-24', '192.0.2.65', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.65.0-24`;
      await mustRun(group, ['release', '10.5.65.0/24', '--yes']);
      const journalBytes = fs.readFileSync(group.journal);

      const result = await flanctlIn(group, ['restore', '--dry-run']);

      assertExitCode(result, 0);
      assertMentions(result.stdout, '10.5.65.0/24', key);
      await assertKeyGone(etcd.endpoint, key);
      assert.ok(fs.readFileSync(group.journal).equals(journalBytes), 'the journal changed');
    });

    test('restore is journaled: a second restore --yes redoes the first change', async () => {
      const group = await groups.seeded('redo', (g) => [
        subnetIn(g, '10.5.66.0-24', '192.0.2.66', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.66.0-24`;
      await mustRun(group, ['release', '10.5.66.0/24', '--yes']);
      await mustRun(group, ['restore', '--yes']);
      const restoredLease = (await existingKey(etcd.endpoint, key)).leaseHex;
      assert.ok(restoredLease, 'the restored key has no lease');

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 0);
      await assertKeyGone(etcd.endpoint, key);
      await assertLeaseRevoked(etcd.endpoint, restoredLease, 'the lease restore granted');
      assert.deepEqual(
        intents(group.journal).map((record) => record.action),
        ['release', 'restore', 'restore'],
      );
    });
  });

  describe('journal problems', () => {
    test('an empty journal: exit 2 with a clear message', async () => {
      const group = await groups.seeded('empty');
      fs.writeFileSync(group.journal, '');

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 2);
      assert.equal(result.stdout, '');
      assertMentions(result.stderr, group.journal);
      assert.match(result.stderr, /no (applied )?change|empty/i);
    });

    test('a missing journal: exit 2 with a clear message', async () => {
      const group = await groups.seeded('missing');
      const missing = path.join(group.dir, 'nothing-here.jsonl');

      for (const args of [
        ['restore', '--yes'],
        ['restore', '--list'],
      ]) {
        const result = await flanctlIn(group, args, { journal: missing });

        assertExitCode(result, 2);
        assert.equal(result.stdout, '');
        assertMentions(result.stderr, missing);
      }
      assert.ok(!fs.existsSync(missing), 'restore created the journal');
    });

    test('a garbage line is warned about and the rest still works', async () => {
      const group = await groups.seeded('garbage', (g) => [
        subnetIn(g, '10.5.67.0-24', '192.0.2.67', OVERDUE_TTL),
      ]);
      const key = `${group.subnetsDir}10.5.67.0-24`;
      const seeded = await existingKey(etcd.endpoint, key);
      await mustRun(group, ['release', '10.5.67.0/24', '--yes']);
      const [intent] = intents(group.journal);
      const good = fs.readFileSync(group.journal, 'utf8');
      fs.writeFileSync(group.journal, `this is not json\n${good}{"type":"applied",\n`);

      const listed = await flanctlIn(group, ['restore', '--list']);

      assertExitCode(listed, 0);
      assertMentions(listed.stdout, intent.id);
      assert.match(listed.stderr, /warning/i);
      assertMentions(listed.stderr, group.journal);

      const result = await flanctlIn(group, ['restore', '--yes']);

      assertExitCode(result, 0);
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
