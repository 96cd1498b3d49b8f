// `leases ls` filters and sort orders.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { SORT_KEYS, filterLeases, sortLeases } from '../../../src/domain/lease-filter.js';
import type { LeaseEntry } from '../../../src/domain/lease-entry.js';
import { type LeaseSeed, entriesOf, subnetsOf } from '../support/leases.js';

/** Entries in the order the seeds were given, not the subnet order interpretation returns. */
function inSeedOrder(seeds: LeaseSeed[]): LeaseEntry[] {
  const byName = new Map(entriesOf(seeds).map((entry) => [entry.name, entry]));
  return seeds.map((seed) => {
    const entry = byName.get(seed.name);
    assert.ok(entry);
    return entry;
  });
}

// One of each kind, out of subnet order on purpose.
const entries = inSeedOrder([
  { name: '10.5.52.0-24', publicIP: '192.0.2.52', leaseId: '694d854330fc5110', ttl: 74737 },
  { name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: null },
  { name: '10.5.9.0-24', publicIP: '192.0.2.9', leaseId: '694d854330fc5111', ttl: 50000 },
  {
    name: '10.5.12.0-24',
    publicIP: '192.0.2.10',
    backendType: 'host-gw',
    leaseId: '694d854330fc5130',
    ttl: 1800,
  },
  { name: '10.5.40.0-24', publicIP: '192.0.2.40', leaseId: '093a64a83ac42057', ttl: -68272 },
  { name: '10.5.42.0-24', publicIP: '192.0.2.42', leaseId: '093a64a83ac42059', ttl: -1 },
  { name: '10.5.3.0-24', publicIP: '192.0.2.100', backendType: 'VXLAN', leaseId: null },
]);

describe('filterLeases', () => {
  test('keeps everything, in the given order, with an empty filter', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, {})), subnetsOf(entries));
  });

  test('keeps only reservations', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, { type: 'reservation' })), [
      '10.5.1.0-24',
      '10.5.3.0-24',
    ]);
  });

  test('keeps only leases, expired and missing ones included', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, { type: 'lease' })), [
      '10.5.52.0-24',
      '10.5.9.0-24',
      '10.5.12.0-24',
      '10.5.40.0-24',
      '10.5.42.0-24',
    ]);
  });

  test('matches a public IP exactly, not as a text prefix', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, { publicIP: '192.0.2.1' })), ['10.5.1.0-24']);
    assert.deepEqual(subnetsOf(filterLeases(entries, { publicIP: '192.0.2.10' })), [
      '10.5.12.0-24',
    ]);
  });

  test('matches no entry for an address nobody holds', () => {
    assert.deepEqual(filterLeases(entries, { publicIP: '192.0.2.99' }), []);
  });

  test('returns every subnet one host holds, in subnet order (C12)', () => {
    const twice = entriesOf([
      { name: '10.16.55.0-24', publicIP: '192.0.2.21', leaseId: '694d854330000055', ttl: 9000 },
      { name: '10.16.14.0-24', publicIP: '192.0.2.21', leaseId: '694d854330000014', ttl: 80000 },
      { name: '10.16.20.0-24', publicIP: '192.0.2.22', leaseId: '694d854330000020', ttl: 80000 },
    ]);
    assert.deepEqual(subnetsOf(filterLeases(twice, { publicIP: '192.0.2.21' })), [
      '10.16.14.0-24',
      '10.16.55.0-24',
    ]);
  });

  test('matches a public IPv6 address numerically, whatever its spelling', () => {
    const dual = entriesOf([
      {
        name: '10.5.34.0-24&fc00:0:0:22::-64',
        value: '{"PublicIP":"192.0.2.34","PublicIPv6":"2001:db8::34","BackendType":"vxlan"}',
        leaseId: '694d854330fc5160',
        ttl: 80000,
      },
    ]);
    const filter = { publicIP: '2001:0db8:0000:0000:0000:0000:0000:0034' };
    assert.deepEqual(subnetsOf(filterLeases(dual, filter)), ['10.5.34.0-24&fc00:0:0:22::-64']);
  });

  test('matches the backend type case-insensitively', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, { backend: 'HOST-GW' })), ['10.5.12.0-24']);
    assert.deepEqual(subnetsOf(filterLeases(entries, { backend: 'vxlan' })), [
      '10.5.52.0-24',
      '10.5.1.0-24',
      '10.5.9.0-24',
      '10.5.40.0-24',
      '10.5.42.0-24',
      '10.5.3.0-24',
    ]);
  });

  test('leaves out entries without a backend type when filtering by backend', () => {
    const untyped = entriesOf([
      { name: '10.5.7.0-24', value: '{"PublicIP":"192.0.2.7"}', leaseId: null },
    ]);
    assert.deepEqual(filterLeases(untyped, { backend: 'udp' }), []);
  });

  test('keeps leases expiring within the window, expired and missing ones included', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, { expiringWithinSeconds: 7200 })), [
      '10.5.12.0-24',
      '10.5.40.0-24',
      '10.5.42.0-24',
    ]);
  });

  test('never keeps reservations when filtering by expiry', () => {
    const kept = filterLeases(entries, { expiringWithinSeconds: 10 ** 9 });
    assert.ok(kept.every((entry) => entry.type === 'lease'));
    assert.equal(kept.length, 5);
  });

  test('includes a lease whose TTL equals the window', () => {
    assert.deepEqual(subnetsOf(filterLeases(entries, { expiringWithinSeconds: 50000 })), [
      '10.5.9.0-24',
      '10.5.12.0-24',
      '10.5.40.0-24',
      '10.5.42.0-24',
    ]);
  });

  test('combines filters with AND', () => {
    const filter = { type: 'lease' as const, backend: 'vxlan', expiringWithinSeconds: 60000 };
    assert.deepEqual(subnetsOf(filterLeases(entries, filter)), [
      '10.5.9.0-24',
      '10.5.40.0-24',
      '10.5.42.0-24',
    ]);
  });

  test('does not reorder or modify its input', () => {
    const before = subnetsOf(entries);
    filterLeases(entries, { type: 'lease' });
    assert.deepEqual(subnetsOf(entries), before);
  });
});

describe('sortLeases', () => {
  test('offers subnet, ttl and public-ip', () => {
    assert.deepEqual([...SORT_KEYS], ['subnet', 'ttl', 'public-ip']);
  });

  test('sorts by subnet numerically', () => {
    assert.deepEqual(subnetsOf(sortLeases(entries, 'subnet')), [
      '10.5.1.0-24',
      '10.5.3.0-24',
      '10.5.9.0-24',
      '10.5.12.0-24',
      '10.5.40.0-24',
      '10.5.42.0-24',
      '10.5.52.0-24',
    ]);
  });

  test('sorts by TTL: missing and expired first, soonest next, reservations last', () => {
    assert.deepEqual(subnetsOf(sortLeases(entries, 'ttl')), [
      '10.5.42.0-24',
      '10.5.40.0-24',
      '10.5.12.0-24',
      '10.5.9.0-24',
      '10.5.52.0-24',
      '10.5.1.0-24',
      '10.5.3.0-24',
    ]);
  });

  test('breaks TTL ties by subnet', () => {
    const tied = inSeedOrder([
      { name: '10.5.20.0-24', leaseId: '694d854330000020', ttl: 600 },
      { name: '10.5.10.0-24', leaseId: '694d854330000010', ttl: 600 },
    ]);
    assert.deepEqual(subnetsOf(sortLeases(tied, 'ttl')), ['10.5.10.0-24', '10.5.20.0-24']);
  });

  test('sorts by public IP numerically (192.0.2.9 before 192.0.2.10)', () => {
    assert.deepEqual(
      sortLeases(entries, 'public-ip').map((entry) => entry.attrs.publicIP),
      [
        '192.0.2.1',
        '192.0.2.9',
        '192.0.2.10',
        '192.0.2.40',
        '192.0.2.42',
        '192.0.2.52',
        '192.0.2.100',
      ],
    );
  });

  test('breaks public IP ties by subnet', () => {
    const shared = inSeedOrder([
      { name: '10.16.55.0-24', publicIP: '192.0.2.21', leaseId: null },
      { name: '10.16.14.0-24', publicIP: '192.0.2.21', leaseId: null },
    ]);
    assert.deepEqual(subnetsOf(sortLeases(shared, 'public-ip')), [
      '10.16.14.0-24',
      '10.16.55.0-24',
    ]);
  });

  test('returns a new array and leaves its input alone', () => {
    const before = subnetsOf(entries);
    const sorted = sortLeases(entries, 'ttl');
    assert.notEqual(sorted, entries);
    assert.deepEqual(subnetsOf(entries), before);
  });
});
