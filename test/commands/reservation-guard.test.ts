// The reservation guard against a private etcd: records written in the same transaction as the
// change, drift seen by doctor, `reserve --reapply` and `doctor --fix`, and the flanneld
// stand-in showing that the guard leaves a live host alone and saves a dead host's subnet.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { JournalSandbox, parseResultsDocument } from '../helpers/changing-commands.js';
import { type CliResult } from '../helpers/cli.js';
import {
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  assertExitCode,
  assertOneLineError,
  parseJsonDocument,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import { startFlanneldStandin, startShortLeaseHost } from '../helpers/flanneld.js';
import {
  assertLeaseGone,
  assertNothingWritten,
  existingKey,
  leaseState,
  putKey,
  readKey,
  renewLikeFlanneld,
  seedNetwork,
} from '../helpers/kv-inspect.js';
import { CONFIG_10_5, subnetKey, testPrefix, vxlanAttrs } from '../helpers/seed.js';

const RECORDS = '/flanctl/reservations';

interface FindingJson {
  severity: string;
  code: string;
  subject: string;
  fix: string | null;
}

function recordKeyOf(prefix: string, name: string, records = RECORDS): string {
  return `${records}${prefix}/${name}`;
}

function driftOf(result: CliResult): FindingJson[] {
  const document = parseJsonDocument<{ findings: FindingJson[] }>(result.stdout);
  return document.findings.filter((item) => item.code === 'reservation-drift');
}

describe('reservation guard', () => {
  const etcd = etcdForSuite();
  const sandbox = new JournalSandbox('guard');
  after(() => sandbox.remove());

  const flanctl = (command: string, prefix: string, args: string[] = [], env = {}) =>
    sandbox.run(etcd.endpoint, command, prefix, args, { env });

  async function network(label: string, leased: Array<[string, string]>): Promise<string> {
    const prefix = testPrefix('guard', label);
    await seedNetwork(
      etcd.endpoint,
      prefix,
      leased.map(([name, ip], index) => ({
        key: subnetKey(prefix, name),
        value: vxlanAttrs(ip, `00:00:5e:30:00:${index.toString(16).padStart(2, '0')}`),
        lease: name,
      })),
    );
    return prefix;
  }

  describe('records', () => {
    test('reserve records in the same transaction; unreserve drops the record', async () => {
      const prefix = await network('records', [['10.5.1.0-24', '192.0.2.1']]);
      const key = subnetKey(prefix, '10.5.1.0-24');

      const reserved = await flanctl('reserve', prefix, ['10.5.1.0/24']);
      assertExitCode(reserved, EXIT_OK);
      const stored = await existingKey(etcd.endpoint, key);
      const record = await existingKey(etcd.endpoint, recordKeyOf(prefix, '10.5.1.0-24'));
      assert.equal(record.modRevision, stored.modRevision, 'one transaction wrote both');
      const parsed = JSON.parse(record.value.toString());
      assert.equal(parsed.key, key);
      assert.equal(parsed.publicIP, '192.0.2.1');
      assert.equal(parsed.value, stored.value.toString());

      const unreserved = await flanctl('unreserve', prefix, ['10.5.1.0/24']);
      assertExitCode(unreserved, EXIT_OK);
      assert.equal(await readKey(etcd.endpoint, recordKeyOf(prefix, '10.5.1.0-24')), undefined);
      assert.match(unreserved.stdout, /deleted its reservation record/);
    });

    test('unreserve of a key flanneld re-leased drops the record, and nothing else', async () => {
      const prefix = await network('unreserve-leased', [['10.5.6.0-24', '192.0.2.6']]);
      const key = subnetKey(prefix, '10.5.6.0-24');
      assertExitCode(await flanctl('reserve', prefix, ['10.5.6.0/24']), EXIT_OK);
      const value = (await existingKey(etcd.endpoint, key)).value.toString();
      const lease = await renewLikeFlanneld(etcd.endpoint, key, value, 86_400);

      const unreserved = await flanctl('unreserve', prefix, ['10.5.6.0/24']);
      assertExitCode(unreserved, EXIT_OK);
      assert.match(unreserved.stdout, /deleted the reservation record .* keeps lease/);
      assert.equal(await readKey(etcd.endpoint, recordKeyOf(prefix, '10.5.6.0-24')), undefined);
      assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, lease);
    });

    test('release --force of a reservation drops its record too', async () => {
      const prefix = await network('release', [['10.5.2.0-24', '192.0.2.2']]);
      assertExitCode(await flanctl('reserve', prefix, ['10.5.2.0/24']), EXIT_OK);

      const released = await flanctl('release', prefix, ['10.5.2.0/24', '--force', '--yes']);
      assertExitCode(released, EXIT_OK);
      assert.equal(await readKey(etcd.endpoint, recordKeyOf(prefix, '10.5.2.0-24')), undefined);
    });

    test('--reservations-prefix and FLANCTL_RESERVATIONS_PREFIX move the records', async () => {
      const prefix = await network('records-prefix', [
        ['10.5.3.0-24', '192.0.2.3'],
        ['10.5.4.0-24', '192.0.2.4'],
      ]);
      const flag = await flanctl('reserve', prefix, [
        '10.5.3.0/24',
        '--reservations-prefix',
        '/ops/records/',
      ]);
      assertExitCode(flag, EXIT_OK);
      await existingKey(etcd.endpoint, recordKeyOf(prefix, '10.5.3.0-24', '/ops/records'));

      const env = await flanctl('reserve', prefix, ['10.5.4.0/24'], {
        FLANCTL_RESERVATIONS_PREFIX: '/ops/env',
      });
      assertExitCode(env, EXIT_OK);
      await existingKey(etcd.endpoint, recordKeyOf(prefix, '10.5.4.0-24', '/ops/env'));
    });

    test('a records prefix inside a subnets dir is a usage error; nothing written', async () => {
      const prefix = await network('bad-records-prefix', [['10.5.5.0-24', '192.0.2.5']]);
      let result: CliResult | undefined;
      await assertNothingWritten(etcd.endpoint, async () => {
        result = await flanctl('reserve', prefix, [
          '10.5.5.0/24',
          '--reservations-prefix',
          `${prefix}/subnets/records`,
        ]);
      });
      assert.ok(result);
      assertOneLineError(result, EXIT_USAGE, '--reservations-prefix', 'subnets');
    });
  });

  describe('drift, as flanneld makes it, and its repair', () => {
    let prefix: string;
    let key: string;
    const value = vxlanAttrs('192.0.2.7', '00:00:5e:30:00:07');

    before(async () => {
      prefix = await network('drift', [['10.5.7.0-24', '192.0.2.7']]);
      key = subnetKey(prefix, '10.5.7.0-24');
      assertExitCode(await flanctl('reserve', prefix, ['10.5.7.0/24']), EXIT_OK);
    });

    test('a renewed lease on a recorded reservation: warning, and the guard leaves it', async () => {
      const lease = await renewLikeFlanneld(etcd.endpoint, key, value, 86_400);

      const doctor = await flanctl('doctor', prefix, ['--json']);
      assertExitCode(doctor, EXIT_OK);
      assert.deepEqual(
        driftOf(doctor).map((item) => [item.severity, item.fix]),
        [['warning', null]],
      );

      let reapply: CliResult | undefined;
      await assertNothingWritten(etcd.endpoint, async () => {
        reapply = await flanctl('reserve', prefix, ['--reapply']);
      });
      assert.ok(reapply);
      assertExitCode(reapply, EXIT_OK);
      assert.match(reapply.stdout, /which its host renews: .* left alone/);
      assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, lease);
    });

    test('a lease nobody renews: error, and doctor --fix detaches it, journaled', async () => {
      const lease = await renewLikeFlanneld(etcd.endpoint, key, value, 600);

      const doctor = await flanctl('doctor', prefix, ['--json']);
      assertExitCode(doctor, EXIT_PROBLEMS);
      const [drift] = driftOf(doctor);
      assert.equal(drift.severity, 'error');
      assert.equal(
        drift.fix,
        `flanctl --endpoints ${etcd.endpoint} --prefix ${prefix} reserve --reapply 10.5.7.0/24`,
      );

      const refused = await flanctl('doctor', prefix, ['--fix']);
      assertExitCode(refused, EXIT_USAGE);
      assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, lease);

      const dryRun = await flanctl('doctor', prefix, ['--fix', '--dry-run']);
      assertExitCode(dryRun, EXIT_PROBLEMS);
      assert.match(dryRun.stdout, /would reapply 10\.5\.7\.0\/24: put .* with no etcd lease/);
      assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, lease);

      const fixed = await flanctl('doctor', prefix, ['--fix', '--yes']);
      assertExitCode(fixed, EXIT_OK);
      assert.match(fixed.stdout, /reapplied 10\.5\.7\.0\/24 .* now has no etcd lease/);
      const now = await existingKey(etcd.endpoint, key);
      assert.equal(now.leaseHex, null);
      assert.equal(now.value.toString(), value);
      await assertLeaseGone(etcd.endpoint, lease);
      assert.deepEqual(driftOf(await flanctl('doctor', prefix, ['--json'])), []);
    });

    test('reserve --reapply puts a recorded key that is gone back as a reservation', async () => {
      await putKey(etcd.endpoint, key, value);
      const deleted = await flanctl('release', prefix, ['10.5.7.0/24', '--force', '--yes']);
      assertExitCode(deleted, EXIT_OK);
      // release drops the record with the key; put one back as if someone else deleted the key.
      await putKey(
        etcd.endpoint,
        recordKeyOf(prefix, '10.5.7.0-24'),
        JSON.stringify({
          version: 1,
          key,
          value,
          publicIP: '192.0.2.7',
          reservedAt: new Date().toISOString(),
        }),
      );

      const doctor = await flanctl('doctor', prefix, ['--json']);
      assert.equal(driftOf(doctor)[0]?.severity, 'error');

      const reapply = await flanctl('reserve', prefix, ['--reapply', '--json']);
      assertExitCode(reapply, EXIT_OK);
      assert.equal(parseResultsDocument(reapply).results[0].status, 'changed');
      const back = await existingKey(etcd.endpoint, key);
      assert.equal(back.leaseHex, null);
      assert.equal(back.value.toString(), value);
    });

    test('a recorded key now held by another address is refused, not overwritten', async () => {
      const stranger = vxlanAttrs('192.0.2.99', '00:00:5e:30:00:99');
      const lease = await renewLikeFlanneld(etcd.endpoint, key, stranger, 600);

      const reapply = await flanctl('reserve', prefix, ['--reapply', '10.5.7.0/24']);
      assertExitCode(reapply, EXIT_PROBLEMS);
      assert.match(reapply.stderr, /held by 192\.0\.2\.99, but the reservation was recorded for/);
      assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, lease);
    });

    test('a recorded key that is gone stays away when its host holds another subnet now', async () => {
      const other = await network('drift-moved', [['10.5.50.0-24', '192.0.2.50']]);
      const gone = subnetKey(other, '10.5.51.0-24');
      await putKey(
        etcd.endpoint,
        recordKeyOf(other, '10.5.51.0-24'),
        JSON.stringify({
          version: 1,
          key: gone,
          value: vxlanAttrs('192.0.2.50', '00:00:5e:30:00:50'),
          publicIP: '192.0.2.50',
          reservedAt: new Date().toISOString(),
        }),
      );

      const doctor = await flanctl('doctor', other, ['--json']);
      const [drift] = driftOf(doctor);
      assert.equal(drift.severity, 'warning');
      assert.equal(
        drift.fix,
        `etcdctl --endpoints=${etcd.endpoint} del ${recordKeyOf(other, '10.5.51.0-24')}`,
      );

      const reapply = await flanctl('reserve', other, ['--reapply']);
      assertExitCode(reapply, EXIT_PROBLEMS);
      assert.match(reapply.stderr, /192\.0\.2\.50 holds 10\.5\.50\.0\/24 already/);
      assert.equal(await readKey(etcd.endpoint, gone), undefined);
    });

    test('no key and no record: not found (exit 4)', async () => {
      const reapply = await flanctl('reserve', prefix, ['--reapply', '10.5.99.0/24']);
      assertExitCode(reapply, 4);
    });

    test("a nested network's records are its own", async () => {
      const outer = await network('nested', [['10.5.60.0-24', '192.0.2.60']]);
      const inner = `${outer}/inner`;
      await seedNetwork(etcd.endpoint, inner, [
        {
          key: subnetKey(inner, '10.5.61.0-24'),
          value: vxlanAttrs('192.0.2.61', '00:00:5e:30:00:61'),
          lease: 'inner',
        },
      ]);
      assertExitCode(await flanctl('reserve', inner, ['10.5.61.0/24']), EXIT_OK);

      const doctor = await flanctl('doctor', outer, ['--json']);
      assert.deepEqual(driftOf(doctor), []);
      const reapply = await flanctl('reserve', outer, ['--reapply']);
      assertExitCode(reapply, EXIT_OK);
    });

    test('a named subnet without a record is refused with the command that records it', async () => {
      const other = await network('drift-unrecorded', [['10.5.9.0-24', '192.0.2.9']]);
      const reapply = await flanctl('reserve', other, ['--reapply', '10.5.9.0/24']);
      assertExitCode(reapply, EXIT_PROBLEMS);
      assert.match(reapply.stderr, /has no reservation record; `flanctl reserve 10\.5\.9\.0\/24`/);
    });
  });

  describe('next to a flanneld stand-in', () => {
    test('a live host re-leases the reservation once; the guard never fights it', async () => {
      const prefix = testPrefix('guard', 'live-host');
      await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);
      const host = await startFlanneldStandin({
        endpoint: etcd.endpoint,
        prefix,
        publicIp: '192.0.2.21',
      });
      try {
        const acquired = await host.waitFor('acquired', (event) => event.event === 'acquired');
        const key = acquired.key as string;
        const subnet = key.slice(key.lastIndexOf('/') + 1).replace('-', '/');
        const mark = host.events.length;

        assertExitCode(await flanctl('reserve', prefix, [subnet]), EXIT_OK);
        const renewal = await host.waitFor(
          'the re-lease that answers the reservation',
          (event) => event.event === 'reattached' && event.trigger === 'watch',
          { from: mark },
        );
        await host.waitFor(
          'the watch seeing its own renewal',
          (event) => event.event === 'observed' && event.leaseId === renewal.leaseId,
          { from: mark },
        );
        const writesAfterRelease = host.writes();

        const doctor = await flanctl('doctor', prefix, ['--json']);
        assertExitCode(doctor, EXIT_OK);
        assert.equal(driftOf(doctor)[0]?.severity, 'warning');
        for (const args of [['--reapply'], ['--reapply', subnet]]) {
          const reapply = await flanctl('reserve', prefix, args);
          assertExitCode(reapply, EXIT_OK);
          assert.match(reapply.stdout, /left alone/);
        }

        const fix = await flanctl('doctor', prefix, ['--fix', '--yes']);
        assertExitCode(fix, EXIT_OK);
        assert.equal(host.writes(), writesAfterRelease, 'flanctl made the host write again');
        assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, renewal.leaseId);
      } finally {
        await host.stop();
      }
    });

    test("a dead host's re-leased reservation is detached before it expires", async () => {
      const prefix = testPrefix('guard', 'dead-host');
      const { host, key, subnet } = await startShortLeaseHost(etcd.endpoint, prefix, '192.0.2.22');
      const mark = host.events.length;
      assertExitCode(await flanctl('reserve', prefix, [subnet]), EXIT_OK);
      await host.waitFor(
        'the re-lease that answers the reservation',
        (event) => event.event === 'reattached' && event.trigger === 'watch',
        { from: mark },
      );

      const alive = await flanctl('reserve', prefix, ['--reapply', '--renew-margin', '1m']);
      assertExitCode(alive, EXIT_OK);
      assert.match(alive.stdout, /left alone/);

      await host.kill();
      const dead = await leaseState(
        etcd.endpoint,
        (await existingKey(etcd.endpoint, key)).leaseHex as string,
      );
      await waitUntil(
        'the dead host lease below one minute',
        async () => {
          const now = await existingKey(etcd.endpoint, key);
          return now.leaseHex !== null && (await leaseState(etcd.endpoint, now.leaseHex)).ttl < 60;
        },
        (dead.ttl - 55) * 1000 + 20_000,
      );

      const saved = await flanctl('reserve', prefix, ['--reapply', '--renew-margin', '1m']);
      assertExitCode(saved, EXIT_OK);
      assert.match(saved.stdout, /reapplied .* now has no etcd lease/);
      const now = await existingKey(etcd.endpoint, key);
      assert.equal(now.leaseHex, null, 'the subnet would be lost when the lease expires');
      // Every put was the host's or one of flanctl's two: the reserve and the repair.
      assert.equal(now.version, host.writes() + 2);
    });
  });
});

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }

  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
