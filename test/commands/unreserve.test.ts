// `flanctl unreserve` run as a subprocess against a private etcd: a reservation gets a fresh
// etcd lease with the same value bytes, a lease is left alone, TTL limits, the round trip
// through `reserve`, and two unreserves racing (the loser revokes the lease it granted).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type JournaledRunOptions,
  type ResultsDocument,
  JournalSandbox,
  assertSameBytes,
  readJournal,
  summariseOutcomes,
} from '../helpers/changing-commands.js';
import type { CliResult } from '../helpers/cli.js';
import { describeRun, errorLines, nonBlankLines } from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import {
  type KeyState,
  assertNothingWritten,
  existingKey,
  leaseIds,
  leaseState,
  putKeys,
  seedNetwork,
} from '../helpers/kv-inspect.js';
import { subnetKey, testPrefix, vxlanAttrs, withRawClient } from '../helpers/seed.js';

// Seconds that may pass between the grant and our TimeToLive question.
const TTL_SLACK_SECONDS = 60;

let etcd: EtcdServer;
let sandbox: JournalSandbox;

function unreserve(
  prefix: string,
  args: string[],
  options: JournaledRunOptions = {},
): Promise<CliResult> {
  return sandbox.run(etcd.endpoint, 'unreserve', prefix, args, options);
}

function mustRead(key: string): Promise<KeyState> {
  return existingKey(etcd.endpoint, key);
}

/** The key has a live etcd lease granted for `ttl` seconds, with the key attached. */
async function assertLeasedFor(state: KeyState, ttl: number): Promise<string> {
  assert.ok(state.leaseHex, `${state.key} has no etcd lease`);
  const lease = await leaseState(etcd.endpoint, state.leaseHex);
  assert.equal(lease.grantedTtl, ttl, `granted TTL of ${state.leaseHex}`);
  assert.ok(
    lease.ttl <= ttl && lease.ttl >= ttl - TTL_SLACK_SECONDS,
    `remaining TTL ${lease.ttl} of ${state.leaseHex} is not close below ${ttl}`,
  );
  assert.deepEqual(lease.keys, [state.key]);
  return state.leaseHex;
}

// Unreserve grants its lease before the write, and a grant moves no revision: check both.
function assertNothingWrittenOrGranted(work: () => Promise<void>): Promise<void> {
  return assertNothingWritten(etcd.endpoint, work, { sameLeases: true });
}

before(async () => {
  sandbox = new JournalSandbox('unreserve');
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
  sandbox?.remove();
});

describe('flanctl unreserve', () => {
  const prefix = testPrefix('unreserve', 'basic');
  const reservedValue = vxlanAttrs('192.0.2.2', '00:00:5e:10:00:02');
  const leasedValue = vxlanAttrs('192.0.2.3', '00:00:5e:10:00:03');
  const reservedKey = subnetKey(prefix, '10.5.2.0-24');
  const leasedKey = subnetKey(prefix, '10.5.3.0-24');
  let grantedByUnreserve: string | undefined;

  before(async () => {
    await seedNetwork(etcd.endpoint, prefix, [
      { key: reservedKey, value: reservedValue },
      { key: leasedKey, value: leasedValue, lease: 'l' },
    ]);
  });

  test('--ttl 1s is a usage error (exit 2) and nothing is written', async () => {
    let result: CliResult | undefined;
    await assertNothingWrittenOrGranted(async () => {
      result = await unreserve(prefix, ['10.5.2.0/24', '--ttl', '1s']);
    });

    assert.ok(result);
    assert.equal(result.code, 2, describeRun(result));
    assert.equal(result.stdout, '');
    assert.equal(errorLines(result).length, 1, result.stderr);
    assert.match(result.stderr, /--ttl/);
    assert.equal((await mustRead(reservedKey)).leaseHex, null);
  });

  test('--dry-run prints the plan, grants no lease and writes nothing', async () => {
    const journal = sandbox.journal('dry-run');
    let result: CliResult | undefined;
    await assertNothingWrittenOrGranted(async () => {
      result = await unreserve(prefix, ['10.5.2.0/24', '--dry-run'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /^would unreserve 10\.5\.2\.0\/24/);
    assert.ok(result.stdout.includes(reservedKey), result.stdout);
    assert.equal(fs.existsSync(journal), false, 'a dry run wrote the journal');
  });

  test('a reservation gets a fresh 24h etcd lease, same value bytes', async () => {
    const journal = sandbox.journal('basic');
    const stored = await mustRead(reservedKey);

    const result = await unreserve(prefix, ['10.5.2.0/24', '--json'], { journal });

    assert.equal(result.code, 0, describeRun(result));
    const now = await mustRead(reservedKey);
    assertSameBytes(now.value, reservedValue, reservedKey);
    assert.equal(now.createRevision, stored.createRevision, 'the key was recreated, not re-put');
    grantedByUnreserve = await assertLeasedFor(now, 86_400);

    const document = JSON.parse(result.stdout) as ResultsDocument;
    assert.equal(document.journal, journal);
    assert.equal(document.results.length, 1);
    const [entry] = document.results;
    assert.equal(entry.action, 'unreserve');
    assert.equal(entry.ok, true);
    assert.equal(entry.status, 'changed');
    assert.equal(entry.before.leaseId, null);
    assert.equal(entry.after?.leaseId, grantedByUnreserve);
    assert.equal(entry.after?.value, reservedValue);
    assert.equal(entry.error, null);

    const intent = readJournal(journal).find((record) => record.type === 'intent');
    assert.equal(intent?.key, reservedKey);
    assert.equal(intent?.before?.leaseId, null);
    assert.equal(intent?.before?.value, reservedValue);
    // Last, so that the checks above still run: the document always says whether it was a dry run.
    assert.equal(document.dryRun, false);
  });

  test('a key that has a lease exits 0, says so, and is left alone', async () => {
    const stored = await mustRead(leasedKey);
    let result: CliResult | undefined;
    await assertNothingWrittenOrGranted(async () => {
      result = await unreserve(prefix, ['10.5.3.0/24']);
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /10\.5\.3\.0\/24: already has an etcd lease/);
    assert.deepEqual(errorLines(result), []);
    assert.equal((await mustRead(leasedKey)).leaseHex, stored.leaseHex);
  });

  test('reserve again round-trips to the original value and revokes the lease', async () => {
    assert.ok(grantedByUnreserve, 'the unreserve test did not run');

    const result = await sandbox.run(etcd.endpoint, 'reserve', prefix, ['10.5.2.0/24']);

    assert.equal(result.code, 0, describeRun(result));
    const now = await mustRead(reservedKey);
    assert.equal(now.leaseHex, null);
    assertSameBytes(now.value, reservedValue, reservedKey);
    assert.equal((await leaseState(etcd.endpoint, grantedByUnreserve)).ttl, -1);
  });

  test('--ttl 2h grants a 7200 s lease', async () => {
    const result = await unreserve(prefix, ['10.5.2.0/24', '--ttl', '2h']);

    assert.equal(result.code, 0, describeRun(result));
    const now = await mustRead(reservedKey);
    assertSameBytes(now.value, reservedValue, reservedKey);
    await assertLeasedFor(now, 7200);
  });

  test('FLANCTL_JOURNAL names the journal when --journal is not given', async () => {
    const envPrefix = testPrefix('unreserve', 'env-journal');
    const journal = sandbox.journal('from-env');
    await seedNetwork(etcd.endpoint, envPrefix, [
      { key: subnetKey(envPrefix, '10.5.4.0-24'), value: vxlanAttrs('192.0.2.4', 'd') },
    ]);

    const result = await unreserve(envPrefix, ['10.5.4.0/24'], { journal, journalFromEnv: true });

    assert.equal(result.code, 0, describeRun(result));
    const records = readJournal(journal);
    assert.deepEqual(
      records.map((record) => record.type),
      ['intent', 'applied'],
    );
  });

  test('a subnet with no key exits 4 naming it and the prefix', async () => {
    let result: CliResult | undefined;
    await assertNothingWrittenOrGranted(async () => {
      result = await unreserve(prefix, ['10.5.77.0/24']);
    });

    assert.ok(result);
    assert.equal(result.code, 4, describeRun(result));
    const errors = errorLines(result);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /10\.5\.77\.0\/24/);
    assert.ok(errors[0].includes(prefix), errors[0]);
  });

  test('a value with nothing to keep is refused with exit 3 and no lease granted', async () => {
    const junkKey = subnetKey(prefix, '10.5.5.0-24');
    await putKeys(etcd.endpoint, [{ key: junkKey, value: junkKey }]);

    let result: CliResult | undefined;
    await assertNothingWrittenOrGranted(async () => {
      result = await unreserve(prefix, ['10.5.5.0/24']);
    });

    assert.ok(result);
    assert.equal(result.code, 3, describeRun(result));
    assert.ok(errorLines(result)[0]?.includes(junkKey), result.stderr);
    assert.equal((await mustRead(junkKey)).leaseHex, null);
  });
});

describe('two unreserve processes racing on one key', () => {
  test('each exits 0 or 5; one lease on the key; the loser revoked its lease', async (t) => {
    const outcomes: string[] = [];
    for (let round = 1; round <= 6; round++) {
      const prefix = testPrefix('unreserve', `race-${round}`);
      const journal = sandbox.journal(`race-${round}`);
      const key = subnetKey(prefix, '10.5.2.0-24');
      const value = vxlanAttrs('192.0.2.2', '00:00:5e:10:00:02');
      await seedNetwork(etcd.endpoint, prefix, [{ key, value }]);
      const leasesBefore = await leaseIds(etcd.endpoint);

      const results = await Promise.all([
        unreserve(prefix, ['10.5.2.0/24'], { journal }),
        unreserve(prefix, ['10.5.2.0/24'], { journal }),
      ]);

      for (const result of results) {
        assert.ok([0, 5].includes(result.code), `round ${round}: ${describeRun(result)}`);
        if (result.code === 5) assert.ok(result.stderr.includes(key), result.stderr);
      }

      const now = await mustRead(key);
      assertSameBytes(now.value, value, key);
      const leaseHex = await assertLeasedFor(now, 86_400);
      const survivors = [...(await leaseIds(etcd.endpoint))].filter((id) => !leasesBefore.has(id));
      assert.deepEqual(survivors, [leaseHex], `round ${round}: new leases that survived`);

      const records = readJournal(journal);
      const applied = records.filter((record) => record.type === 'applied').length;
      assert.equal(applied, 1, `round ${round}: ${JSON.stringify(records)}`);
      const intents = records.filter((record) => record.type === 'intent').length;
      outcomes.push(
        `exits ${results.map((result) => result.code).join('+')}, ${intents} write attempts`,
      );
    }

    t.diagnostic(`two unreserves: ${summariseOutcomes(outcomes)}`);
  });
});

describe('unreserve while another writer re-puts the reservation', () => {
  // Each re-put (same value, no lease) moves the mod revision, so a write guarded on the old one
  // fails; the lease granted for it must then be revoked, whether the retry wins or not.
  test('leases granted for failed writes are revoked; exit 0 or 5', async (t) => {
    const outcomes: string[] = [];
    for (let round = 1; round <= 8; round++) {
      const prefix = testPrefix('unreserve', `rewrite-${round}`);
      const journal = sandbox.journal(`rewrite-${round}`);
      const key = subnetKey(prefix, '10.5.2.0-24');
      const value = vxlanAttrs('192.0.2.2', '00:00:5e:10:00:02');
      await seedNetwork(etcd.endpoint, prefix, [{ key, value }]);
      const leasesBefore = await leaseIds(etcd.endpoint);

      let stopped = false;
      const writer = withRawClient(etcd.endpoint, async (client) => {
        const started = Date.now();
        let puts = 0;
        for (let i = 0; i < 50 && !stopped && Date.now() - started < 3000; i++) {
          // Only while it is still a reservation, in one transaction: once unreserve's write
          // landed, this writer must not strip its lease.
          const current = await client.kv.range({ key: Buffer.from(key, 'utf8') });
          const kv = current.kvs[0];
          if (!kv || kv.lease !== '0') break;
          const put = await client
            .if(key, 'Mod', '==', kv.mod_revision)
            .then(client.put(key).value(value))
            .commit();
          if (!put.succeeded) break;
          puts += 1;
          await sleep(8);
        }

        return puts;
      });
      const result = await unreserve(prefix, ['10.5.2.0/24'], { journal }).finally(() => {
        stopped = true;
      });
      const puts = await writer;

      assert.ok([0, 5].includes(result.code), `round ${round}: ${describeRun(result)}`);
      const now = await mustRead(key);
      assertSameBytes(now.value, value, key);
      const survivors = [...(await leaseIds(etcd.endpoint))].filter((id) => !leasesBefore.has(id));
      const records = readJournal(journal);
      const intents = records.filter((record) => record.type === 'intent').length;
      const applied = records.filter((record) => record.type === 'applied').length;

      if (result.code === 0) {
        assert.equal(applied, 1, `round ${round}`);
        const leaseHex = await assertLeasedFor(now, 86_400);
        assert.deepEqual(survivors, [leaseHex], `round ${round}: new leases that survived`);
      } else {
        assert.equal(applied, 0, `round ${round}`);
        assert.equal(now.leaseHex, null);
        assert.deepEqual(survivors, [], `round ${round}: leases granted for failed writes`);
        const stderr = nonBlankLines(result.stderr);
        assert.equal(stderr.length, 1, result.stderr);
        assert.ok(stderr[0].includes(key), stderr[0]);
      }

      const outcome =
        result.code === 5 ? 'conflict (exit 5)' : intents > 1 ? 'retried, exit 0' : 'first try';
      outcomes.push(outcome);
      t.diagnostic(`round ${round}: ${outcome}; ${puts} re-puts during the run`);
    }

    t.diagnostic(`re-put loop: ${summariseOutcomes(outcomes)}`);
  });
});
