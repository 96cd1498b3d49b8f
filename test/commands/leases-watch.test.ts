// `flanctl leases ls --watch` as a running subprocess against a private etcd: another client
// writes the way flanneld and operators do, and each change must show with its label; etcd is
// restarted and compacted under the watch; SIGINT and SIGTERM end it with exit 0.
import assert from 'node:assert/strict';
import { afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { runCli, runInShell } from '../helpers/cli.js';
import { EXIT_OK, EXIT_USAGE, assertOneLineFlanctlError } from '../helpers/cli-output.js';
import { CliProcess } from '../helpers/cli-process.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import {
  compactHistory,
  deleteKey,
  grantLeaseWithId,
  putKey,
  putKeys,
  renewLikeFlanneld,
} from '../helpers/kv-inspect.js';
import type { LeaseJson } from '../helpers/leases.js';
import { CONFIG_10_5, subnetKey, testPrefix, vxlanAttrs } from '../helpers/seed.js';

/** One NDJSON object of `leases ls --watch --json`. */
interface WatchObject extends LeaseJson {
  event: string;
  time: string;
  revision: number;
  previous: LeaseJson | null;
  compactRevision?: number;
  reason?: string;
}

const ISO_UTC_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** flanneld's value for host 192.0.2.N: its PublicIP and a VTEP MAC of its own. */
function hostValue(host: number): string {
  return vxlanAttrs(`192.0.2.${host}`, `00:00:5e:10:00:${host.toString(16).padStart(2, '0')}`);
}

/** 10.5.N.0/24 and its key under `prefix`. */
function subnet(prefix: string, n: number) {
  return { cidr: `10.5.${n}.0/24`, key: subnetKey(prefix, `10.5.${n}.0-24`) };
}

const watchers: CliProcess[] = [];

function watch(endpoint: string, prefix: string, ...extra: string[]): CliProcess {
  const args = ['leases', 'ls', '--watch', '--endpoints', endpoint, '--prefix', prefix, ...extra];
  const watcher = new CliProcess(args);
  watchers.push(watcher);
  return watcher;
}

afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.kill();
});

/** Waits for the object of `event` on `cidr` (with `extra` true of it) and returns it. */
function seen(
  watcher: CliProcess,
  event: string,
  cidr: string,
  extra: (object: WatchObject) => boolean = () => true,
): Promise<WatchObject> {
  return watcher.waitForObject<WatchObject>(
    `a ${event} event for ${cidr}`,
    (object) => object.event === event && object.subnet === cidr && extra(object),
  );
}

/** The events after the first listing, per subnet, in the order printed. */
function eventsBySubnet(watcher: CliProcess): Record<string, string[]> {
  const events: Record<string, string[]> = {};
  for (const object of watcher.objects<WatchObject>()) {
    if (object.event === 'initial' || object.subnet === undefined) continue;
    (events[object.subnet] ??= []).push(object.event);
  }
  return events;
}

function assertExitedOk(exit: { code: number | null; signal: string | null }, watcher: CliProcess) {
  assert.deepEqual(exit, { code: EXIT_OK, signal: null }, watcher.describe());
  assert.doesNotMatch(watcher.lines('stderr').join('\n'), /error/, watcher.describe());
}

describe('flanctl leases ls --watch', () => {
  const etcd = etcdForSuite();

  describe('labels every change another client makes (--json)', () => {
    const prefix = testPrefix('watch', 'labels');
    const [changed, expiring, allocated, reserved, shortLived] = [1, 2, 3, 4, 5].map((n) =>
      subnet(prefix, n),
    );

    before(async () => {
      await putKeys(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5 },
        { key: changed.key, value: hostValue(1), lease: 'one' },
        // Listed with about 10 s left, so its deletion comes after its last known TTL ran out.
        { key: expiring.key, value: hostValue(2), lease: 'two', ttl: 10 },
      ]);
    });

    test('allocated, reserved, renewed, unreserved, changed, removed and expired', async () => {
      const watcher = watch(etcd.endpoint, prefix, '--json');
      const initial = await seen(watcher, 'initial', changed.cidr);
      await seen(watcher, 'initial', expiring.cidr);
      assert.match(initial.time, ISO_UTC_MS);
      assert.equal(initial.previous, null);

      // flanneld allocating: a key under a new lease.
      const leases = await putKeys(etcd.endpoint, [
        { key: allocated.key, value: hostValue(3), lease: 'three' },
      ]);
      const allocation = await seen(watcher, 'allocated', allocated.cidr);
      assert.equal(allocation.leaseId, leases.get('three'));
      assert.equal(allocation.publicIP, '192.0.2.3');
      assert.ok((allocation.ttlSeconds ?? 0) > 86_000, `TTL ${allocation.ttlSeconds}`);
      assert.equal(allocation.previous, null);

      // An operator pre-assigning a subnet: a new key without a lease.
      const reservationRevision = await putKey(etcd.endpoint, reserved.key, hostValue(4));
      const reservation = await seen(watcher, 'reserved', reserved.cidr);
      assert.equal(reservation.revision, reservationRevision);
      assert.equal(reservation.type, 'reservation');
      assert.equal(reservation.previous, null);

      // flanneld renewing: the same value under a fresh lease.
      const renewedLease = await renewLikeFlanneld(etcd.endpoint, allocated.key, hostValue(3), 600);
      const renewal = await seen(watcher, 'renewed', allocated.cidr);
      assert.equal(renewal.leaseId, renewedLease);
      assert.equal(renewal.previous?.leaseId, leases.get('three'));
      assert.ok((renewal.ttlSeconds ?? 0) <= 600, `TTL ${renewal.ttlSeconds}`);

      // Reserving a lease: the same value put again without a lease.
      await putKey(etcd.endpoint, allocated.key, hostValue(3));
      const reserving = await seen(watcher, 'reserved', allocated.cidr);
      assert.equal(reserving.previous?.type, 'lease');
      assert.equal(reserving.leaseId, null);

      // Unreserving: a reservation put under a lease.
      const unreserveLease = 'ffffffffffffff41';
      await grantLeaseWithId(etcd.endpoint, unreserveLease, 3600);
      await putKey(etcd.endpoint, reserved.key, hostValue(4), unreserveLease);
      const unreserving = await seen(watcher, 'unreserved', reserved.cidr);
      assert.equal(unreserving.leaseId, unreserveLease, 'a lease id above 2^53, exact');
      assert.equal(unreserving.previous?.type, 'reservation');

      // A host coming back with another address: another value under its lease.
      await putKey(etcd.endpoint, changed.key, hostValue(11), initial.leaseId);
      const change = await seen(watcher, 'changed', changed.cidr);
      assert.equal(change.publicIP, '192.0.2.11');
      assert.equal(change.previous?.publicIP, '192.0.2.1');

      // Released by hand while its lease had time left.
      const deletedAt = await deleteKey(etcd.endpoint, reserved.key);
      const removal = await seen(watcher, 'removed', reserved.cidr);
      assert.equal(removal.revision, deletedAt);
      assert.equal(removal.publicIP, '192.0.2.4', 'a removed key is shown as last known');

      // A lease that runs out, once granted after the listing and once listed.
      const shortLease = await putKeys(etcd.endpoint, [
        // Short, but long enough that flanctl asks for its TTL before it runs out.
        { key: shortLived.key, value: hostValue(5), lease: 'short', ttl: 5 },
      ]);
      await seen(watcher, 'allocated', shortLived.cidr);
      const expiry = await seen(watcher, 'expired', shortLived.cidr);
      assert.equal(expiry.leaseId, shortLease.get('short'));
      await seen(watcher, 'expired', expiring.cidr);

      assert.deepEqual(eventsBySubnet(watcher), {
        [changed.cidr]: ['changed'],
        [expiring.cidr]: ['expired'],
        [allocated.cidr]: ['allocated', 'renewed', 'reserved'],
        [reserved.cidr]: ['reserved', 'unreserved', 'removed'],
        [shortLived.cidr]: ['allocated', 'expired'],
      });
      const revisions = watcher.objects<WatchObject>().map((object) => object.revision);
      const changes = revisions.slice(2);
      assert.deepEqual(
        changes,
        [...changes].sort((a, b) => a - b),
        'in revision order',
      );
      for (const object of watcher.objects<WatchObject>()) assert.match(object.time, ISO_UTC_MS);
    });
  });

  test('table lines: UTC time, label, subnet, public IP and TTL, after the table', async () => {
    const prefix = testPrefix('watch', 'table');
    const [listed, added] = [1, 2].map((n) => subnet(prefix, n));
    await putKeys(etcd.endpoint, [
      { key: `${prefix}/config`, value: CONFIG_10_5 },
      { key: listed.key, value: hostValue(1) },
    ]);

    const watcher = watch(etcd.endpoint, prefix);
    await watcher.waitForLine('the table row of 10.5.1.0/24', (line) => line.startsWith('10.5.1.'));
    await putKeys(etcd.endpoint, [{ key: added.key, value: hostValue(2), lease: 'two' }]);

    const line = await watcher.waitForLine('the change line', (text) => text.includes('allocated'));
    assert.match(
      line,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {3}allocated {4}10\.5\.2\.0\/24 {10}192\.0\.2\.2 {9}2[34]h\d+m\d+s$/,
    );
    assert.match(watcher.lines()[0], /^SUBNET\s+PUBLIC IP/);
    assert.deepEqual(watcher.lines('stderr'), []);
  });

  test('the filters of leases ls apply: a change shows when the key matched before or after', async () => {
    const prefix = testPrefix('watch', 'filters');
    const [mine, other, later] = [7, 8, 17].map((n) => subnet(prefix, n));
    await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);

    const watcher = watch(etcd.endpoint, prefix, '--json', '--public-ip', '192.0.2.7');
    await watcher.waitForLine(
      'the note that the network is empty',
      (line) => line.includes('no leases under'),
      'stderr',
    );
    await putKeys(etcd.endpoint, [
      { key: other.key, value: hostValue(8), lease: 'eight' },
      { key: mine.key, value: hostValue(7), lease: 'seven' },
    ]);
    await putKey(etcd.endpoint, mine.key, hostValue(9));
    await putKey(etcd.endpoint, mine.key, hostValue(10));
    await putKeys(etcd.endpoint, [{ key: later.key, value: hostValue(7), lease: 'again' }]);

    await seen(watcher, 'allocated', later.cidr);
    assert.deepEqual(eventsBySubnet(watcher), {
      [mine.cidr]: ['allocated', 'reserved'],
      [later.cidr]: ['allocated'],
    });
  });

  for (const [flag, value, named] of [
    ['--sort', 'ttl', '--sort ttl'],
    ['--expiring-within', '1h', '--expiring-within'],
  ] as const) {
    test(`${flag} cannot be used with --watch (exit 2, before any etcd call)`, async () => {
      const result = await runCli(
        ['leases', 'ls', '--watch', flag, value, '--endpoints', etcd.endpoint],
        { timeoutMs: 15_000 },
      );

      assertOneLineFlanctlError(result, EXIT_USAGE, named, '--watch');
    });
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} ends the watch with exit 0`, async () => {
      const prefix = testPrefix('watch', signal.toLowerCase());
      const { key } = subnet(prefix, 1);
      await putKey(etcd.endpoint, key, hostValue(1));
      const watcher = watch(etcd.endpoint, prefix, '--json');
      await seen(watcher, 'initial', '10.5.1.0/24');

      watcher.signal(signal);

      assertExitedOk(await watcher.exited(), watcher);
    });
  }

  test('a pipe into head ends the watch quietly with exit 0 at the next change', async () => {
    const prefix = testPrefix('watch', 'head');
    const { key } = subnet(prefix, 1);
    await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);
    await putKey(etcd.endpoint, key, hostValue(1));
    const args = ['leases', 'ls', '--watch', '--json', '--endpoints', etcd.endpoint];

    const pipeline = runInShell('"$@" | head -n 1; exit "${PIPESTATUS[0]}"', [
      ...args,
      '--prefix',
      prefix,
    ]);
    let finished = false;
    void pipeline.finally(() => (finished = true));
    for (let host = 2; !finished && host < 100; host++) {
      await putKey(etcd.endpoint, key, hostValue(host));
      await sleep(200);
    }

    const result = await pipeline;
    assert.equal(result.code, EXIT_OK, result.stderr);
    assert.equal(result.stdout.split('\n').length, 2, 'one line and its end');
    assert.equal(result.stderr, '');
  });
});

describe('flanctl leases ls --watch across etcd restarts and compaction', () => {
  const etcd = etcdForSuite();

  /**
   * Waits for the listing of `listed`, then puts `live` and waits for its change: only then is
   * the watch stream surely open (it opens after the listing is printed).
   */
  async function streamIsOpen(
    watcher: CliProcess,
    listed: { cidr: string },
    live: { cidr: string; key: string },
  ) {
    await seen(watcher, 'initial', listed.cidr);
    await putKey(etcd.endpoint, live.key, hostValue(99));
    await seen(watcher, 'reserved', live.cidr);
  }

  /** Stops etcd and starts it again on the same port and data, running `meanwhile` between. */
  async function restartEtcd(meanwhile: () => Promise<void> = async () => {}) {
    await etcd.server.stopKeepingData();
    await meanwhile();
    await etcd.server.startAgain();
  }

  test('reconnects and resumes after the last revision it saw: nothing missed or repeated', async () => {
    const prefix = testPrefix('watch', 'restart');
    const [listed, before, during, after] = [1, 2, 3, 4].map((n) => subnet(prefix, n));
    await putKey(etcd.endpoint, listed.key, hostValue(1));
    const watcher = watch(etcd.endpoint, prefix, '--json');
    await seen(watcher, 'initial', listed.cidr);

    const lastSeen = await putKey(etcd.endpoint, before.key, hostValue(2));
    await seen(watcher, 'reserved', before.cidr);

    await restartEtcd(async () => {
      await watcher.waitForLine(
        'the note that the connection was lost',
        (line) => line.startsWith('flanctl: etcd connection lost, retrying'),
        'stderr',
      );
    });
    // Written while flanctl may still be waiting to reconnect.
    await putKey(etcd.endpoint, during.key, hostValue(3));
    await watcher.waitForLine(
      'the note that the watch resumed',
      (line) => line === `flanctl: resumed at revision ${lastSeen + 1}`,
      'stderr',
    );
    await putKey(etcd.endpoint, after.key, hostValue(4));
    await seen(watcher, 'reserved', after.cidr);

    assert.deepEqual(eventsBySubnet(watcher), {
      [before.cidr]: ['reserved'],
      [during.cidr]: ['reserved'],
      [after.cidr]: ['reserved'],
    });
  });

  test('a change written while it was cut off from etcd is seen once', async () => {
    const prefix = testPrefix('watch', 'cut-off');
    const [first, live, missed, marker] = [1, 2, 3, 4].map((n) => subnet(prefix, n));
    await putKey(etcd.endpoint, first.key, hostValue(1));
    const watcher = watch(etcd.endpoint, prefix, '--json');
    await streamIsOpen(watcher, first, live);

    // Frozen, flanctl cannot reconnect before the write: its stream dies with the old etcd.
    watcher.signal('SIGSTOP');
    try {
      await restartEtcd();
      await putKey(etcd.endpoint, missed.key, hostValue(2));
    } finally {
      watcher.signal('SIGCONT');
    }

    await seen(watcher, 'reserved', missed.cidr);
    await putKey(etcd.endpoint, marker.key, hostValue(3));
    await seen(watcher, 'reserved', marker.cidr);
    assert.deepEqual(eventsBySubnet(watcher), {
      [live.cidr]: ['reserved'],
      [missed.cidr]: ['reserved'],
      [marker.cidr]: ['reserved'],
    });
    assert.ok(
      watcher.lines('stderr').some((line) => line.startsWith('flanctl: resumed at revision')),
      watcher.describe(),
    );
  });

  test('after a compaction past its revision: a resync event, the differences, and on', async () => {
    const prefix = testPrefix('watch', 'compacted');
    const [kept, moved, gone, added, marker, live] = [1, 2, 3, 4, 5, 6].map((n) =>
      subnet(prefix, n),
    );
    await putKeys(etcd.endpoint, [
      { key: `${prefix}/config`, value: CONFIG_10_5 },
      { key: kept.key, value: hostValue(1), lease: 'one' },
      { key: moved.key, value: hostValue(2) },
      { key: gone.key, value: hostValue(3) },
    ]);
    const watcher = watch(etcd.endpoint, prefix, '--json');
    await streamIsOpen(watcher, gone, live);

    let compactedAt = 0;
    watcher.signal('SIGSTOP');
    try {
      await restartEtcd();
      await putKey(etcd.endpoint, moved.key, hostValue(12));
      await deleteKey(etcd.endpoint, gone.key);
      await putKey(etcd.endpoint, added.key, hostValue(4));
      compactedAt = await compactHistory(etcd.endpoint);
    } finally {
      watcher.signal('SIGCONT');
    }

    const resync = await watcher.waitForObject<WatchObject>('a resync event', (object) => {
      return object.event === 'resync';
    });
    assert.equal(resync.compactRevision, compactedAt);
    assert.ok(resync.revision >= compactedAt, `listed again at ${resync.revision}`);
    await putKey(etcd.endpoint, marker.key, hostValue(5));
    await seen(watcher, 'reserved', marker.cidr);

    const objects = watcher.objects<WatchObject>();
    const afterResync = objects
      .slice(objects.findIndex((object) => object.event === 'resync'))
      .map((object) => [object.event, object.subnet ?? '', object.revision]);
    assert.deepEqual(afterResync.slice(0, 4), [
      ['resync', '', resync.revision],
      ['changed', moved.cidr, resync.revision],
      ['reserved', added.cidr, resync.revision],
      ['removed', gone.cidr, resync.revision],
    ]);
    assert.deepEqual(
      afterResync.slice(4).map(([event, cidr]) => [event, cidr]),
      [['reserved', marker.cidr]],
      'the watch goes on from the new listing, without repeating anything',
    );
  });

  test('while etcd stays away it keeps retrying, and SIGTERM still ends it with exit 0', async () => {
    const prefix = testPrefix('watch', 'away');
    await putKey(etcd.endpoint, subnet(prefix, 1).key, hostValue(1));
    const watcher = watch(etcd.endpoint, prefix);
    await watcher.waitForLine('the table', (line) => line.startsWith('10.5.1.'));

    await etcd.server.stopKeepingData();
    try {
      await watcher.waitForLine(
        'the note that the connection was lost',
        (line) => line.startsWith('flanctl: etcd connection lost, retrying'),
        'stderr',
      );
      watcher.signal('SIGTERM');
      const exit = await watcher.exited();

      assert.deepEqual(exit, { code: EXIT_OK, signal: null }, watcher.describe());
    } finally {
      await etcd.server.startAgain();
    }
  });
});
