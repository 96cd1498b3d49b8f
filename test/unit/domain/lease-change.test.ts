// The labels of `leases ls --watch`: every transition of a key, the resync differences, and the
// TTL a known lease has at a later moment.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  CHANGE_LABELS,
  type ChangeLabel,
  type KeyChange,
  type KnownKey,
  type ListedKey,
  changeLabel,
  diffListings,
  ttlAsOf,
} from '../../../src/domain/lease-change.js';
import { NOW_MS, leaseValue } from '../support/leases.js';

const VALUE = leaseValue('192.0.2.1');
const OTHER_VALUE = leaseValue('192.0.2.9');
const LEASE = '694d854330fc5110';
/** flanneld's renewal grants a new lease; above 2^53, so a lossy number would show. */
const RENEWED_LEASE = 'ffffffffffffff01';
const IN_AN_HOUR = NOW_MS + 3_600_000;
const A_SECOND_AGO = NOW_MS - 1_000;

function lease(leaseId = LEASE, expiresAtMs: number | null = IN_AN_HOUR): KnownKey {
  return { value: VALUE, leaseId, expiresAtMs };
}

const RESERVATION: KnownKey = { value: VALUE, leaseId: null, expiresAtMs: null };

function put(value: string, leaseId: string | null): KeyChange {
  return { kind: 'put', value, leaseId };
}

const DELETE: KeyChange = { kind: 'delete' };

describe('changeLabel', () => {
  const cases: Array<[string, KnownKey | undefined, KeyChange, ChangeLabel]> = [
    ['a new key with a lease is allocated', undefined, put(VALUE, LEASE), 'allocated'],
    ['a new key without a lease is a reservation created', undefined, put(VALUE, null), 'reserved'],
    ['the same value under a new lease is renewed', lease(), put(VALUE, RENEWED_LEASE), 'renewed'],
    ['a lease put again without a lease is reserved', lease(), put(VALUE, null), 'reserved'],
    ['a reservation put with a lease is unreserved', RESERVATION, put(VALUE, LEASE), 'unreserved'],
    ['another value under the same lease is changed', lease(), put(OTHER_VALUE, LEASE), 'changed'],
    [
      'another value under a new lease is changed, not renewed',
      lease(),
      put(OTHER_VALUE, RENEWED_LEASE),
      'changed',
    ],
    ['another value of a reservation is changed', RESERVATION, put(OTHER_VALUE, null), 'changed'],
    ['reserving with another value is still reserved', lease(), put(OTHER_VALUE, null), 'reserved'],
    [
      'unreserving with another value is still unreserved',
      RESERVATION,
      put(OTHER_VALUE, LEASE),
      'unreserved',
    ],
    ['the same value under the same lease is changed', lease(), put(VALUE, LEASE), 'changed'],
    ['a reservation put again unchanged is changed', RESERVATION, put(VALUE, null), 'changed'],
    ['a lease deleted before its TTL ran out is removed', lease(), DELETE, 'removed'],
    [
      'a lease deleted after its TTL ran out expired',
      lease(LEASE, A_SECOND_AGO),
      DELETE,
      'expired',
    ],
    ['a lease deleted at the moment it runs out expired', lease(LEASE, NOW_MS), DELETE, 'expired'],
    ['a reservation deleted is removed', RESERVATION, DELETE, 'removed'],
    ['a lease of unknown TTL deleted is removed', lease(LEASE, null), DELETE, 'removed'],
    ['a key never seen deleted is removed', undefined, DELETE, 'removed'],
  ];

  for (const [name, before, change, expected] of cases) {
    test(name, () => {
      assert.equal(changeLabel(before, change, NOW_MS), expected);
    });
  }

  test('every label is reachable', () => {
    const reached = new Set(cases.map(([, , , label]) => label));
    assert.deepEqual([...reached].sort(), [...CHANGE_LABELS].sort());
  });

  test('a reservation never expires, however old its last known expiry', () => {
    const odd: KnownKey = { value: VALUE, leaseId: null, expiresAtMs: A_SECOND_AGO };
    assert.equal(changeLabel(odd, DELETE, NOW_MS), 'removed');
  });
});

describe('diffListings', () => {
  function listed(name: string, known: KnownKey, modRevision: number): ListedKey {
    return { ...known, key: `/k/${name}`, modRevision };
  }

  function summary(differences: ReturnType<typeof diffListings<ListedKey>>): string[] {
    return differences.map((difference) => `${difference.key} ${difference.label}`);
  }

  const kept = listed('kept', lease(), 5);
  const renewed = listed('renewed', lease(), 6);
  const gone = listed('gone', lease(), 7);
  const expired = listed('expired', lease(LEASE, A_SECOND_AGO), 8);
  const reserved = listed('reserved', lease(), 9);

  const before = new Map([kept, renewed, gone, expired, reserved].map((key) => [key.key, key]));
  const after = [
    kept,
    listed('renewed', lease(RENEWED_LEASE), 20),
    listed('reserved', RESERVATION, 21),
    listed('new', lease(), 22),
  ];

  test('labels each key once, as if it had changed once', () => {
    assert.deepEqual(summary(diffListings(before, after, NOW_MS)), [
      '/k/renewed renewed',
      '/k/reserved reserved',
      '/k/new allocated',
      '/k/gone removed',
      '/k/expired expired',
    ]);
  });

  test('leaves out keys at the same mod revision', () => {
    assert.deepEqual(diffListings(before, [...before.values()], NOW_MS), []);
  });

  test('gives both states of a changed key, and only one of a new or gone key', () => {
    const differences = diffListings(before, after, NOW_MS);
    const byKey = new Map(differences.map((difference) => [difference.key, difference]));

    assert.equal(byKey.get('/k/renewed')?.before, renewed);
    assert.equal(byKey.get('/k/renewed')?.after?.leaseId, RENEWED_LEASE);
    assert.equal(byKey.get('/k/new')?.before, undefined);
    assert.equal(byKey.get('/k/gone')?.after, undefined);
    assert.equal(byKey.get('/k/gone')?.before, gone);
  });

  test('an empty listing removes everything', () => {
    assert.deepEqual(summary(diffListings(before, [], NOW_MS)), [
      '/k/kept removed',
      '/k/renewed removed',
      '/k/gone removed',
      '/k/expired expired',
      '/k/reserved removed',
    ]);
  });
});

describe('ttlAsOf', () => {
  const known = {
    leaseId: LEASE,
    ttlSeconds: 3600,
    grantedTtlSeconds: 86400,
    expiresAtMs: IN_AN_HOUR,
  };

  test('counts the remaining time down from the known expiry', () => {
    const later = NOW_MS + 600_000;
    assert.deepEqual(ttlAsOf(known, later), {
      ttl: 3000,
      grantedTtl: 86400,
      answeredAtMs: later,
    });
  });

  test('truncates to whole seconds as etcd does, keeping the expiry exact', () => {
    const later = NOW_MS + 600_400;
    const ttl = ttlAsOf(known, later);

    assert.equal(ttl?.ttl, 2999);
    assert.equal((ttl?.answeredAtMs ?? 0) + (ttl?.ttl ?? 0) * 1000, IN_AN_HOUR);
  });

  test('goes negative once the expiry has passed', () => {
    assert.equal(ttlAsOf(known, IN_AN_HOUR + 5_000)?.ttl, -5);
  });

  test('keeps a lease etcd did not know as unknown (-1)', () => {
    const missing = { leaseId: LEASE, ttlSeconds: -1, grantedTtlSeconds: null, expiresAtMs: null };
    assert.deepEqual(ttlAsOf(missing, NOW_MS), { ttl: -1, grantedTtl: 0, answeredAtMs: NOW_MS });
  });

  test('has nothing for a reservation', () => {
    const reservation = {
      leaseId: null,
      ttlSeconds: null,
      grantedTtlSeconds: null,
      expiresAtMs: null,
    };
    assert.equal(ttlAsOf(reservation, NOW_MS), undefined);
  });
});
