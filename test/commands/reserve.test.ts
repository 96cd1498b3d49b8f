// `flanctl reserve` run as a subprocess against a private etcd: field cases C02 and C09, the
// old lease's revocation, refusals, several subnets, pre-assignment, and races with a second
// flanctl and with a flanneld that keeps renewing. Every run names its own prefix, the test's
// etcd and a temp journal; stdout, stderr, exit code and the resulting etcd state are checked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type JournalRecord,
  type JournaledRunOptions,
  type ResultJson,
  type ResultsDocument,
  JournalSandbox,
  assertSameBytes,
  parseResultsDocument,
  readJournal,
  summariseOutcomes,
} from '../helpers/changing-commands.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { describeRun, errorLines, nonBlankLines } from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import {
  type KeyState,
  assertLeaseGone,
  assertNothingWritten,
  existingKey,
  grantLeaseWith,
  keysUnder,
  leaseIds,
  leaseState,
  putKeys,
  putWith,
  readKey,
  renewLikeFlanneld,
  seedNetwork,
} from '../helpers/kv-inspect.js';
import {
  CASE_PREFIX,
  TTL_SLACK_SECONDS,
  loadCaseState,
  seedCaseAt,
  subnetKey,
  testPrefix,
  vxlanAttrs,
  withRawClient,
} from '../helpers/seed.js';

let etcd: EtcdServer;
let sandbox: JournalSandbox;

function reserve(
  prefix: string,
  args: string[],
  options: JournaledRunOptions = {},
): Promise<CliResult> {
  return sandbox.run(etcd.endpoint, 'reserve', prefix, args, options);
}

function mustRead(key: string): Promise<KeyState> {
  return existingKey(etcd.endpoint, key);
}

function warning1329(result: CliResult): string[] {
  return nonBlankLines(result.stderr).filter((line) => /1329/.test(line));
}

function resultFor(document: ResultsDocument, subnet: string): ResultJson {
  const found = document.results.find((candidate) => candidate.subnet === subnet);
  assert.ok(found, `no result for ${subnet} in ${JSON.stringify(document.results)}`);
  return found;
}

before(async () => {
  sandbox = new JournalSandbox('reserve');
  etcd = await startEtcd();
});

after(async () => {
  await etcd?.stop();
  // Every run had a journal of its own; the default location must never have been touched.
  sandbox?.remove();
});

describe('C02: reserve turns a lease into a reservation, byte for byte', () => {
  const prefix = testPrefix('reserve', 'c02');
  const journal = sandbox.journal('c02');
  const caseEntries = loadCaseState('C02');
  const caseValue = (name: string) => {
    const entry = caseEntries.find((candidate) => candidate.key.endsWith(`/subnets/${name}`));
    assert.ok(entry, `C02 has no key ${name}`);
    return entry.value;
  };
  let resultA: CliResult | undefined;

  async function assertExpectedStateAfter(): Promise<void> {
    const expected = loadCaseState('C02', 'expected-state-after.json').map((entry) => ({
      ...entry,
      key: prefix + entry.key.slice(CASE_PREFIX.length),
    }));
    const stored = await keysUnder(etcd.endpoint, `${prefix}/`);
    assert.deepEqual(
      stored.map((state) => state.key),
      expected.map((entry) => entry.key).sort(),
    );

    for (const entry of expected) {
      const state = stored.find((candidate) => candidate.key === entry.key) as KeyState;
      assertSameBytes(state.value, entry.value, entry.key);
      if (entry.ttl === null) {
        assert.equal(state.leaseHex, null, `${entry.key} should have lease 0`);
        continue;
      }

      assert.equal(state.leaseHex, entry.lease, `${entry.key} lost or changed its lease`);
      const lease = await leaseState(etcd.endpoint, entry.lease as string);
      assert.ok(
        lease.ttl <= entry.ttl && lease.ttl >= entry.ttl - TTL_SLACK_SECONDS,
        `${entry.key}: remaining TTL ${lease.ttl} is not close below ${entry.ttl}`,
      );
      assert.equal(lease.grantedTtl, entry.ttl);
    }
  }

  before(async () => {
    await seedCaseAt(etcd.endpoint, prefix, caseEntries);
  });

  test('(a) 10.5.1.0/24 loses its lease, keeps its value, and the old lease is revoked', async () => {
    const key = subnetKey(prefix, '10.5.1.0-24');
    const stored = await mustRead(key);
    assert.equal(stored.leaseHex, '694d854330fc5110');

    resultA = await reserve(prefix, ['10.5.1.0/24'], { journal });

    assert.equal(resultA.code, 0, describeRun(resultA));
    assert.match(resultA.stdout, /10\.5\.1\.0\/24/);
    assert.match(resultA.stdout, /192\.0\.2\.1\b/);
    assert.match(resultA.stdout, /undo: .*unreserve 10\.5\.1\.0\/24/);
    assert.match(resultA.stdout, /revoked lease 694d854330fc5110/);
    assert.deepEqual(errorLines(resultA), []);

    const now = await mustRead(key);
    assert.equal(now.leaseHex, null);
    assertSameBytes(now.value, caseValue('10.5.1.0-24'), key);
    assert.equal(now.createRevision, stored.createRevision, 'the key was recreated, not re-put');
    await assertLeaseGone(etcd.endpoint, '694d854330fc5110');
    await assertExpectedStateAfter();
  });

  test('(a) the journal recorded the prior state before the write', () => {
    const records = readJournal(journal);
    const intent = records.find((record) => record.type === 'intent');
    assert.ok(intent, `no intent record in ${JSON.stringify(records)}`);
    assert.equal(intent.key, subnetKey(prefix, '10.5.1.0-24'));
    assert.equal(intent.before?.value, caseValue('10.5.1.0-24'));
    assert.equal(intent.before?.leaseId, '694d854330fc5110');
    assert.ok(typeof intent.before?.ttlSeconds === 'number' && intent.before.ttlSeconds > 0);
    assert.ok(Number.isInteger(intent.before?.modRevision));
    assert.ok(intent.user !== undefined && intent.host !== undefined && intent.time);
    assert.ok(intent.command?.includes('reserve'), `command: ${JSON.stringify(intent.command)}`);

    const applied = records.find((record) => record.type === 'applied');
    assert.equal(applied?.id, intent.id);
    assert.equal(records.indexOf(intent) < records.indexOf(applied as JournalRecord), true);
  });

  test('(a) prints the flannel issue 1329 caveat on stderr', () => {
    assert.ok(resultA, '(a) did not run');
    const warnings = warning1329(resultA);
    assert.equal(warnings.length, 1, `stderr: ${resultA.stderr}`);
    assert.match(warnings[0], /^flanctl: warning: /);
    assert.match(warnings[0], /24 ?h/);
    assert.doesNotMatch(resultA.stdout, /1329/);
  });

  test('(a) the caveat says a running flanneld re-leases the key too, not only a restart', () => {
    // C02: "a running or restarting owner flanneld puts a 24h lease back on its key".
    assert.ok(resultA, '(a) did not run');
    const warnings = warning1329(resultA);
    assert.equal(warnings.length, 1, `stderr: ${resultA.stderr}`);
    assert.match(warnings[0], /running/i);
  });

  test('(b) repeating it writes nothing and says it is already a reservation', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.1.0/24'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /10\.5\.1\.0\/24: already a reservation/);
    assert.deepEqual(errorLines(result), []);
  });

  test('(c) an existing reservation is recorded, its key untouched; again, nothing', async () => {
    const key = subnetKey(prefix, '10.5.2.0-24');
    const stored = await mustRead(key);
    const recordKey = `/flanctl/reservations${prefix}/10.5.2.0-24`;
    assert.equal(await readKey(etcd.endpoint, recordKey), undefined);

    const recorded = await reserve(prefix, ['10.5.2.0/24'], { journal });

    assert.equal(recorded.code, 0, describeRun(recorded));
    assert.match(recorded.stdout, /^recorded the reservation 10\.5\.2\.0\/24 .* is unchanged$/m);
    assert.match(
      recorded.stdout,
      new RegExp(`undo: etcdctl --endpoints=${etcd.endpoint} del ${recordKey}`),
    );
    assert.deepEqual(await mustRead(key), stored, 'the subnet key was written');
    const record = JSON.parse((await mustRead(recordKey)).value.toString());
    assert.equal(record.key, key);
    assert.equal(record.value, stored.value.toString());

    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.2.0/24'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /10\.5\.2\.0\/24: already a reservation/);
    assert.deepEqual(errorLines(result), []);
  });

  test('(d) 10.5.1.1/24 is read as 10.5.1.0/24 with a note, never as a key 10.5.1.1-24', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.1.1/24'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /10\.5\.1\.0\/24: already a reservation/);
    assert.doesNotMatch(result.stdout, /10\.5\.1\.1/);
    const note = nonBlankLines(result.stderr).find((line) => line.includes('10.5.1.1/24'));
    assert.ok(note, `no note about 10.5.1.1/24: ${result.stderr}`);
    assert.match(note, /10\.5\.1\.0\/24/);
    assert.equal(await readKey(etcd.endpoint, subnetKey(prefix, '10.5.1.1-24')), undefined);
  });

  test('(e) a subnet with no key exits 4 naming the subnet and the prefix', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.77.0/24'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 4, describeRun(result));
    assert.equal(result.stdout, '');
    const errors = errorLines(result);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /10\.5\.77\.0\/24/);
    assert.ok(errors[0].includes(prefix), `the prefix ${prefix} is not named: ${errors[0]}`);
    assert.equal(warning1329(result).length, 0);
  });

  test('(f) 10.5.1.0/25 exits 4 with a hint that the network uses /24 subnets', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.1.0/25'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 4, describeRun(result));
    assert.equal(result.stdout, '');
    const errors = errorLines(result);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], /10\.5\.1\.0\/25/);
    assert.match(errors[0], /\/24 subnets/);
    assert.equal(await readKey(etcd.endpoint, subnetKey(prefix, '10.5.1.0-25')), undefined);
  });

  test('the final state is expected-state-after.json; 10.5.3.0-24 keeps its lease', async () => {
    await assertExpectedStateAfter();
  });
});

describe('the old etcd lease', () => {
  test('is revoked once no key uses it, and leases ls lists the key as a reservation', async () => {
    const prefix = testPrefix('reserve', 'revoke');
    // Unusual spacing and field order: only a byte-for-byte copy keeps it.
    const value = '{ "BackendType":"vxlan",  "PublicIP":"192.0.2.1", "BackendData":null }';
    const leases = await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value, lease: 'a' },
    ]);
    const leaseHex = leases.get('a') as string;

    const result = await reserve(prefix, ['10.5.1.0/24']);

    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, new RegExp(`revoked lease ${leaseHex}`));
    const now = await mustRead(subnetKey(prefix, '10.5.1.0-24'));
    assert.equal(now.leaseHex, null);
    assertSameBytes(now.value, value, '10.5.1.0-24');
    await assertLeaseGone(etcd.endpoint, leaseHex);

    const listing = await runCli([
      'leases',
      'ls',
      '--json',
      '--endpoints',
      etcd.endpoint,
      '--prefix',
      prefix,
    ]);
    assert.equal(listing.code, 0, describeRun(listing));
    const leasesDocument = JSON.parse(listing.stdout) as {
      leases: Array<{ subnet: string; type: string; leaseId: string | null }>;
    };
    const row = leasesDocument.leases.find((lease) => lease.subnet === '10.5.1.0/24');
    assert.equal(row?.type, 'reservation');
    assert.equal(row?.leaseId, null);
  });

  test('shared by two keys: reserving one keeps it and names the other key', async () => {
    const prefix = testPrefix('reserve', 'shared');
    const first = subnetKey(prefix, '10.5.2.0-24');
    const second = subnetKey(prefix, '10.5.3.0-24');
    const leases = await seedNetwork(etcd.endpoint, prefix, [
      { key: first, value: vxlanAttrs('192.0.2.2', '00:00:5e:10:00:02'), lease: 'shared' },
      { key: second, value: vxlanAttrs('192.0.2.3', '00:00:5e:10:00:03'), lease: 'shared' },
    ]);
    const leaseHex = leases.get('shared') as string;

    const result = await reserve(prefix, ['10.5.2.0/24']);

    assert.equal(result.code, 0, describeRun(result));
    const kept = nonBlankLines(result.stdout).find(
      (line) => line.includes(leaseHex) && /kept|still used/.test(line),
    );
    assert.ok(kept, `no line says the lease ${leaseHex} was kept: ${result.stdout}`);
    assert.ok(kept.includes(second), `the other key is not named: ${kept}`);
    assert.doesNotMatch(result.stdout, /revoked lease/);

    assert.equal((await mustRead(first)).leaseHex, null);
    assert.equal((await mustRead(second)).leaseHex, leaseHex);
    const lease = await leaseState(etcd.endpoint, leaseHex);
    assert.ok(lease.ttl > 0, `the shared lease is gone (TTL ${lease.ttl})`);
    assert.deepEqual(lease.keys, [second]);

    const last = await reserve(prefix, ['10.5.3.0/24']);
    assert.equal(last.code, 0, describeRun(last));
    assert.match(last.stdout, new RegExp(`revoked lease ${leaseHex}`));
    await assertLeaseGone(etcd.endpoint, leaseHex);
  });
});

describe('values with nothing to keep are refused with exit 3 and nothing written', () => {
  const prefix = testPrefix('reserve', 'junk');
  const leaseOf = new Map<string, string>();
  const cases = [
    { name: '10.5.4.0-24', subnet: '10.5.4.0/24', what: 'the key path itself' },
    { name: '10.5.5.0-24', subnet: '10.5.5.0/24', what: 'an empty value' },
    { name: '10.5.6.0-24', subnet: '10.5.6.0/24', what: 'a value that is not JSON' },
  ];
  const values: Record<string, string> = {
    // flannel's documented `etcdctl put KEY $(etcdctl get KEY)` stores the key name.
    '10.5.4.0-24': subnetKey(prefix, '10.5.4.0-24'),
    '10.5.5.0-24': '',
    '10.5.6.0-24': 'PublicIP=192.0.2.6',
  };
  const reasons: Record<string, RegExp> = {
    '10.5.4.0-24': /key path/i,
    '10.5.5.0-24': /empty/i,
    '10.5.6.0-24': /not (valid )?JSON/i,
  };

  before(async () => {
    const leases = await seedNetwork(
      etcd.endpoint,
      prefix,
      cases.map(({ name }) => ({
        key: subnetKey(prefix, name),
        value: values[name],
        lease: name,
      })),
    );
    for (const [name, hex] of leases) leaseOf.set(name, hex);
  });

  for (const { name, subnet, what } of cases) {
    test(`${what} (${subnet})`, async () => {
      const key = subnetKey(prefix, name);
      let result: CliResult | undefined;
      await assertNothingWritten(etcd.endpoint, async () => {
        result = await reserve(prefix, [subnet]);
      });

      assert.ok(result);
      assert.equal(result.code, 3, describeRun(result));
      assert.equal(result.stdout, '');
      const errors = errorLines(result);
      assert.equal(errors.length, 1, result.stderr);
      assert.ok(errors[0].includes(key), `the key is not named: ${errors[0]}`);
      assert.match(errors[0], reasons[name]);
      assert.equal(warning1329(result).length, 0);

      const now = await mustRead(key);
      assertSameBytes(now.value, values[name], key);
      assert.equal(now.leaseHex, leaseOf.get(name));
      assert.ok((await leaseState(etcd.endpoint, leaseOf.get(name) as string)).ttl > 0);
    });
  }
});

describe('several subnets in one call', () => {
  test('--json gives a result per subnet; the rest is still done; exit of the first failure', async () => {
    const prefix = testPrefix('reserve', 'several-json');
    const journal = sandbox.journal('several-json');
    const leases = await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
      { key: subnetKey(prefix, '10.5.2.0-24'), value: vxlanAttrs('192.0.2.2', 'b') },
      {
        key: subnetKey(prefix, '10.5.4.0-24'),
        value: subnetKey(prefix, '10.5.4.0-24'),
        lease: '4',
      },
    ]);

    const result = await reserve(
      prefix,
      ['10.5.1.0/24', '10.5.4.0/24', '10.5.2.0/24', '10.5.77.0/24', '--json'],
      { journal },
    );

    assert.equal(result.code, 3, describeRun(result));
    const document = parseResultsDocument(result);
    assert.equal(document.journal, journal);
    assert.equal(document.results.length, 4);
    for (const entry of document.results) {
      for (const field of ['subnet', 'key', 'action', 'ok', 'status', 'before', 'after', 'error']) {
        assert.ok(field in entry, `result for ${entry.subnet} has no ${field}`);
      }
    }

    const reserved = resultFor(document, '10.5.1.0/24');
    assert.equal(reserved.key, subnetKey(prefix, '10.5.1.0-24'));
    assert.equal(reserved.action, 'reserve');
    assert.equal(reserved.ok, true);
    assert.equal(reserved.status, 'changed');
    assert.equal(reserved.error, null);
    assert.equal(reserved.before.leaseId, leases.get('1'));
    assert.equal(reserved.before.value, vxlanAttrs('192.0.2.1', 'a'));
    assert.equal(reserved.after?.leaseId, null);
    assert.equal(reserved.after?.value, vxlanAttrs('192.0.2.1', 'a'));

    const junk = resultFor(document, '10.5.4.0/24');
    assert.equal(junk.ok, false);
    assert.equal(junk.status, 'failed');
    assert.equal(junk.error?.exitCode, 3);
    assert.equal(junk.after, null);

    const already = resultFor(document, '10.5.2.0/24');
    assert.equal(already.ok, true);
    assert.equal(already.action, 'record');
    assert.equal(already.status, 'changed');
    assert.equal(already.after?.modRevision, already.before.modRevision);
    assert.equal(already.error, null);

    const missing = resultFor(document, '10.5.77.0/24');
    assert.equal(missing.ok, false);
    assert.equal(missing.error?.exitCode, 4);
    assert.equal(missing.key, subnetKey(prefix, '10.5.77.0-24'));

    assert.equal(errorLines(result).length, 2, result.stderr);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.1.0-24'))).leaseHex, null);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.4.0-24'))).leaseHex, leases.get('4'));
    // Last, so that the checks above still run: the document always says whether it was a dry run.
    assert.equal(document.dryRun, false);
  });

  test('the exit code is that of the first failing subnet in the order given', async () => {
    const prefix = testPrefix('reserve', 'several-order');
    await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.4.0-24'), value: '', lease: '4' },
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
    ]);

    // 10.5.77.0/24 (not found, 4) fails first; 10.5.4.0/24 (refused, 3) second.
    const result = await reserve(prefix, ['10.5.77.0/24', '10.5.4.0/24', '10.5.1.0/24']);

    assert.equal(result.code, 4, describeRun(result));
    assert.equal(errorLines(result).length, 2, result.stderr);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.1.0-24'))).leaseHex, null);
  });

  test('text output has a line per subnet', async () => {
    const prefix = testPrefix('reserve', 'several-text');
    await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
      { key: subnetKey(prefix, '10.5.2.0-24'), value: vxlanAttrs('192.0.2.2', 'b') },
    ]);

    const result = await reserve(prefix, ['10.5.1.0/24', '10.5.2.0/24']);

    assert.equal(result.code, 0, describeRun(result));
    assert.ok(
      nonBlankLines(result.stdout).some((line) =>
        /^reserved 10\.5\.1\.0\/24 \(192\.0\.2\.1\)/.test(line),
      ),
      result.stdout,
    );
    assert.ok(
      nonBlankLines(result.stdout).some((line) =>
        /^recorded the reservation 10\.5\.2\.0\/24 \(192\.0\.2\.2\) at /.test(line),
      ),
      result.stdout,
    );
  });

  test('- reads the subnets from stdin, one a line', async () => {
    const prefix = testPrefix('reserve', 'stdin');
    const leases = await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
      { key: subnetKey(prefix, '10.5.2.0-24'), value: vxlanAttrs('192.0.2.2', 'b'), lease: '2' },
      { key: subnetKey(prefix, '10.5.3.0-24'), value: vxlanAttrs('192.0.2.3', 'c'), lease: '3' },
    ]);

    const result = await reserve(prefix, ['-', '--json'], {
      stdin: '10.5.1.0/24\n\n10.5.3.0/24\n',
    });

    assert.equal(result.code, 0, describeRun(result));
    const document = parseResultsDocument(result);
    assert.deepEqual(document.results.map((entry) => entry.subnet).sort(), [
      '10.5.1.0/24',
      '10.5.3.0/24',
    ]);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.1.0-24'))).leaseHex, null);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.2.0-24'))).leaseHex, leases.get('2'));
    assert.equal((await mustRead(subnetKey(prefix, '10.5.3.0-24'))).leaseHex, null);
  });

  test('--public-ip IP reserves every subnet that host holds, and nothing else', async () => {
    const prefix = testPrefix('reserve', 'by-ip');
    const leases = await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
      { key: subnetKey(prefix, '10.5.5.0-24'), value: vxlanAttrs('192.0.2.5', 'b'), lease: '5' },
      { key: subnetKey(prefix, '10.5.6.0-24'), value: vxlanAttrs('192.0.2.5', 'c'), lease: '6' },
    ]);

    const result = await reserve(prefix, ['--public-ip', '192.0.2.5']);

    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /reserved 10\.5\.5\.0\/24/);
    assert.match(result.stdout, /reserved 10\.5\.6\.0\/24/);
    assert.doesNotMatch(result.stdout, /10\.5\.1\.0/);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.5.0-24'))).leaseHex, null);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.6.0-24'))).leaseHex, null);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.1.0-24'))).leaseHex, leases.get('1'));
  });

  test('--public-ip of a host that holds nothing exits 4 (not found)', async () => {
    const prefix = testPrefix('reserve', 'by-ip-none');
    await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
    ]);

    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['--public-ip', '192.0.2.9']);
    });

    assert.ok(result);
    assert.equal(result.code, 4, describeRun(result));
    assert.match(result.stderr, /192\.0\.2\.9/);
  });

  test('--dry-run prints the plan and changes nothing', async () => {
    const prefix = testPrefix('reserve', 'dry-run');
    const journal = sandbox.journal('dry-run');
    const leases = await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
    ]);
    const leaseHex = leases.get('1') as string;

    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.1.0/24', '--dry-run'], { journal });
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    const plan = nonBlankLines(result.stdout);
    assert.equal(plan.length, 1, result.stdout);
    assert.match(plan[0], /^would reserve 10\.5\.1\.0\/24/);
    assert.ok(plan[0].includes(subnetKey(prefix, '10.5.1.0-24')), plan[0]);
    assert.ok(plan[0].includes(`revoke lease ${leaseHex}`), plan[0]);
    assert.equal(warning1329(result).length, 0, result.stderr);
    assert.equal(fs.existsSync(journal), false, 'a dry run wrote the journal');
    assert.equal((await mustRead(subnetKey(prefix, '10.5.1.0-24'))).leaseHex, leaseHex);
    assert.ok((await leaseState(etcd.endpoint, leaseHex)).ttl > 0);

    const json = await reserve(prefix, ['10.5.1.0/24', '--dry-run', '--json'], { journal });
    assert.equal(json.code, 0, describeRun(json));
    const document = parseResultsDocument(json);
    assert.equal(document.dryRun, true);
    assert.equal(document.journal, null);
    assert.equal(document.results[0].status, 'planned');
    assert.equal(document.results[0].after, null);
    assert.equal(document.results[0].before.leaseId, leaseHex);
    assert.equal(warning1329(json).length, 0, json.stderr);
  });
});

describe('pre-assigning a subnet to a host that has no lease yet', () => {
  const prefix = testPrefix('reserve', 'preassign');

  before(async () => {
    await seedNetwork(etcd.endpoint, prefix, [
      { key: subnetKey(prefix, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a'), lease: '1' },
      // Hand-written and wider than SubnetLen: a /24 inside it overlaps.
      { key: subnetKey(prefix, '10.5.8.0-23'), value: vxlanAttrs('192.0.2.80', 'b'), lease: '8' },
    ]);
  });

  test('creates the key without a lease, with the host as PublicIP', async () => {
    const key = subnetKey(prefix, '10.5.7.0-24');
    const result = await reserve(prefix, [
      '10.5.7.0/24',
      '--public-ip',
      '192.0.2.17',
      '--backend',
      'vxlan',
      '--backend-data',
      '{"VtepMAC":"00:00:5e:10:00:17"}',
    ]);

    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /10\.5\.7\.0\/24/);
    assert.match(result.stdout, /192\.0\.2\.17/);
    assert.equal(warning1329(result).length, 1, result.stderr);

    const created = await mustRead(key);
    assert.equal(created.leaseHex, null);
    assert.equal(created.version, 1);
    const value = JSON.parse(created.value.toString('utf8')) as Record<string, unknown>;
    assert.equal(value.PublicIP, '192.0.2.17');
    assert.equal(value.BackendType, 'vxlan');
    assert.deepEqual(value.BackendData, { VtepMAC: '00:00:5e:10:00:17' });
  });

  test('without --backend the config backend type is used', async () => {
    const result = await reserve(prefix, ['10.5.10.0/24', '--public-ip', '192.0.2.19']);

    assert.equal(result.code, 0, describeRun(result));
    const created = await mustRead(subnetKey(prefix, '10.5.10.0-24'));
    assert.equal(created.leaseHex, null);
    const value = JSON.parse(created.value.toString('utf8')) as Record<string, unknown>;
    assert.equal(value.PublicIP, '192.0.2.19');
    assert.equal(value.BackendType, 'vxlan');
  });

  test('a host address with a prefix names its subnet; no key with host bits', async () => {
    const result = await reserve(prefix, ['10.5.11.1/24', '--public-ip', '192.0.2.21']);

    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stderr, /10\.5\.11\.1\/24.*10\.5\.11\.0\/24/);
    assert.equal((await mustRead(subnetKey(prefix, '10.5.11.0-24'))).leaseHex, null);
    assert.equal(await readKey(etcd.endpoint, subnetKey(prefix, '10.5.11.1-24')), undefined);
  });

  test('--dry-run writes nothing and prints no caveat', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.12.0/24', '--public-ip', '192.0.2.22', '--dry-run']);
    });

    assert.ok(result);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /^would /);
    assert.ok(result.stdout.includes(subnetKey(prefix, '10.5.12.0-24')), result.stdout);
    assert.equal(warning1329(result).length, 0, result.stderr);
  });

  async function assertRefused(
    args: string[],
    reason: RegExp,
    absentKey?: string,
    where = prefix,
  ): Promise<void> {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(where, args);
    });

    assert.ok(result);
    assert.equal(result.code, 3, describeRun(result));
    assert.equal(result.stdout, '');
    const errors = errorLines(result);
    assert.equal(errors.length, 1, result.stderr);
    assert.match(errors[0], reason);
    assert.equal(warning1329(result).length, 0);
    if (absentKey) assert.equal(await readKey(etcd.endpoint, absentKey), undefined);
  }

  test('refused: outside the network', async () => {
    await assertRefused(
      ['10.6.7.0/24', '--public-ip', '192.0.2.17'],
      /outside the network 10\.5\.0\.0\/16/,
      subnetKey(prefix, '10.6.7.0-24'),
    );
  });

  test('refused: another length than SubnetLen', async () => {
    await assertRefused(
      ['10.5.7.128/25', '--public-ip', '192.0.2.17'],
      /\/25.*SubnetLen/,
      subnetKey(prefix, '10.5.7.128-25'),
    );
  });

  test('refused: outside SubnetMin..SubnetMax', async () => {
    const ranged = testPrefix('reserve', 'preassign-range');
    await putKeys(etcd.endpoint, [
      {
        key: `${ranged}/config`,
        value:
          '{"Network":"10.5.0.0/16","SubnetMin":"10.5.10.0","SubnetMax":"10.5.20.0",' +
          '"Backend":{"Type":"vxlan"}}',
      },
    ]);

    await assertRefused(
      ['10.5.7.0/24', '--public-ip', '192.0.2.17'],
      /SubnetMin\.\.SubnetMax/,
      subnetKey(ranged, '10.5.7.0-24'),
      ranged,
    );
  });

  test('refused: the subnet is an existing key held by another host', async () => {
    const key = subnetKey(prefix, '10.5.1.0-24');
    const held = await mustRead(key);

    await assertRefused(['10.5.1.0/24', '--public-ip', '192.0.2.17'], /held by 192\.0\.2\.1\b/);

    const now = await mustRead(key);
    assert.equal(now.leaseHex, held.leaseHex);
    assert.ok(now.value.equals(held.value));
  });

  test('refused: the subnet overlaps an existing key', async () => {
    await assertRefused(
      ['10.5.8.0/24', '--public-ip', '192.0.2.18'],
      /overlaps 10\.5\.8\.0\/23/,
      subnetKey(prefix, '10.5.8.0-24'),
    );
  });

  test('refused: a /23 over an existing /24', async () => {
    await assertRefused(
      ['10.5.0.0/23', '--public-ip', '192.0.2.18'],
      /overlaps 10\.5\.1\.0\/24/,
      subnetKey(prefix, '10.5.0.0-23'),
    );
  });

  test('refused: the host already holds another subnet', async () => {
    await assertRefused(
      ['10.5.13.0/24', '--public-ip', '192.0.2.1'],
      /192\.0\.2\.1 holds 10\.5\.1\.0\/24/,
      subnetKey(prefix, '10.5.13.0-24'),
    );
  });

  test('refused: no network config to check against', async () => {
    const bare = testPrefix('reserve', 'preassign-no-config');
    await putKeys(etcd.endpoint, [
      { key: subnetKey(bare, '10.5.1.0-24'), value: vxlanAttrs('192.0.2.1', 'a') },
    ]);

    await assertRefused(
      ['10.5.7.0/24', '--public-ip', '192.0.2.17'],
      /config/,
      subnetKey(bare, '10.5.7.0-24'),
      bare,
    );
  });

  test('--backend-data that is not JSON is a usage error (exit 2)', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, [
        '10.5.14.0/24',
        '--public-ip',
        '192.0.2.24',
        '--backend-data',
        'not json',
      ]);
    });

    assert.ok(result);
    assert.equal(result.code, 2, describeRun(result));
    assert.equal(result.stdout, '');
    assert.equal(errorLines(result).length, 1, result.stderr);
    assert.match(result.stderr, /--backend-data/);
    assert.equal(await readKey(etcd.endpoint, subnetKey(prefix, '10.5.14.0-24')), undefined);
  });

  test('--public-ip that is not an IPv4 address is a usage error (exit 2)', async () => {
    let result: CliResult | undefined;
    await assertNothingWritten(etcd.endpoint, async () => {
      result = await reserve(prefix, ['10.5.14.0/24', '--public-ip', 'host-17']);
    });

    assert.ok(result);
    assert.equal(result.code, 2, describeRun(result));
    assert.match(result.stderr, /host-17/);
  });
});

describe('C09: dual-stack keys', () => {
  const prefix = testPrefix('reserve', 'c09');
  const combined = subnetKey(prefix, '10.5.34.0-24&fc00:0:0:22::-64');
  const caseEntries = loadCaseState('C09');
  const combinedValue = caseEntries.find((entry) => entry.key.includes('10.5.34.0-24'))
    ?.value as string;

  before(async () => {
    await seedCaseAt(etcd.endpoint, prefix, caseEntries);
  });

  test('reserve 10.5.34.0/24 acts on the combined key, value byte-identical', async () => {
    const result = await reserve(prefix, ['10.5.34.0/24', '--json']);

    assert.equal(result.code, 0, describeRun(result));
    const document = parseResultsDocument(result);
    assert.equal(document.results.length, 1);
    assert.equal(document.results[0].key, combined);
    assert.equal(document.results[0].status, 'changed');

    const now = await mustRead(combined);
    assert.equal(now.leaseHex, null);
    assertSameBytes(now.value, combinedValue, combined);
    await assertLeaseGone(etcd.endpoint, '694d854330fc5160');
    assert.equal(await readKey(etcd.endpoint, subnetKey(prefix, '10.5.34.0-24')), undefined);

    // The keys beside it keep their leases.
    const upper = await mustRead(subnetKey(prefix, '10.5.35.0-24&FC00:0:0:23::-64'));
    assert.equal(upper.leaseHex, '694d854330fc5161');
    const v4only = await mustRead(subnetKey(prefix, '10.5.36.0-24'));
    assert.equal(v4only.leaseHex, '694d854330fc5162');
  });

  test('reserve fc00:0:0:22::/64 acts on the same combined key', async () => {
    const dry = await reserve(prefix, ['fc00:0:0:22::/64', '--json']);
    assert.equal(dry.code, 0, describeRun(dry));
    const unchanged = parseResultsDocument(dry);
    assert.equal(unchanged.results.length, 1);
    assert.equal(unchanged.results[0].key, combined);
    assert.equal(unchanged.results[0].status, 'unchanged');

    // flanneld (issue 1329) puts a lease back on the key; reserving by the IPv6 half undoes it.
    const flanneldLease = await renewLikeFlanneld(etcd.endpoint, combined, combinedValue, 86_400);

    const result = await reserve(prefix, ['fc00:0:0:22::/64']);

    assert.equal(result.code, 0, describeRun(result));
    assert.ok(result.stdout.includes(combined), result.stdout);
    const now = await mustRead(combined);
    assert.equal(now.leaseHex, null);
    assertSameBytes(now.value, combinedValue, combined);
    await assertLeaseGone(etcd.endpoint, flanneldLease);
    const all = await keysUnder(etcd.endpoint, `${prefix}/subnets/`);
    assert.equal(all.length, 3, JSON.stringify(all.map((state) => state.key)));
  });
});

describe('races', () => {
  test('two reserve processes on one key: both 0 or one 5, one write, no lease left', async (t) => {
    const outcomes: string[] = [];
    for (let round = 1; round <= 6; round++) {
      const prefix = testPrefix('reserve', `race-reserve-${round}`);
      const journal = sandbox.journal(`race-reserve-${round}`);
      const key = subnetKey(prefix, '10.5.1.0-24');
      const value = vxlanAttrs('192.0.2.1', '00:00:5e:10:00:01');
      const leases = await seedNetwork(etcd.endpoint, prefix, [{ key, value, lease: 'a' }]);
      const original = leases.get('a') as string;
      const leasesBefore = await leaseIds(etcd.endpoint);

      const results = await Promise.all([
        reserve(prefix, ['10.5.1.0/24'], { journal }),
        reserve(prefix, ['10.5.1.0/24'], { journal }),
      ]);

      for (const result of results) {
        assert.ok([0, 5].includes(result.code), `round ${round}: ${describeRun(result)}`);
        if (result.code === 5) assert.ok(result.stderr.includes(key), result.stderr);
      }

      const now = await mustRead(key);
      assert.equal(now.leaseHex, null, `round ${round}: the key has a lease`);
      assertSameBytes(now.value, value, key);
      await assertLeaseGone(etcd.endpoint, original);
      const leasesAfter = await leaseIds(etcd.endpoint);
      const stray = [...leasesAfter].filter((id) => !leasesBefore.has(id));
      assert.deepEqual(stray, [], `round ${round}: leases flanctl left behind`);

      const records = readJournal(journal);
      const applied = records.filter((record) => record.type === 'applied');
      assert.equal(applied.length, 1, `round ${round}: ${JSON.stringify(records)}`);
      const intents = records.filter((record) => record.type === 'intent').length;
      outcomes.push(
        `exits ${results.map((result) => result.code).join('+')}, ${intents} write attempts`,
      );
    }

    t.diagnostic(`two reserves: ${summariseOutcomes(outcomes)}`);
  });

  test('a flanneld renewal loop while reserve runs: retried (0) or conflict (5)', async (t) => {
    const outcomes: string[] = [];
    for (let round = 1; round <= 10; round++) {
      const prefix = testPrefix('reserve', `race-renewal-${round}`);
      const journal = sandbox.journal(`race-renewal-${round}`);
      const key = subnetKey(prefix, '10.5.1.0-24');
      const value = vxlanAttrs('192.0.2.1', '00:00:5e:10:00:01');
      const leases = await seedNetwork(etcd.endpoint, prefix, [{ key, value, lease: 'a' }]);
      const leasesBefore = await leaseIds(etcd.endpoint);

      const renewal = startRenewalLoop(key, value);
      const result = await reserve(prefix, ['10.5.1.0/24', '--json'], { journal }).finally(() =>
        renewal.stop(),
      );
      const renewed = await renewal.done;

      assert.ok([0, 5].includes(result.code), `round ${round}: ${describeRun(result)}`);
      const document = parseResultsDocument(result);
      const entry = document.results[0];
      const records = readJournal(journal);
      const intents = records.filter((record) => record.type === 'intent').length;
      const applied = records.filter((record) => record.type === 'applied').length;

      // Never another value; the lease is flanctl's "none" or one flanneld granted.
      const now = await mustRead(key);
      assertSameBytes(now.value, value, key);
      const known = now.leaseHex === null || renewed.leases.has(now.leaseHex);
      assert.ok(known || now.leaseHex === leases.get('a'), `round ${round}: ${now.leaseHex}`);

      if (result.code === 0) {
        assert.equal(entry.status, 'changed');
        assert.equal(applied, 1);
        const written = entry.after?.modRevision as number;
        const atWrite = await readKey(etcd.endpoint, key, written);
        assert.equal(atWrite?.leaseHex, null);
        assertSameBytes(atWrite?.value ?? Buffer.alloc(0), value, `${key} at ${written}`);
        // No renewal was lost: just before the write, the key was what the write was guarded on.
        const justBefore = await readKey(etcd.endpoint, key, written - 1);
        assert.equal(justBefore?.modRevision, entry.before.modRevision, `round ${round}`);
        assert.equal(justBefore?.leaseHex, entry.before.leaseId);
        // The lease it took off the key had no other key, so it must be gone.
        await assertLeaseGone(etcd.endpoint, entry.before.leaseId as string);
      } else {
        assert.equal(applied, 0, `round ${round}: a conflict wrote something`);
        assert.equal(entry.error?.exitCode, 5);
        const stderr = nonBlankLines(result.stderr);
        assert.equal(stderr.length, 1, `round ${round}: ${result.stderr}`);
        assert.ok(stderr[0].includes(key), stderr[0]);
      }

      const leasesAfter = await leaseIds(etcd.endpoint);
      const stray = [...leasesAfter].filter(
        (id) => !leasesBefore.has(id) && !renewed.leases.has(id),
      );
      assert.deepEqual(stray, [], `round ${round}: leases neither flanneld nor the seed granted`);

      const outcome =
        result.code === 5 ? 'conflict (exit 5)' : intents > 1 ? 'retried, exit 0' : 'first try';
      outcomes.push(`${outcome}`);
      t.diagnostic(`round ${round}: ${outcome}; ${renewed.puts} renewals during the run`);
    }

    t.diagnostic(`renewal loop: ${summariseOutcomes(outcomes)}`);
  });
});

// flanneld's renewal: grant a fresh lease and re-put the same value with it; the old lease is
// left alone. Bounded to 50 renewals and 3 s; it also stops when told to.
function startRenewalLoop(key: string, value: string) {
  let stopped = false;
  const leases = new Set<string>();
  let puts = 0;
  const done = withRawClient(etcd.endpoint, async (client) => {
    const started = Date.now();
    for (let i = 0; i < 50 && !stopped && Date.now() - started < 3000; i++) {
      const lease = await grantLeaseWith(client, 86_400);
      leases.add(lease);
      await putWith(client, key, value, lease);
      puts += 1;
      await sleep(8);
    }

    return { leases, puts };
  });

  return {
    done,
    stop() {
      stopped = true;
    },
  };
}
