// The flanneld stand-in against a real etcd: it must take, keep and renew a lease as flanneld's
// v3 registry does, or the tests that use it to judge flanctl prove nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { etcdForSuite } from './etcd-server.js';
import {
  type FlanneldStandin,
  type StandinEvent,
  type StandinOptions,
  standinCommand,
  startFlanneldStandin,
} from './flanneld.js';
import {
  existingKey,
  keysUnder,
  leaseIds,
  leaseState,
  putKey,
  putKeys,
  readKey,
} from './kv-inspect.js';
import {
  CONFIG_10_5,
  seedNetworkAt,
  subnetKey,
  testPrefix,
  vxlanAttrs,
  withRawClient,
} from './seed.js';

const execFileAsync = promisify(execFile);

const PUBLIC_IP = '192.0.2.10';
const VTEP_MAC = '0e:00:c0:00:02:0a';
const OTHER_HOST_IP = '192.0.2.20';
const FLANNEL_SUBNET_TTL = 86_400;
const POLL_MS = 200;
const WAIT_MS = 20_000;

const OWN_VALUE = vxlanAttrs(PUBLIC_IP, VTEP_MAC);

const is =
  (name: string, fields: Partial<StandinEvent> = {}) =>
  (event: StandinEvent): boolean =>
    event.event === name &&
    Object.entries(fields).every(([field, value]) => event[field] === value);

describe('flanneld stand-in', () => {
  const etcd = etcdForSuite();

  async function start(
    t: TestContext,
    prefix: string,
    options: Partial<StandinOptions> = {},
  ): Promise<FlanneldStandin> {
    const standin = await startFlanneldStandin({
      endpoint: etcd.endpoint,
      publicIp: PUBLIC_IP,
      vtepMac: VTEP_MAC,
      prefix,
      ...options,
    });
    t.after(() => standin.stop());
    return standin;
  }

  /** It has read back its own last write and decided what to do next. */
  async function settled(standin: FlanneldStandin, write: StandinEvent): Promise<StandinEvent> {
    return standin.waitFor(`its own write of lease ${write.leaseId} observed`, (event) =>
      is('observed', { leaseId: write.leaseId })(event),
    );
  }

  async function waitUntil(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!(await check())) {
      if (Date.now() > deadline) assert.fail(`not within ${WAIT_MS} ms: ${what}`);
      await sleep(POLL_MS);
    }
  }

  test('on an empty network it creates a key of its own under a 24 h lease', async (t) => {
    const prefix = testPrefix('standin', 'acquire');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);

    const standin = await start(t, prefix);
    const acquired = await standin.waitFor('acquired', is('acquired'));
    const observed = await settled(standin, acquired);

    assert.equal(acquired.source, 'allocated');
    // 10.5.0.0/24 is below flannel's default SubnetMin.
    assert.match(acquired.key ?? '', /\/subnets\/10\.5\.([1-9]\d*)\.0-24$/);
    const stored = await existingKey(etcd.endpoint, acquired.key as string);
    assert.equal(stored.value.toString('utf8'), OWN_VALUE);
    assert.equal(stored.leaseHex, acquired.leaseId);
    assert.equal(stored.version, 1);
    assert.equal((await leaseState(etcd.endpoint, stored.leaseHex as string)).grantedTtl, 86_400);
    assert.equal(standin.writes(), 1);
    // Its next write is a renewal about 23 h away, not an echo of its own put.
    assert.ok((observed.renewInSeconds ?? 0) > 3_600, JSON.stringify(observed));
  });

  test("it reuses its PublicIP's key with a fresh lease and leaves the old one", async (t) => {
    const prefix = testPrefix('standin', 'reuse');
    const ownKey = subnetKey(prefix, '10.5.7.0-24');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5, [
      { key: '10.5.3.0-24', value: vxlanAttrs(OTHER_HOST_IP, '0e:00:00:00:00:20'), ttl: 600 },
      { key: '10.5.7.0-24', value: vxlanAttrs(PUBLIC_IP, '0e:00:00:00:00:99'), ttl: 600 },
    ]);
    const before = await existingKey(etcd.endpoint, ownKey);

    const standin = await start(t, prefix);
    const reused = await standin.waitFor('reused', is('reused'));

    assert.equal(reused.key, ownKey);
    assert.equal(reused.previousLeaseId, before.leaseHex);
    assert.notEqual(reused.leaseId, before.leaseHex);
    const after = await existingKey(etcd.endpoint, ownKey);
    assert.equal(after.leaseHex, reused.leaseId);
    // Its own attributes replace the old ones, new VTEP MAC included.
    assert.equal(after.value.toString('utf8'), OWN_VALUE);
    const oldLease = await leaseState(etcd.endpoint, before.leaseHex as string);
    assert.ok(oldLease.ttl > 0, 'the old lease was revoked');
    assert.deepEqual(oldLease.keys, []);
    assert.equal(standin.writes(), 1);
  });

  test('on start it re-leases a reserved key of its PublicIP (flannel issue 1329)', async (t) => {
    const prefix = testPrefix('standin', 'reserved-start');
    const ownKey = subnetKey(prefix, '10.5.9.0-24');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5, [
      { key: '10.5.9.0-24', value: OWN_VALUE, ttl: null },
    ]);

    const standin = await start(t, prefix);
    const reattached = await standin.waitFor('reattached', is('reattached'));
    await settled(standin, reattached);

    // By tryAcquireLease itself, not only later by the watch's first read of the key.
    assert.equal(reattached.trigger, 'start');
    assert.equal(reattached.key, ownKey);
    assert.equal(reattached.previousLeaseId, null);
    assert.equal(standin.writes(), 1);
    const after = await existingKey(etcd.endpoint, ownKey);
    assert.ok(after.leaseHex !== null, 'the reservation survived');
    assert.equal(after.leaseHex, reattached.leaseId);
    const lease = await leaseState(etcd.endpoint, after.leaseHex);
    assert.equal(lease.grantedTtl, FLANNEL_SUBNET_TTL);
  });

  test('it takes the subnet of --subnet-file when that subnet is free', async (t) => {
    const prefix = testPrefix('standin', 'subnet-file');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);
    const subnetFile = writeSubnetEnv(
      t,
      'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.34.1/24\n',
    );

    const standin = await start(t, prefix, { subnetFile });
    const acquired = await standin.waitFor('acquired', is('acquired'));

    assert.equal(acquired.source, 'subnet-file');
    assert.equal(acquired.key, subnetKey(prefix, '10.5.34.0-24'));
  });

  test('a lost creation race ends it with exit 1, its new lease revoked', async (t) => {
    // flanneld lists a key with a bad value as free, tries to create it, and fails for good.
    const prefix = testPrefix('standin', 'lost-race');
    const takenKey = subnetKey(prefix, '10.5.34.0-24');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5, [
      { key: '10.5.34.0-24', value: 'not json', ttl: null },
    ]);
    const subnetFile = writeSubnetEnv(t, 'FLANNEL_SUBNET=10.5.34.1/24\n');
    const leasesBefore = await leaseIds(etcd.endpoint);

    const standin = await start(t, prefix, { subnetFile });
    const exit = await standin.exited;

    assert.equal(exit.code, 1);
    assert.ok(standin.events.some(is('failed')), JSON.stringify(standin.events));
    assert.equal((await existingKey(etcd.endpoint, takenKey)).value.toString(), 'not json');
    const leftOver = [...(await leaseIds(etcd.endpoint))].filter((id) => !leasesBefore.has(id));
    assert.deepEqual(leftOver, [], 'the lease granted for the lost creation is still there');
    assert.equal(standin.writes(), 0);
  });

  test('each renewal puts the key under a new lease and revokes none', async (t) => {
    const prefix = testPrefix('standin', 'renew');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);

    // Renews when under 16 s remain: every few seconds, while old leases live on for 16 s.
    const standin = await start(t, prefix, { leaseTtlSeconds: 20, renewMarginSeconds: 16 });
    const acquired = await standin.waitFor('acquired', is('acquired'));
    const first = await standin.waitFor('a renewal', is('renewed', { trigger: 'expiry' }));
    const second = await standin.waitFor('a second renewal', (event) =>
      is('renewed', { trigger: 'expiry', previousLeaseId: first.leaseId })(event),
    );

    const leases = [acquired.leaseId, first.leaseId, second.leaseId];
    assert.equal(new Set(leases).size, 3, `lease ids repeat: ${leases.join(', ')}`);
    assert.equal(first.previousLeaseId, acquired.leaseId);
    for (const oldLease of [acquired.leaseId, first.leaseId] as string[]) {
      const state = await leaseState(etcd.endpoint, oldLease);
      assert.ok(state.ttl > 0, `lease ${oldLease} was revoked`);
      assert.deepEqual(state.keys, [], `lease ${oldLease} still holds the key`);
    }
    const stored = await existingKey(etcd.endpoint, acquired.key as string);
    assert.equal(stored.value.toString('utf8'), OWN_VALUE);
    assert.equal((await leaseState(etcd.endpoint, second.leaseId as string)).grantedTtl, 20);
  });

  test('a put of its key without a lease is undone at once, one write per put', async (t) => {
    const prefix = testPrefix('standin', 'reserved-live');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);
    const standin = await start(t, prefix);
    const acquired = await standin.waitFor('acquired', is('acquired'));
    await standin.waitFor('watching', is('watching'));
    await settled(standin, acquired);
    const key = acquired.key as string;

    const outsidePuts = 3;
    for (let round = 1; round <= outsidePuts; round++) {
      const mark = standin.events.length;
      const reservedAt = await putKey(etcd.endpoint, key, OWN_VALUE, null);

      const reattached = await standin.waitFor(
        `reattached after put ${round}`,
        is('reattached', { trigger: 'watch' }),
        { from: mark },
      );
      assert.equal(reattached.previousLeaseId, null);
      const observed = await settled(standin, reattached);
      assert.ok((observed.modRevision ?? 0) > reservedAt);
      assert.ok((observed.renewInSeconds ?? 0) > 3_600, JSON.stringify(observed));
    }

    const stored = await existingKey(etcd.endpoint, key);
    // Its creation, then per round the outside put and its one answer.
    assert.equal(stored.version, 1 + 2 * outsidePuts);
    assert.equal(standin.writes(), 1 + outsidePuts);
    assert.equal(stored.leaseHex, standin.events.filter(is('reattached')).at(-1)?.leaseId);
  });

  test('a put with another value and a long lease is left until the next renewal', async (t) => {
    const prefix = testPrefix('standin', 'other-value');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);
    const standin = await start(t, prefix);
    const acquired = await standin.waitFor('acquired', is('acquired'));
    await standin.waitFor('watching', is('watching'));
    await settled(standin, acquired);
    const key = acquired.key as string;

    const otherValue = vxlanAttrs(PUBLIC_IP, '0e:00:00:00:00:77');
    const leases = await putKeys(etcd.endpoint, [{ key, value: otherValue, lease: 'other' }]);
    const otherLease = leases.get('other');
    const observed = await standin.waitFor('the outside put observed', (event) =>
      is('observed', { via: 'watch', leaseId: otherLease })(event),
    );

    assert.ok((observed.renewInSeconds ?? 0) > 3_600, JSON.stringify(observed));
    assert.equal(standin.writes(), 1);
    assert.equal((await existingKey(etcd.endpoint, key)).value.toString('utf8'), otherValue);
  });

  test('when its key is deleted it shuts down like flanneld, without re-acquiring', async (t) => {
    const prefix = testPrefix('standin', 'deleted');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);
    const standin = await start(t, prefix);
    const acquired = await standin.waitFor('acquired', is('acquired'));
    await standin.waitFor('watching', is('watching'));

    await etcdDelete(acquired.key as string);
    const exit = await standin.exited;

    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(standin.events.some(is('revoked', { key: acquired.key })));
    assert.deepEqual(await keysUnder(etcd.endpoint, `${prefix}/subnets/`), []);
    assert.equal(standin.writes(), 1);
  });

  test('SIGTERM stops it with its lease left to expire', async (t) => {
    const prefix = testPrefix('standin', 'sigterm');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);
    const standin = await start(t, prefix);
    const acquired = await standin.waitFor('acquired', is('acquired'));

    const exit = await standin.stop();

    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(standin.events.some(is('stopped', { signal: 'SIGTERM' })));
    const stored = await existingKey(etcd.endpoint, acquired.key as string);
    assert.equal(stored.leaseHex, acquired.leaseId);
    assert.ok((await leaseState(etcd.endpoint, acquired.leaseId as string)).ttl > 0);
  });

  test('after SIGKILL nothing renews and the key expires with its lease', async (t) => {
    const prefix = testPrefix('standin', 'sigkill');
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5);
    const standin = await start(t, prefix, { leaseTtlSeconds: 5, renewMarginSeconds: 3 });
    const acquired = await standin.waitFor('acquired', is('acquired'));
    await standin.waitFor('a renewal', is('renewed'));

    const exit = await standin.kill();
    const key = acquired.key as string;
    const atDeath = await existingKey(etcd.endpoint, key);

    assert.equal(exit.signal, 'SIGKILL');
    await waitUntil(`${key} expires`, async () => {
      const now = await readKey(etcd.endpoint, key);
      // Any write after the kill would show as a newer version of the key.
      assert.ok(now === undefined || now.version === atDeath.version, 'the key was written again');
      return now === undefined;
    });
    assert.deepEqual(await keysUnder(etcd.endpoint, `${prefix}/subnets/`), []);
  });

  test('refuses bad options with one line and exit 2, and any endpoint off loopback', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--public-ip', PUBLIC_IP], /--endpoint is required/],
      [['--endpoint', 'http://192.0.2.1:2379', '--public-ip', PUBLIC_IP], /only talks to a test/],
      [['--endpoint', etcd.endpoint, '--public-ip', '192.0.2'], /not an IPv4 address/],
      [
        ['--endpoint', etcd.endpoint, '--public-ip', PUBLIC_IP, '--renew-margin', '86400'],
        /must be less than --lease-ttl 86400/,
      ],
      [['--endpoint', etcd.endpoint, '--public-ip', PUBLIC_IP, '--backend', 'udp'], /vxlan/],
    ];

    for (const [args, message] of cases) {
      const [command, commandArgs] = standinCommand(args);
      const failure = await execFileAsync(command, commandArgs, { timeout: WAIT_MS }).then(
        () => assert.fail(`accepted ${args.join(' ')}`),
        (error: { code?: number; stdout?: string; stderr?: string }) => error,
      );
      assert.equal(failure.code, 2, args.join(' '));
      assert.equal(failure.stdout, '');
      assert.match(failure.stderr ?? '', message);
      assert.equal((failure.stderr ?? '').trimEnd().split('\n').length, 1);
    }
  });

  async function etcdDelete(key: string): Promise<void> {
    await withRawClient(etcd.endpoint, (client) => client.delete().key(key).exec());
  }
});

function writeSubnetEnv(t: TestContext, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-standin-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'subnet.env');
  fs.writeFileSync(file, content);
  return file;
}
