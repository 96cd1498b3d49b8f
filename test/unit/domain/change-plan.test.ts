// Plans for reserve, unreserve, release, pre-assign and restore: what each would do to one key,
// decided from what was read. Refusals are the operator's interface, so their text is exact.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ABSENT,
  FLANNEL_LEASE_TTL_SECONDS,
  type HeldSubnet,
  type KeySnapshot,
  type ReleaseRules,
  planCreate,
  planRelease,
  planReserve,
  planRestore,
  planUnreserve,
  preassignProblems,
  snapshotOf,
} from '../../../src/domain/change-plan.js';
import { type Cidr, parseCidr } from '../../../src/domain/cidr.js';
import { DEFAULT_RENEW_MARGIN_SECONDS } from '../../../src/domain/lease-entry.js';
import { type NetworkConfig, parseNetworkConfig } from '../../../src/domain/network-config.js';
import { GRANTED_TTL, NOW_MS, SUBNETS_DIR, leaseValue, storedSubnet } from '../support/leases.js';

const LEASE_ID = '694d854330fc5110';
/** Above 2^53: must survive every step as the same hex text. */
const BIG_LEASE_ID = 'ffffffffffffff01';
const KEY = `${SUBNETS_DIR}10.5.1.0-24`;
const VALUE = leaseValue('192.0.2.1');

interface Seed {
  readonly leaseId: string | null;
  readonly ttl?: number;
  readonly value?: string;
  readonly modRevision?: number;
}

/** 10.5.1.0/24 as read: a stored key with its TimeToLive answer, if any. */
function target(seed: Seed) {
  const stored = storedSubnet({
    name: '10.5.1.0-24',
    leaseId: seed.leaseId,
    value: seed.value ?? VALUE,
    modRevision: seed.modRevision,
  });
  const ttl = seed.ttl === undefined ? undefined : { ttl: seed.ttl, grantedTtl: GRANTED_TTL };
  return { subnet: '10.5.1.0/24', key: KEY, before: snapshotOf(stored, ttl) };
}

const missing = { subnet: '10.5.1.0/24', key: KEY, before: ABSENT };

function rules(overrides: Partial<ReleaseRules> = {}): ReleaseRules {
  return {
    renewMarginSeconds: DEFAULT_RENEW_MARGIN_SECONDS,
    force: false,
    ignoreNotFound: false,
    nowMs: NOW_MS,
    ...overrides,
  };
}

const UNREADABLE: Array<[string, string, string]> = [
  [
    'not JSON',
    'not json',
    'not valid JSON (Unexpected token \'o\', "not json" is not valid JSON): "not json"',
  ],
  ['empty', '', 'empty value; expected LeaseAttrs JSON'],
  [
    "the key path itself (flannel's documented etcdctl recipe)",
    KEY,
    'value is a key path, not LeaseAttrs JSON (left by `etcdctl put KEY $(etcdctl get KEY)`)',
  ],
];

function unreadableReason(why: string): string {
  return (
    `${KEY} holds no lease value to keep (${why}); ` +
    'put a valid LeaseAttrs value back first, or release the key'
  );
}

describe('snapshotOf', () => {
  test('a key that does not exist is ABSENT', () => {
    assert.deepEqual(snapshotOf(undefined), ABSENT);
    assert.deepEqual(ABSENT, {
      exists: false,
      value: null,
      leaseId: null,
      ttlSeconds: null,
      grantedTtlSeconds: null,
      modRevision: null,
    });
  });

  test('a lease keeps its hex id, remaining and granted TTL and mod revision', () => {
    const stored = storedSubnet({ name: '10.5.1.0-24', leaseId: BIG_LEASE_ID, modRevision: 42 });
    assert.deepEqual(snapshotOf(stored, { ttl: 74737, grantedTtl: 86400 }), {
      exists: true,
      value: stored.value,
      leaseId: BIG_LEASE_ID,
      ttlSeconds: 74737,
      grantedTtlSeconds: 86400,
      modRevision: 42,
    });
  });

  test('a lease whose TimeToLive was not read has no TTLs', () => {
    const stored = storedSubnet({ name: '10.5.1.0-24', leaseId: LEASE_ID });
    const snapshot = snapshotOf(stored);
    assert.equal(snapshot.leaseId, LEASE_ID);
    assert.equal(snapshot.ttlSeconds, null);
    assert.equal(snapshot.grantedTtlSeconds, null);
  });

  test("a reservation ignores a TTL answer (etcd's -1 for lease 0)", () => {
    const stored = storedSubnet({ name: '10.5.1.0-24', leaseId: null, modRevision: 7 });
    assert.deepEqual(snapshotOf(stored, { ttl: -1, grantedTtl: 0 }), {
      exists: true,
      value: stored.value,
      leaseId: null,
      ttlSeconds: null,
      grantedTtlSeconds: null,
      modRevision: 7,
    });
  });

  test('takes lease details (TTL plus attached keys) as the TTL answer', () => {
    const stored = storedSubnet({ name: '10.5.1.0-24', leaseId: LEASE_ID });
    const details = { ttl: 100, grantedTtl: 86400, keys: [KEY] };
    const snapshot = snapshotOf(stored, details);
    assert.equal(snapshot.ttlSeconds, 100);
    assert.equal(snapshot.grantedTtlSeconds, 86400);
    assert.equal('keys' in snapshot, false);
  });
});

describe('planReserve', () => {
  test('a lease becomes the same key and byte-identical value with no etcd lease', () => {
    const odd = '{ "PublicIP":"192.0.2.1",  "BackendType":"vxlan" , "Extra":[1,2] }';
    const read = target({ leaseId: LEASE_ID, ttl: 74737, value: odd, modRevision: 9 });
    assert.deepEqual(planReserve(read), {
      action: 'reserve',
      subnet: '10.5.1.0/24',
      key: KEY,
      before: read.before,
      verdict: { kind: 'change', outcome: { kind: 'put', value: odd, lease: 'none' } },
      leaseToRevoke: LEASE_ID,
    });
  });

  test('the old lease to revoke keeps a 64-bit id exactly', () => {
    const plan = planReserve(target({ leaseId: BIG_LEASE_ID, ttl: 500 }));
    assert.equal(plan.leaseToRevoke, BIG_LEASE_ID);
  });

  test('a lease whose TTL is unknown is still reserved', () => {
    const plan = planReserve(target({ leaseId: LEASE_ID }));
    assert.equal(plan.verdict.kind, 'change');
    assert.equal(plan.leaseToRevoke, LEASE_ID);
  });

  test('a reservation is left alone and says it already is one', () => {
    const plan = planReserve(target({ leaseId: null }));
    assert.deepEqual(plan.verdict, { kind: 'unchanged', reason: 'already a reservation' });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('a missing key is not found', () => {
    const plan = planReserve(missing);
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'notFound',
      reason: `no key ${KEY}`,
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  for (const [what, value, why] of UNREADABLE) {
    test(`refuses a lease whose value is ${what}`, () => {
      const plan = planReserve(target({ leaseId: LEASE_ID, ttl: 74737, value }));
      assert.deepEqual(plan.verdict, {
        kind: 'refused',
        exit: 'problems',
        reason: unreadableReason(why),
      });
      assert.equal(plan.leaseToRevoke, null);
    });

    test(`refuses a reservation whose value is ${what} (not "already a reservation")`, () => {
      const plan = planReserve(target({ leaseId: null, value }));
      assert.equal(plan.verdict.kind, 'refused');
      assert.equal(plan.verdict.kind === 'refused' && plan.verdict.exit, 'problems');
    });
  }

  test('refuses a value that is JSON but has no PublicIP', () => {
    const plan = planReserve(target({ leaseId: LEASE_ID, ttl: 9, value: '{"BackendType":"x"}' }));
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: unreadableReason('value has no PublicIP'),
    });
  });

  test('refuses a value of only whitespace as empty', () => {
    const plan = planReserve(target({ leaseId: LEASE_ID, ttl: 9, value: '  \n' }));
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: unreadableReason('empty value; expected LeaseAttrs JSON'),
    });
  });
});

describe('planUnreserve', () => {
  test('a reservation gets the same value under a new lease of the given TTL', () => {
    const read = target({ leaseId: null, modRevision: 11 });
    assert.deepEqual(planUnreserve(read, FLANNEL_LEASE_TTL_SECONDS), {
      action: 'unreserve',
      subnet: '10.5.1.0/24',
      key: KEY,
      before: read.before,
      verdict: {
        kind: 'change',
        outcome: { kind: 'put', value: VALUE, lease: 'new' },
        newLeaseTtlSeconds: 86400,
      },
      leaseToRevoke: null,
    });
  });

  test('grants what --ttl asked for', () => {
    const plan = planUnreserve(target({ leaseId: null }), 3600);
    assert.equal(plan.verdict.kind === 'change' && plan.verdict.newLeaseTtlSeconds, 3600);
  });

  test("flanneld's lease term is 86400 s", () => {
    assert.equal(FLANNEL_LEASE_TTL_SECONDS, 86400);
  });

  test('a key that has a lease already is left alone and says so with the lease id', () => {
    const plan = planUnreserve(target({ leaseId: BIG_LEASE_ID, ttl: 500 }), 86400);
    assert.deepEqual(plan.verdict, {
      kind: 'unchanged',
      reason: `already has an etcd lease (${BIG_LEASE_ID})`,
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('a missing key is not found', () => {
    assert.deepEqual(planUnreserve(missing, 86400).verdict, {
      kind: 'refused',
      exit: 'notFound',
      reason: `no key ${KEY}`,
    });
  });

  for (const [what, value, why] of UNREADABLE) {
    test(`refuses a reservation whose value is ${what}`, () => {
      const plan = planUnreserve(target({ leaseId: null, value }), 86400);
      assert.deepEqual(plan.verdict, {
        kind: 'refused',
        exit: 'problems',
        reason: unreadableReason(why),
      });
      assert.equal(plan.leaseToRevoke, null);
    });
  }
});

describe('planRelease', () => {
  test('refuses a live lease without --force, naming time left, margin, expiry and --force', () => {
    const plan = planRelease(target({ leaseId: LEASE_ID, ttl: 74737 }), rules());
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason:
        'has 20h45m37s left, not below the renew margin 1h0m0s: its flanneld is probably alive ' +
        'and exits when its key vanishes; the lease expires at 2024-01-01T20:45:37.000Z ' +
        '(in 20h45m37s); --force overrides',
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('counts the live lease against --renew-margin', () => {
    const plan = planRelease(
      target({ leaseId: LEASE_ID, ttl: 1800 }),
      rules({ renewMarginSeconds: 1200 }),
    );
    assert.equal(plan.verdict.kind, 'refused');
    assert.match(
      plan.verdict.kind === 'refused' ? plan.verdict.reason : '',
      /^has 30m0s left, not below the renew margin 20m0s: .* expires at 2024-01-01T00:30:00\.000Z \(in 30m0s\); --force overrides$/,
    );
  });

  test('one second above the margin is refused, one second below is released', () => {
    const above = planRelease(target({ leaseId: LEASE_ID, ttl: 3601 }), rules());
    const below = planRelease(target({ leaseId: LEASE_ID, ttl: 3599 }), rules());
    assert.equal(above.verdict.kind, 'refused');
    assert.deepEqual(below.verdict, { kind: 'change', outcome: { kind: 'delete' } });
  });

  test('--force deletes a live lease and revokes its lease afterwards', () => {
    const read = target({ leaseId: BIG_LEASE_ID, ttl: 74737, modRevision: 8 });
    assert.deepEqual(planRelease(read, rules({ force: true })), {
      action: 'release',
      subnet: '10.5.1.0/24',
      key: KEY,
      before: read.before,
      verdict: { kind: 'change', outcome: { kind: 'delete' } },
      leaseToRevoke: BIG_LEASE_ID,
    });
  });

  const released: Array<[string, Seed]> = [
    ['an overdue lease (below the renew margin)', { leaseId: LEASE_ID, ttl: 1800 }],
    ['an expired lease etcd still reports', { leaseId: LEASE_ID, ttl: -68272 }],
    ['a lease that reached 0 s', { leaseId: LEASE_ID, ttl: 0 }],
    ['a lease etcd no longer knows (TTL -1)', { leaseId: LEASE_ID, ttl: -1 }],
    ['a lease whose TTL could not be read', { leaseId: LEASE_ID }],
    [
      'an overdue lease whose value flannel cannot read',
      { leaseId: LEASE_ID, ttl: 60, value: KEY },
    ],
  ];
  for (const [what, seed] of released) {
    test(`releases ${what} without --force`, () => {
      const plan = planRelease(target(seed), rules());
      assert.deepEqual(plan.verdict, { kind: 'change', outcome: { kind: 'delete' } });
      assert.equal(plan.leaseToRevoke, LEASE_ID);
    });
  }

  test('refuses a reservation without --force', () => {
    const plan = planRelease(target({ leaseId: null }), rules());
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: 'is a reservation, pinned on purpose; --force releases it',
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('--force releases a reservation, with no lease to revoke', () => {
    const plan = planRelease(target({ leaseId: null }), rules({ force: true }));
    assert.deepEqual(plan.verdict, { kind: 'change', outcome: { kind: 'delete' } });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('a missing key is not found', () => {
    const plan = planRelease(missing, rules());
    assert.deepEqual(plan.verdict, { kind: 'refused', exit: 'notFound', reason: `no key ${KEY}` });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('--force does not turn a missing key into a success', () => {
    assert.equal(planRelease(missing, rules({ force: true })).verdict.kind, 'refused');
  });

  test('a missing key with --ignore-not-found is unchanged', () => {
    const plan = planRelease(missing, rules({ ignoreNotFound: true }));
    assert.deepEqual(plan.verdict, {
      kind: 'unchanged',
      reason: 'has no key (--ignore-not-found)',
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('--ignore-not-found does not soften the renew-margin rule', () => {
    const plan = planRelease(
      target({ leaseId: LEASE_ID, ttl: 74737 }),
      rules({ ignoreNotFound: true }),
    );
    assert.equal(plan.verdict.kind, 'refused');
  });
});

describe('planCreate', () => {
  const value = JSON.stringify({
    PublicIP: '192.0.2.17',
    PublicIPv6: null,
    BackendType: 'vxlan',
    BackendData: null,
  });

  test('a free subnet becomes a reservation with the given value', () => {
    assert.deepEqual(planCreate(missing, value, []), {
      action: 'create',
      subnet: '10.5.1.0/24',
      key: KEY,
      before: ABSENT,
      verdict: { kind: 'change', outcome: { kind: 'put', value, lease: 'none' } },
      leaseToRevoke: null,
    });
  });

  test('refuses a key that exists', () => {
    const plan = planCreate(target({ leaseId: LEASE_ID, ttl: 100 }), value, []);
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: `${KEY} exists already`,
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('refuses with every problem, joined', () => {
    const plan = planCreate(missing, value, ['first problem', 'second problem']);
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: 'first problem; second problem',
    });
  });
});

describe('planRestore', () => {
  const lease = (modRevision: number, ttl: number | null = 74737): KeySnapshot => ({
    exists: true,
    value: VALUE,
    leaseId: LEASE_ID,
    ttlSeconds: ttl,
    grantedTtlSeconds: ttl === null ? null : 86400,
    modRevision,
  });
  const reservation = (modRevision: number): KeySnapshot => ({
    exists: true,
    value: VALUE,
    leaseId: null,
    ttlSeconds: null,
    grantedTtlSeconds: null,
    modRevision,
  });
  const now = (before: KeySnapshot) => ({ subnet: '10.5.1.0/24', key: KEY, before });

  test('after a reserve: the value comes back under a new lease with the recorded TTL', () => {
    const plan = planRestore(now(reservation(9)), lease(5), reservation(9), false);
    assert.deepEqual(plan.verdict, {
      kind: 'change',
      outcome: { kind: 'put', value: VALUE, lease: 'new' },
      newLeaseTtlSeconds: 74737,
    });
    assert.equal(plan.action, 'restore');
    assert.equal(plan.leaseToRevoke, null);
  });

  test('after a release: the deleted key comes back under a new lease', () => {
    const plan = planRestore(now(ABSENT), lease(5, 1800), ABSENT, false);
    assert.deepEqual(plan.verdict, {
      kind: 'change',
      outcome: { kind: 'put', value: VALUE, lease: 'new' },
      newLeaseTtlSeconds: 1800,
    });
  });

  test('after an unreserve: back to a reservation, and the granted lease is revoked', () => {
    const granted = { ...lease(9, 86400), leaseId: BIG_LEASE_ID };
    const plan = planRestore(now(granted), reservation(5), granted, false);
    assert.equal(plan.verdict.kind, 'change');
    assert.deepEqual(plan.verdict.kind === 'change' && plan.verdict.outcome, {
      kind: 'put',
      value: VALUE,
      lease: 'none',
    });
    assert.equal(plan.leaseToRevoke, BIG_LEASE_ID);
  });

  test('after a pre-assign: a key that was absent is deleted', () => {
    const plan = planRestore(now(reservation(9)), ABSENT, reservation(9), false);
    assert.deepEqual(plan.verdict, { kind: 'change', outcome: { kind: 'delete' } });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('a deleted key that had gained a lease has that lease revoked (with --force)', () => {
    const plan = planRestore(now(lease(12, 86000)), ABSENT, reservation(9), true);
    assert.deepEqual(plan.verdict, { kind: 'change', outcome: { kind: 'delete' } });
    assert.equal(plan.leaseToRevoke, LEASE_ID);
  });

  const runOut: Array<[string, number | null]> = [
    ['expired (negative TTL)', -68272],
    ['at 0 s', 0],
    ['unknown (lease missing)', null],
  ];
  for (const [what, ttl] of runOut) {
    test(`a recorded lease whose TTL was ${what} comes back for a full 86400 s`, () => {
      const plan = planRestore(now(ABSENT), lease(5, ttl), ABSENT, false);
      assert.deepEqual(plan.verdict, {
        kind: 'change',
        outcome: { kind: 'put', value: VALUE, lease: 'new' },
        newLeaseTtlSeconds: 86400,
      });
    });
  }

  // Another host's value: the key is not merely back as recorded.
  const retaken = (modRevision: number): KeySnapshot => ({
    ...lease(modRevision),
    value: '{"PublicIP":"192.0.2.99"}',
  });

  test('refuses a key modified after the entry, naming both revisions and --force', () => {
    const plan = planRestore(now(retaken(12)), lease(5), reservation(9), false);
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: `${KEY} changed after the journal entry (mod revision 12, expected 9); --force overwrites it`,
    });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('refuses a key deleted after the entry', () => {
    const plan = planRestore(now(ABSENT), lease(5), reservation(9), false);
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: `${KEY} changed after the journal entry (mod revision none, expected 9); --force overwrites it`,
    });
  });

  test('refuses a key created again after a release', () => {
    const plan = planRestore(now(retaken(12)), lease(5), ABSENT, false);
    assert.deepEqual(plan.verdict, {
      kind: 'refused',
      exit: 'problems',
      reason: `${KEY} changed after the journal entry (mod revision 12, expected none); --force overwrites it`,
    });
  });

  test('a key flanneld re-leased with the same value is as recorded, not refused', () => {
    const plan = planRestore(now(lease(12)), lease(5), ABSENT, false);
    assert.deepEqual(plan.verdict, { kind: 'unchanged', reason: 'is as the journal recorded it' });
  });

  test('--force overwrites a key modified after the entry', () => {
    const changed = { ...lease(12), leaseId: BIG_LEASE_ID };
    const plan = planRestore(now(changed), reservation(5), reservation(9), true);
    assert.deepEqual(plan.verdict.kind === 'change' && plan.verdict.outcome, {
      kind: 'put',
      value: VALUE,
      lease: 'none',
    });
    assert.equal(plan.leaseToRevoke, BIG_LEASE_ID);
  });

  test('--force recreates a key deleted after the entry', () => {
    const plan = planRestore(now(ABSENT), reservation(5), reservation(9), true);
    assert.deepEqual(plan.verdict.kind === 'change' && plan.verdict.outcome, {
      kind: 'put',
      value: VALUE,
      lease: 'none',
    });
  });

  test('a key as the journal recorded it is unchanged', () => {
    // The entry changed nothing visible (same value, still a reservation) and nothing since.
    const plan = planRestore(now(reservation(9)), reservation(5), reservation(9), false);
    assert.deepEqual(plan.verdict, { kind: 'unchanged', reason: 'is as the journal recorded it' });
    assert.equal(plan.leaseToRevoke, null);
  });

  test('a key that was absent and still is absent is unchanged', () => {
    const plan = planRestore(now(ABSENT), ABSENT, ABSENT, false);
    assert.deepEqual(plan.verdict, { kind: 'unchanged', reason: 'is as the journal recorded it' });
  });

  test('a key already put back as recorded (e.g. by an earlier restore) is unchanged, not refused', () => {
    // Re-running `restore --entry N` after a partial run must not demand --force for keys that
    // are already back: nothing would be overwritten, and --force would drop the guard for all.
    const plan = planRestore(now(lease(14, 70000)), lease(5), reservation(9), false);
    assert.deepEqual(plan.verdict, { kind: 'unchanged', reason: 'is as the journal recorded it' });
  });

  test('with --force, a key that is as recorded is unchanged', () => {
    const plan = planRestore(now(lease(14, 70000)), lease(5), reservation(9), true);
    assert.deepEqual(plan.verdict, { kind: 'unchanged', reason: 'is as the journal recorded it' });
  });

  test('a value that differs from the recorded one is put back', () => {
    const other = { ...reservation(9), value: leaseValue('192.0.2.99') };
    const plan = planRestore(now(other), reservation(5), other, false);
    assert.deepEqual(plan.verdict.kind === 'change' && plan.verdict.outcome, {
      kind: 'put',
      value: VALUE,
      lease: 'none',
    });
  });
});

describe('preassignProblems', () => {
  const cidr = (text: string): Cidr => {
    const parsed = parseCidr(text);
    assert.ok(parsed, `test setup: ${text} should parse`);
    return parsed;
  };
  const configOf = (text: string): NetworkConfig => {
    const parsed = parseNetworkConfig(text);
    assert.deepEqual(parsed.problems, [], 'test setup: the config should be valid');
    assert.ok(parsed.config);
    return parsed.config;
  };
  const config = configOf(
    '{"Network":"10.5.0.0/16","SubnetMin":"10.5.10.0","SubnetMax":"10.5.100.0",' +
      '"Backend":{"Type":"vxlan"}}',
  );
  const HOST = '192.0.2.17';
  const held = (text: string, publicIP: string): HeldSubnet => ({ subnet: cidr(text), publicIP });

  test('a free, aligned subnet inside the range has no problems', () => {
    const others = [held('10.5.16.0/24', '192.0.2.16'), held('10.5.18.0/24', '192.0.2.18')];
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/24'), HOST, config, others), []);
  });

  test('without a usable network config nothing can be checked', () => {
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/24'), HOST, undefined, []), [
      'there is no valid network config to check the subnet against',
    ]);
  });

  test('a subnet outside the network', () => {
    assert.deepEqual(preassignProblems(cidr('10.6.17.0/24'), HOST, config, []), [
      '10.6.17.0/24 is outside the network 10.5.0.0/16',
    ]);
  });

  test('a subnet of another length than SubnetLen', () => {
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/25'), HOST, config, []), [
      '10.5.17.0/25 is /25 but SubnetLen is 24',
    ]);
  });

  test('a subnet with host bits set (not on a SubnetLen boundary)', () => {
    assert.deepEqual(preassignProblems(cidr('10.5.17.128/24'), HOST, config, []), [
      '10.5.17.128/24 has host bits set (not a network address)',
    ]);
  });

  test('a subnet below SubnetMin or above SubnetMax', () => {
    assert.deepEqual(preassignProblems(cidr('10.5.9.0/24'), HOST, config, []), [
      '10.5.9.0/24 is outside SubnetMin..SubnetMax (10.5.10.0..10.5.100.0)',
    ]);
    assert.deepEqual(preassignProblems(cidr('10.5.101.0/24'), HOST, config, []), [
      '10.5.101.0/24 is outside SubnetMin..SubnetMax (10.5.10.0..10.5.100.0)',
    ]);
  });

  test('the bounds themselves are inside the range', () => {
    assert.deepEqual(preassignProblems(cidr('10.5.10.0/24'), HOST, config, []), []);
    assert.deepEqual(preassignProblems(cidr('10.5.100.0/24'), HOST, config, []), []);
  });

  test("the network's first subnet is outside the default range", () => {
    const defaults = configOf('{"Network":"10.5.0.0/16"}');
    assert.deepEqual(preassignProblems(cidr('10.5.0.0/24'), HOST, defaults, []), [
      '10.5.0.0/24 is outside SubnetMin..SubnetMax (10.5.1.0..10.5.255.0)',
    ]);
  });

  test('a subnet another host holds', () => {
    const others = [held('10.5.17.0/24', '192.0.2.50')];
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/24'), HOST, config, others), [
      '10.5.17.0/24 is taken already (held by 192.0.2.50)',
    ]);
  });

  test('a subnet inside a wider held key, or around a narrower one', () => {
    const others = [held('10.5.16.0/23', '192.0.2.51'), held('10.5.17.128/25', '192.0.2.52')];
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/24'), HOST, config, others), [
      '10.5.17.0/24 overlaps 10.5.16.0/23 (held by 192.0.2.51)',
      '10.5.17.0/24 overlaps 10.5.17.128/25 (held by 192.0.2.52)',
    ]);
  });

  test('a host that holds another subnet already (flanneld would reuse that one)', () => {
    const others = [held('10.5.20.0/24', HOST)];
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/24'), HOST, config, others), [
      '192.0.2.17 holds 10.5.20.0/24 already; flanneld would keep using that one',
    ]);
  });

  test('every problem is reported, not just the first', () => {
    const others = [held('10.5.9.0/24', '192.0.2.9'), held('10.5.30.0/24', HOST)];
    assert.deepEqual(preassignProblems(cidr('10.5.9.0/24'), HOST, config, others), [
      '10.5.9.0/24 is outside SubnetMin..SubnetMax (10.5.10.0..10.5.100.0)',
      '10.5.9.0/24 is taken already (held by 192.0.2.9)',
      '192.0.2.17 holds 10.5.30.0/24 already; flanneld would keep using that one',
    ]);
  });

  test('an IPv4-only subnet in a dual-stack network would be discarded by flanneld', () => {
    const dual = configOf('{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48"}');
    assert.deepEqual(preassignProblems(cidr('10.5.17.0/24'), HOST, dual, []), [
      'no IPv6 half although the network has IPv6 enabled',
    ]);
  });
});
