// What a subnet key means once key, value and etcd lease are read together.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  type LeaseStatus,
  DEFAULT_RENEW_MARGIN_SECONDS,
  classifyLease,
  interpretSubnets,
} from '../../../src/domain/lease-entry.js';
import { parseNetworkConfig } from '../../../src/domain/network-config.js';
import {
  GRANTED_TTL,
  NOW_MS,
  SUBNETS_DIR,
  entriesOf,
  entryOf,
  interpret,
  storedSubnet,
  subnetsOf,
} from '../support/leases.js';

const LEASE_ID = '694d854330fc5110';
const OLD_LAYOUT_VALUE =
  '{"PublicIP":"192.0.2.9","BackendType":"vxlan",' +
  '"BackendData":{"VtepMAC":"00:00:5e:10:00:09"}}';

describe('classifyLease', () => {
  const cases: Array<[string, string | null, number | undefined, number, LeaseStatus]> = [
    ['no lease id and no TTL answer', null, undefined, 3600, 'reservation'],
    ['no lease id even though a TTL of -1 was answered', null, -1, 3600, 'reservation'],
    ['no lease id even though a positive TTL was answered', null, 80000, 3600, 'reservation'],
    ['a lease id answered with TTL -1 (lease gone)', LEASE_ID, -1, 3600, 'lease-missing'],
    ['a lease id with no answer at all', LEASE_ID, undefined, 3600, 'lease-missing'],
    ['a lease id with a large negative TTL (C05)', LEASE_ID, -68272, 3600, 'expired'],
    ['a lease id with TTL -2', LEASE_ID, -2, 3600, 'expired'],
    ['a lease id with TTL 0', LEASE_ID, 0, 3600, 'expired'],
    ['TTL 1800 under a 3600 s renew margin (C04)', LEASE_ID, 1800, 3600, 'renewal-overdue'],
    ['TTL 1800 under a 1200 s renew margin', LEASE_ID, 1800, 1200, 'active'],
    ['TTL exactly at the renew margin', LEASE_ID, 3600, 3600, 'active'],
    ['TTL one second under the renew margin', LEASE_ID, 3599, 3600, 'renewal-overdue'],
    ['TTL 80000 (C04)', LEASE_ID, 80000, 3600, 'active'],
    ['a fresh 24 h lease', LEASE_ID, 86400, 3600, 'active'],
  ];
  for (const [what, leaseId, ttl, margin, expected] of cases) {
    test(`${what} -> ${expected}`, () => {
      assert.equal(classifyLease(leaseId, ttl, margin), expected);
    });
  }

  test("uses flanneld's default renew margin of 60 minutes", () => {
    assert.equal(DEFAULT_RENEW_MARGIN_SECONDS, 3600);
  });
});

describe('interpretSubnets: the C01 network', () => {
  const { entries, problems } = interpret([
    {
      name: '10.5.52.0-24',
      publicIP: '192.0.2.52',
      leaseId: '694d854330fc5110',
      ttl: 74737,
    },
    { name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: null },
    {
      name: '10.5.9.0-24',
      value: OLD_LAYOUT_VALUE,
      leaseId: '694d854330fc5111',
      ttl: 50000,
    },
  ]);

  test('reports no problems, the old value layout included', () => {
    assert.deepEqual(problems, []);
  });

  test('orders entries numerically by subnet', () => {
    assert.deepEqual(subnetsOf(entries), ['10.5.1.0-24', '10.5.9.0-24', '10.5.52.0-24']);
  });

  test('makes the key without a lease a reservation with no TTL and no expiry', () => {
    const reservation = entries[0];
    assert.equal(reservation.type, 'reservation');
    assert.equal(reservation.status, 'reservation');
    assert.equal(reservation.leaseId, null);
    assert.equal(reservation.ttlSeconds, null);
    assert.equal(reservation.grantedTtlSeconds, null);
    assert.equal(reservation.expiresAtMs, null);
    assert.equal(reservation.attrs.publicIP, '192.0.2.1');
  });

  test('keeps remaining and granted TTLs and computes the expiry of leases', () => {
    const lease = entries[2];
    assert.equal(lease.type, 'lease');
    assert.equal(lease.status, 'active');
    assert.equal(lease.leaseId, '694d854330fc5110');
    assert.equal(lease.ttlSeconds, 74737);
    assert.equal(lease.grantedTtlSeconds, GRANTED_TTL);
    assert.equal(lease.expiresAtMs, NOW_MS + 74737 * 1000);
  });

  test('carries the stored key, value and revisions through', () => {
    const lease = entries[1];
    assert.equal(lease.key, `${SUBNETS_DIR}10.5.9.0-24`);
    assert.equal(lease.value, OLD_LAYOUT_VALUE);
    assert.equal(lease.createRevision, 2);
    assert.equal(lease.modRevision, 5);
    assert.equal(lease.version, 1);
    assert.equal(lease.attrs.vtepMac, '00:00:5e:10:00:09');
  });

  test('has no misfits when no config is given', () => {
    assert.deepEqual(
      entries.map((entry) => entry.misfits),
      [[], [], []],
    );
  });
});

describe('interpretSubnets: leases etcd failed to remove (C05)', () => {
  const entries = entriesOf([
    { name: '10.5.40.0-24', publicIP: '192.0.2.40', leaseId: '093a64a83ac42057', ttl: -68272 },
    { name: '10.5.41.0-24', publicIP: '192.0.2.41', leaseId: '093a64a83ac42058', ttl: 40000 },
    { name: '10.5.42.0-24', publicIP: '192.0.2.42', leaseId: '093a64a83ac42059', ttl: -1 },
  ]);

  test('marks the negative TTL expired and keeps the raw number', () => {
    const expired = entries[0];
    assert.equal(expired.type, 'lease');
    assert.equal(expired.status, 'expired');
    assert.equal(expired.ttlSeconds, -68272);
    assert.equal(expired.grantedTtlSeconds, GRANTED_TTL);
    assert.equal(expired.expiresAtMs, NOW_MS - 68272 * 1000);
  });

  test('marks TTL -1 on a lease id as a missing lease, never as a reservation', () => {
    const missing = entries[2];
    assert.equal(missing.type, 'lease');
    assert.equal(missing.status, 'lease-missing');
    assert.equal(missing.leaseId, '093a64a83ac42059');
    assert.equal(missing.ttlSeconds, -1);
    assert.equal(missing.grantedTtlSeconds, null);
    assert.equal(missing.expiresAtMs, null);
  });

  test('leaves the healthy lease active', () => {
    assert.equal(entries[1].status, 'active');
  });
});

describe('interpretSubnets: other cases', () => {
  test('treats a lease id without a TimeToLive answer as missing, with no TTL', () => {
    const entry = entryOf({ name: '10.5.1.0-24', leaseId: '694d854330fc5199' });
    assert.equal(entry.status, 'lease-missing');
    assert.equal(entry.ttlSeconds, null);
    assert.equal(entry.expiresAtMs, null);
  });

  test('marks a lease under the renew margin as renewal-overdue (C04)', () => {
    const entries = entriesOf([
      { name: '10.5.12.0-24', leaseId: '694d854330fc5130', ttl: 1800 },
      { name: '10.5.13.0-24', leaseId: '694d854330fc5131', ttl: 80000 },
    ]);
    assert.deepEqual(
      entries.map((entry) => entry.status),
      ['renewal-overdue', 'active'],
    );
  });

  test('applies the renew margin from the context', () => {
    const seeds = [{ name: '10.5.12.0-24', leaseId: '694d854330fc5130', ttl: 1800 }];
    const { entries } = interpret(seeds, { renewMarginSeconds: 1200 });
    assert.equal(entries[0].status, 'active');
  });

  test('keeps a lease id above 2^53 as the exact hex string', () => {
    const leaseId = 'ffffffffffffff01';
    const entry = entryOf({ name: '10.5.1.0-24', leaseId, ttl: 80000 });
    assert.equal(entry.leaseId, 'ffffffffffffff01');
    assert.equal(typeof entry.leaseId, 'string');
    assert.equal(entry.status, 'active');
    assert.equal(entry.ttlSeconds, 80000);
  });

  test('gives keys that share one etcd lease the same TTL', () => {
    const entries = entriesOf([
      { name: '10.5.1.0-24', leaseId: '694d854330fc5110', ttl: 500 },
      { name: '10.5.2.0-24', leaseId: '694d854330fc5110' },
    ]);
    assert.deepEqual(
      entries.map((entry) => entry.ttlSeconds),
      [500, 500],
    );
  });

  test('reads a dual-stack key and its IPv6 public address', () => {
    const entry = entryOf({
      name: '10.5.34.0-24&fc00:0:0:22::-64',
      value:
        '{"PublicIP":"192.0.2.34","PublicIPv6":"2001:db8::34","BackendType":"vxlan",' +
        '"BackendData":{"VNI":1,"VtepMAC":"00:00:5e:10:00:34"}}',
      leaseId: '694d854330fc5160',
      ttl: 80000,
    });
    assert.ok(entry.subnet.ipv6);
    assert.equal(entry.attrs.publicIPv6, '2001:db8::34');
  });

  test('lists misfits against the config (C33)', () => {
    const { config } = parseNetworkConfig('{"Network":"10.5.0.0/16","SubnetLen":25}');
    const entries = entriesOf(
      [
        { name: '10.5.10.0-24', leaseId: '694d854330000200', ttl: 70000 },
        { name: '10.5.11.0-24', leaseId: null },
        { name: '10.6.1.0-24', leaseId: null },
        { name: '10.5.12.0-25', leaseId: '694d854330000201', ttl: 80000 },
      ],
      { config },
    );
    assert.deepEqual(
      entries.map((entry) => [entry.name, entry.misfits]),
      [
        ['10.5.10.0-24', ['10.5.10.0/24 is /24 but SubnetLen is 25']],
        ['10.5.11.0-24', ['10.5.11.0/24 is /24 but SubnetLen is 25']],
        ['10.5.12.0-25', []],
        ['10.6.1.0-24', ['10.6.1.0/24 is outside the network 10.5.0.0/16']],
      ],
    );
  });
});

describe('interpretSubnets: problems are returned, never dropped', () => {
  const seeds = [
    { name: '10.5.3.0-24', leaseId: null },
    { name: '10.5.35.0-24&FC00:0:0:23::-64', leaseId: '694d854330fc5161', ttl: 80000 },
    { name: 'not-a-subnet', leaseId: null },
    { name: '10.5.4.0-24', value: '/coreos.com/network/subnets/10.5.4.0-24', leaseId: null },
    { name: '10.5.5.0-24', value: '', leaseId: '694d854330fc5162', ttl: 80000 },
    { name: '10.5.6.0-24', value: '{"BackendType":"vxlan"}', leaseId: null },
    { name: '10.5.2.0-24', leaseId: null },
  ];
  const { entries, problems } = interpret(seeds);

  test('lists one problem per unreadable key, in the order read, with the full key', () => {
    assert.deepEqual(problems, [
      {
        key: `${SUBNETS_DIR}10.5.35.0-24&FC00:0:0:23::-64`,
        part: 'key',
        reason:
          "IPv6 half FC00:0:0:23:: has characters flannel's key pattern rejects " +
          '(uppercase hex or dots); flannel ignores this key',
      },
      {
        key: `${SUBNETS_DIR}not-a-subnet`,
        part: 'key',
        reason: 'not a flannel subnet key (expected A.B.C.D-LEN or A.B.C.D-LEN&IPV6-LEN)',
      },
      {
        key: `${SUBNETS_DIR}10.5.4.0-24`,
        part: 'value',
        reason:
          'value is a key path, not LeaseAttrs JSON (left by `etcdctl put KEY $(etcdctl get KEY)`)',
      },
      {
        key: `${SUBNETS_DIR}10.5.5.0-24`,
        part: 'value',
        reason: 'empty value; expected LeaseAttrs JSON',
      },
      { key: `${SUBNETS_DIR}10.5.6.0-24`, part: 'value', reason: 'value has no PublicIP' },
    ]);
  });

  test('still interprets the readable keys, in subnet order', () => {
    assert.deepEqual(subnetsOf(entries), ['10.5.2.0-24', '10.5.3.0-24']);
  });

  test('accounts for every input exactly once', () => {
    assert.equal(entries.length + problems.length, seeds.length);
  });

  test('returns nothing for no input', () => {
    assert.deepEqual(interpretSubnets([], new Map(), { nowMs: NOW_MS, renewMarginSeconds: 3600 }), {
      entries: [],
      problems: [],
    });
  });

  test('does not modify the stored records it was given', () => {
    const stored = [storedSubnet({ name: '10.5.9.0-24', leaseId: null })];
    const copy = structuredClone(stored);
    interpretSubnets(stored, new Map(), { nowMs: NOW_MS, renewMarginSeconds: 3600 });
    assert.deepEqual(stored, copy);
  });
});
