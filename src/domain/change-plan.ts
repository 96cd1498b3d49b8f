// What a changing command would do to one subnet key, decided from what was read. Pure: the
// registry carries a plan out; commands print it for --dry-run.
import { type Cidr, containsCidr, formatCidr } from './cidr.js';
import { formatDuration, formatRelative } from './duration.js';
import { parseLeaseValue } from './lease-attrs.js';
import { type LeaseTtl, type StoredSubnet, classifyLease } from './lease-entry.js';
import { type NetworkConfig, misfitReasons } from './network-config.js';
import type { SubnetKey } from './subnet-key.js';

export type ChangeAction =
  | 'reserve'
  | 'unreserve'
  | 'release'
  | 'create'
  | 'restore'
  | 'record'
  | 'reapply';

/** A key's state as plans and the journal record it. */
export interface KeySnapshot {
  readonly exists: boolean;
  readonly value: string | null;
  /** Hex etcd lease id; null for none. */
  readonly leaseId: string | null;
  readonly ttlSeconds: number | null;
  readonly grantedTtlSeconds: number | null;
  readonly modRevision: number | null;
}

export const ABSENT: KeySnapshot = {
  exists: false,
  value: null,
  leaseId: null,
  ttlSeconds: null,
  grantedTtlSeconds: null,
  modRevision: null,
};

/** The target state of a change. */
export type Outcome =
  | { readonly kind: 'put'; readonly value: string; readonly lease: 'none' | 'new' }
  | { readonly kind: 'delete' }
  /** The subnet key stays as it is (still guarded); only its reservation record is written. */
  | { readonly kind: 'record' };

/** A write to flanctl's reservation record of the key, in the same transaction. */
export type RecordWrite =
  | { readonly put: { readonly key: string; readonly value: string } }
  | { readonly delete: { readonly key: string } };

export type Verdict =
  | { readonly kind: 'change'; readonly outcome: Outcome; readonly newLeaseTtlSeconds?: number }
  | { readonly kind: 'unchanged'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string; readonly exit: 'problems' | 'notFound' };

export interface PlannedChange {
  readonly action: ChangeAction;
  /** The subnet as the operator knows it (10.5.1.0/24), or the key name when it has none. */
  readonly subnet: string;
  readonly key: string;
  readonly before: KeySnapshot;
  readonly verdict: Verdict;
  /** The lease the key loses, to revoke afterwards when no other key uses it. */
  readonly leaseToRevoke: string | null;
  /** The reservation record written with the change, if any. */
  readonly record?: RecordWrite;
}

export function snapshotOf(stored: StoredSubnet | undefined, ttl?: LeaseTtl): KeySnapshot {
  if (!stored) return ABSENT;

  return {
    exists: true,
    value: stored.value,
    leaseId: stored.leaseId,
    ttlSeconds: stored.leaseId && ttl ? ttl.ttl : null,
    grantedTtlSeconds: stored.leaseId && ttl ? ttl.grantedTtl : null,
    modRevision: stored.modRevision,
  };
}

/** flanneld's lease TTL (subnetTTL): what `unreserve` grants unless told otherwise. */
export const FLANNEL_LEASE_TTL_SECONDS = 86_400;

interface Target {
  readonly subnet: string;
  readonly key: string;
  readonly before: KeySnapshot;
}

function plan(action: ChangeAction, target: Target, verdict: Verdict, revoke = false) {
  const leaseToRevoke = revoke && verdict.kind === 'change' ? target.before.leaseId : null;
  return { action, ...target, verdict, leaseToRevoke };
}

function notFound(target: Target): Verdict {
  return { kind: 'refused', exit: 'notFound', reason: `no key ${target.key}` };
}

// A value flannel cannot read holds nothing worth keeping: re-putting it would only pin junk.
function unreadableValue(target: Target): Verdict | undefined {
  const parsed = parseLeaseValue(target.before.value ?? '');
  if (parsed.ok) return undefined;

  return {
    kind: 'refused',
    exit: 'problems',
    reason:
      `${target.key} holds no lease value to keep (${parsed.reason}); ` +
      'put a valid LeaseAttrs value back first, or release the key',
  };
}

/** Lease -> reservation: the same key and value with no etcd lease. */
export function planReserve(target: Target): PlannedChange {
  const { before } = target;
  if (!before.exists) return plan('reserve', target, notFound(target));

  const unreadable = unreadableValue(target);
  if (unreadable) return plan('reserve', target, unreadable);

  if (before.leaseId === null) {
    return plan('reserve', target, {
      kind: 'unchanged',
      reason: 'already a reservation',
    });
  }

  const outcome: Outcome = { kind: 'put', value: before.value ?? '', lease: 'none' };
  return plan('reserve', target, { kind: 'change', outcome }, true);
}

/** Reservation -> lease: the same key and value under a fresh etcd lease. */
export function planUnreserve(target: Target, ttlSeconds: number): PlannedChange {
  const { before } = target;
  if (!before.exists) return plan('unreserve', target, notFound(target));

  const unreadable = unreadableValue(target);
  if (unreadable) return plan('unreserve', target, unreadable);

  if (before.leaseId !== null) {
    return plan('unreserve', target, {
      kind: 'unchanged',
      reason: `already has an etcd lease (${before.leaseId})`,
    });
  }

  const outcome: Outcome = { kind: 'put', value: before.value ?? '', lease: 'new' };
  return plan('unreserve', target, { kind: 'change', outcome, newLeaseTtlSeconds: ttlSeconds });
}

/** An existing reservation flanctl has no record of: record it and leave the key alone. */
export function planRecord(target: Target): PlannedChange {
  return plan('record', target, { kind: 'change', outcome: { kind: 'record' } });
}

export interface ReapplyRules {
  readonly renewMarginSeconds: number;
  /** The host the record names; null when it names none. */
  readonly recordedPublicIP: string | null;
  /** The value the key held when reserved, for a key that is gone. */
  readonly recordedValue: string;
  /** Put a missing key back (`reserve --reapply`); doctor --fix only detaches leases. */
  readonly recreateMissing: boolean;
  /** Why a missing key must not come back (as for a pre-assigned one); empty when it may. */
  readonly recreateProblems?: readonly string[];
}

/**
 * Makes a recorded reservation true again: a key whose lease nobody renews loses the lease
 * (the subnet survives its host's outage), a missing key comes back as a reservation. A lease
 * that is being renewed is left alone: its host is alive, and stripping it would make that
 * flanneld renew at once, and so on forever.
 */
export function planReapply(target: Target, rules: ReapplyRules): PlannedChange {
  const { before } = target;
  if (!before.exists) {
    if (!rules.recreateMissing) {
      return plan('reapply', target, {
        kind: 'unchanged',
        reason: 'has no key; `reserve --reapply` puts it back as a reservation',
      });
    }

    const problems = rules.recreateProblems ?? [];
    if (problems.length > 0) {
      return plan('reapply', target, {
        kind: 'refused',
        exit: 'problems',
        reason: `has no key and cannot come back: ${problems.join('; ')}`,
      });
    }

    const outcome: Outcome = { kind: 'put', value: rules.recordedValue, lease: 'none' };
    return plan('reapply', target, { kind: 'change', outcome });
  }

  const holder = parseLeaseValue(before.value ?? '');
  if (!holder.ok) return plan('reapply', target, unreadableValue(target) as Verdict);
  if (rules.recordedPublicIP !== null && holder.attrs.publicIP !== rules.recordedPublicIP) {
    return plan('reapply', target, {
      kind: 'refused',
      exit: 'problems',
      reason:
        `is held by ${holder.attrs.publicIP}, but the reservation was recorded for ` +
        `${rules.recordedPublicIP}; check which host should have it`,
    });
  }

  if (before.leaseId === null) {
    return plan('reapply', target, { kind: 'unchanged', reason: 'is still a reservation' });
  }

  const status = classifyLease(
    before.leaseId,
    before.ttlSeconds ?? undefined,
    rules.renewMarginSeconds,
  );
  if (status === 'active') {
    return plan('reapply', target, {
      kind: 'unchanged',
      reason:
        `carries lease ${before.leaseId} with ${formatDuration(before.ttlSeconds ?? 0)} left, ` +
        'which its host renews: the subnet is safe while it runs; left alone',
    });
  }

  const outcome: Outcome = { kind: 'put', value: before.value ?? '', lease: 'none' };
  return plan('reapply', target, { kind: 'change', outcome }, true);
}

export interface ReleaseRules {
  readonly renewMarginSeconds: number;
  readonly force: boolean;
  readonly ignoreNotFound: boolean;
  readonly nowMs: number;
}

/**
 * Deletes a key. A lease with more left than the renew margin belongs to a flanneld that is
 * probably alive (it renews an hour before expiry and exits when its key vanishes), and a
 * reservation was pinned on purpose: both need --force.
 */
export function planRelease(target: Target, rules: ReleaseRules): PlannedChange {
  const { before } = target;
  if (!before.exists) {
    const verdict: Verdict = rules.ignoreNotFound
      ? { kind: 'unchanged', reason: 'has no key (--ignore-not-found)' }
      : notFound(target);
    return plan('release', target, verdict);
  }

  const refusal = rules.force ? undefined : releaseRefusal(target, rules);
  if (refusal)
    return plan('release', target, { kind: 'refused', exit: 'problems', reason: refusal });

  return plan('release', target, { kind: 'change', outcome: { kind: 'delete' } }, true);
}

function releaseRefusal(target: Target, rules: ReleaseRules): string | undefined {
  const { before } = target;
  if (before.leaseId === null) {
    return 'is a reservation, pinned on purpose; --force releases it';
  }

  const status = classifyLease(
    before.leaseId,
    before.ttlSeconds ?? undefined,
    rules.renewMarginSeconds,
  );
  if (status !== 'active') return undefined;

  const ttl = before.ttlSeconds ?? 0;
  const expiresAt = new Date(rules.nowMs + ttl * 1000).toISOString();
  return (
    `has ${formatDuration(ttl)} left, not below the renew margin ` +
    `${formatDuration(rules.renewMarginSeconds)}: its flanneld is probably alive and exits when ` +
    `its key vanishes; the lease expires at ${expiresAt} (${formatRelative(ttl)}); --force overrides`
  );
}

/** A new reservation for a host that has no lease yet (flanneld reuses it by PublicIP). */
export function planCreate(target: Target, value: string, problems: string[]): PlannedChange {
  if (target.before.exists) {
    return plan('create', target, {
      kind: 'refused',
      exit: 'problems',
      reason: `${target.key} exists already`,
    });
  }

  if (problems.length > 0) {
    return plan('create', target, {
      kind: 'refused',
      exit: 'problems',
      reason: problems.join('; '),
    });
  }

  return plan('create', target, { kind: 'change', outcome: { kind: 'put', value, lease: 'none' } });
}

/**
 * Puts a key back as a journal recorded it. `expected` is the state the journal's change left
 * (null when the change was never confirmed); a key that changed since is only overwritten
 * with `force`, and so is a live lease the restore would delete.
 */
export function planRestore(
  target: Target,
  recorded: KeySnapshot,
  expected: KeySnapshot | null,
  force: boolean,
): PlannedChange {
  const { before } = target;
  // A key already back as recorded (an earlier, partial restore) needs nothing, changed or not.
  if (sameState(before, recorded)) {
    return plan('restore', target, { kind: 'unchanged', reason: 'is as the journal recorded it' });
  }

  const refusal = force ? undefined : restoreRefusal(target, recorded, expected);
  if (refusal)
    return plan('restore', target, { kind: 'refused', exit: 'problems', reason: refusal });

  if (!recorded.exists) {
    return plan('restore', target, { kind: 'change', outcome: { kind: 'delete' } }, true);
  }

  const lease = recorded.leaseId === null ? 'none' : 'new';
  const outcome: Outcome = { kind: 'put', value: recorded.value ?? '', lease };
  // A lease that had run out when it was recorded comes back for a full flannel lease term.
  const ttl =
    recorded.ttlSeconds !== null && recorded.ttlSeconds > 0
      ? recorded.ttlSeconds
      : FLANNEL_LEASE_TTL_SECONDS;
  return plan('restore', target, { kind: 'change', outcome, newLeaseTtlSeconds: ttl }, true);
}

function restoreRefusal(
  target: Target,
  recorded: KeySnapshot,
  expected: KeySnapshot | null,
): string | undefined {
  const { before } = target;
  if (expected === null) {
    return (
      `the journal entry for ${target.key} was never confirmed as applied (etcd failed during ` +
      'the change); check the key, then --force restores it'
    );
  }

  const changedSince =
    before.exists !== expected.exists ||
    (before.exists && before.modRevision !== expected.modRevision);
  if (changedSince) {
    return (
      `${target.key} changed after the journal entry ` +
      `(mod revision ${before.modRevision ?? 'none'}, expected ${expected.modRevision ?? 'none'}); ` +
      '--force overwrites it'
    );
  }

  // Undoing a restore that brought a host's lease back would pull a live host's subnet.
  const status = classifyLease(before.leaseId, before.ttlSeconds ?? undefined, DEFAULT_MARGIN);
  if (!recorded.exists && before.leaseId !== null && status === 'active') {
    return `restoring would delete a live lease (${formatDuration(before.ttlSeconds ?? 0)} left); --force deletes it`;
  }

  return undefined;
}

// flanneld's default renew margin; restore has no --renew-margin of its own.
const DEFAULT_MARGIN = 3600;

function sameState(current: KeySnapshot, recorded: KeySnapshot): boolean {
  if (!current.exists || !recorded.exists) return current.exists === recorded.exists;
  return (
    current.value === recorded.value && (current.leaseId === null) === (recorded.leaseId === null)
  );
}

export interface HeldSubnet {
  readonly subnet: Cidr;
  readonly publicIP: string;
}

/** Why a new reservation for `subnet` at `publicIP` would not hold; empty when it would. */
export function preassignProblems(
  subnet: Cidr,
  publicIP: string,
  config: NetworkConfig | undefined,
  held: readonly HeldSubnet[],
  key: SubnetKey = { name: formatCidr(subnet), ipv4: subnet },
): string[] {
  if (!config) return ['there is no valid network config to check the subnet against'];

  const text = formatCidr(subnet);
  const problems = [...misfitReasons(key, config)];
  for (const other of held) {
    if (containsCidr(other.subnet, subnet) || containsCidr(subnet, other.subnet)) {
      const otherText = formatCidr(other.subnet);
      problems.push(
        otherText === text
          ? `${text} is taken already (held by ${other.publicIP})`
          : `${text} overlaps ${otherText} (held by ${other.publicIP})`,
      );
    }
  }

  const owned = held.filter((other) => other.publicIP === publicIP);
  for (const other of owned) {
    problems.push(
      `${publicIP} holds ${formatCidr(other.subnet)} already; flanneld would keep using that one`,
    );
  }

  return problems;
}
