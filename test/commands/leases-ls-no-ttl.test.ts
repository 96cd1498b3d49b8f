// `flanctl leases ls --no-ttl` against a private etcd: the listing without one TimeToLive call
// (etcd's own call counter proves it), what stands in for the TTLs, and the flags it excludes.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { EXIT_USAGE, assertOneLineError } from '../helpers/cli-output.js';
import { grpcCallsStarted } from '../helpers/etcd-metrics.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import {
  type LeaseJson,
  type LeasesDocument,
  leasesLs,
  parseLeasesDocument,
  parseTable,
  rowFor,
  subnets,
} from '../helpers/leases.js';
import { CONFIG_10_5, leaseValue, seedNetworkAt, testPrefix } from '../helpers/seed.js';

type NoTtlDocument = LeasesDocument<LeaseJson> & { ttlsSkipped?: boolean };

const TIME_TO_LIVE = 'LeaseTimeToLive';

describe('flanctl leases ls --no-ttl', () => {
  const etcd = etcdForSuite();
  const prefix = testPrefix('no-ttl');

  before(async () => {
    await seedNetworkAt(etcd.endpoint, prefix, CONFIG_10_5, [
      { key: '10.5.1.0-24', value: leaseValue('192.0.2.1'), ttl: null },
      { key: '10.5.7.0-24', value: leaseValue('192.0.2.7'), ttl: 86_400 },
      // Overdue with TTLs read; without them nothing may claim so.
      { key: '10.5.9.0-24', value: leaseValue('192.0.2.9'), ttl: 600 },
      { key: '10.6.0.0-24', value: leaseValue('192.0.2.60'), ttl: 86_400 },
    ]);
  });

  test('--json asks etcd for no TTL, marks the document and each lease', async () => {
    const callsBefore = await grpcCallsStarted(etcd.endpoint, TIME_TO_LIVE);
    const result = await leasesLs(etcd.endpoint, prefix, ['--no-ttl', '--json']);
    const callsAfter = await grpcCallsStarted(etcd.endpoint, TIME_TO_LIVE);

    assert.equal(result.code, 0, `stderr: ${result.stderr}`);
    assert.equal(result.stderr, '');
    assert.equal(callsAfter - callsBefore, 0, 'TimeToLive calls were made');

    const document = parseLeasesDocument<LeaseJson>(result.stdout, {
      prefixAndRevision: true,
    }) as NoTtlDocument;
    assert.equal(document.ttlsSkipped, true);
    assert.deepEqual(
      document.leases.map((lease) => [lease.subnet, lease.type, lease.status]),
      [
        ['10.5.1.0/24', 'reservation', 'reservation'],
        ['10.5.7.0/24', 'lease', 'unknown'],
        ['10.5.9.0/24', 'lease', 'unknown'],
        ['10.6.0.0/24', 'lease', 'unknown'],
      ],
    );
    for (const lease of document.leases) {
      assert.equal(lease.ttlSeconds, null, lease.subnet);
      assert.equal(lease.grantedTtlSeconds, null, lease.subnet);
      assert.equal(lease.expiresAt, null, lease.subnet);
      assert.equal(lease.leaseId === null, lease.type === 'reservation', lease.subnet);
    }
    assert.equal(document.leases.at(-1)?.configMisfits.length, 1);
  });

  test('without --no-ttl the same listing asks once per lease (the counter works)', async () => {
    const callsBefore = await grpcCallsStarted(etcd.endpoint, TIME_TO_LIVE);
    const result = await leasesLs(etcd.endpoint, prefix, ['--json']);
    const callsAfter = await grpcCallsStarted(etcd.endpoint, TIME_TO_LIVE);

    assert.equal(result.code, 0, `stderr: ${result.stderr}`);
    assert.equal(callsAfter - callsBefore, 3);
    const document = JSON.parse(result.stdout) as NoTtlDocument;
    assert.equal('ttlsSkipped' in document, false);
    assert.equal(
      document.leases.find((lease) => lease.subnet === '10.5.9.0/24')?.status,
      'renewal-overdue',
    );
  });

  test('the table shows ? for a lease TTL and expiry, and no lease-missing note', async () => {
    const result = await leasesLs(etcd.endpoint, prefix, ['--no-ttl']);

    assert.equal(result.code, 0, `stderr: ${result.stderr}`);
    assert.equal(result.stderr, '');
    const table = parseTable(result.stdout);
    assert.deepEqual(subnets(table), ['10.5.1.0/24', '10.5.7.0/24', '10.5.9.0/24', '10.6.0.0/24']);

    const reserved = rowFor(table, '10.5.1.0/24');
    assert.deepEqual(
      [reserved.TYPE, reserved.TTL, reserved.EXPIRES],
      ['reservation', '-', 'never'],
    );
    for (const subnet of ['10.5.7.0/24', '10.5.9.0/24']) {
      const leased = rowFor(table, subnet);
      assert.deepEqual(
        [leased.TYPE, leased.TTL, leased.EXPIRES, leased.NOTES],
        ['lease', '?', '?', ''],
      );
    }
    assert.equal(rowFor(table, '10.6.0.0/24').NOTES, 'incompatible with config');
  });

  test('--leases and --reservations still filter by type', async () => {
    const reservations = await leasesLs(etcd.endpoint, prefix, ['--no-ttl', '--reservations']);
    const leases = await leasesLs(etcd.endpoint, prefix, ['--no-ttl', '--leases', '--no-headers']);

    assert.deepEqual(subnets(parseTable(reservations.stdout)), ['10.5.1.0/24']);
    assert.equal(leases.code, 0, `stderr: ${leases.stderr}`);
    assert.deepEqual(
      leases.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/)[0]),
      ['10.5.7.0/24', '10.5.9.0/24', '10.6.0.0/24'],
    );
  });

  test('--sort ttl needs the TTLs: exit 2 naming both flags', async () => {
    const result = await leasesLs(etcd.endpoint, prefix, ['--no-ttl', '--sort', 'ttl']);

    assertOneLineError(result, EXIT_USAGE, '--sort ttl', '--no-ttl');
  });

  test('--expiring-within needs the TTLs: exit 2 naming both flags', async () => {
    const result = await leasesLs(etcd.endpoint, prefix, ['--no-ttl', '--expiring-within', '2h']);

    assertOneLineError(result, EXIT_USAGE, '--expiring-within', '--no-ttl');
  });
});
