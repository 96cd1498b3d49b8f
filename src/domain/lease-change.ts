// What one change to a subnet key means to an operator, decided from what was known of the key
// before and what etcd reported (a put with its value and lease, or a delete). Pure.
import type { LeaseTtl } from './lease-entry.js';

/**
 * allocated: a new key with a lease. reserved: a new key without one, or a lease turned into a
 * reservation. unreserved: a reservation given a lease. renewed: the same value under another
 * lease (flanneld renews by granting a new lease and putting the key again). changed: another
 * value, or a put that changed nothing visible. removed: deleted. expired: deleted after its
 * lease's last known TTL had run out.
 */
export const CHANGE_LABELS = [
  'allocated',
  'renewed',
  'reserved',
  'unreserved',
  'changed',
  'removed',
  'expired',
] as const;
export type ChangeLabel = (typeof CHANGE_LABELS)[number];

/** What is remembered of a key between changes. */
export interface KnownKey {
  readonly value: string;
  /** Hex lease id; null for a reservation. */
  readonly leaseId: string | null;
  /** Epoch ms when the lease runs out by its last known TTL; null when none is known. */
  readonly expiresAtMs: number | null;
}

export type KeyChange =
  | { readonly kind: 'put'; readonly value: string; readonly leaseId: string | null }
  | { readonly kind: 'delete' };

/** The label of `change`, given what was known of the key (undefined: a key not seen before). */
export function changeLabel(
  before: KnownKey | undefined,
  change: KeyChange,
  nowMs: number,
): ChangeLabel {
  if (change.kind === 'delete') {
    return before !== undefined && hasRunOut(before, nowMs) ? 'expired' : 'removed';
  }

  if (before === undefined) return change.leaseId === null ? 'reserved' : 'allocated';
  if (before.leaseId !== null && change.leaseId === null) return 'reserved';
  if (before.leaseId === null && change.leaseId !== null) return 'unreserved';
  if (before.value !== change.value) return 'changed';
  if (before.leaseId !== change.leaseId) return 'renewed';
  return 'changed';
}

function hasRunOut(known: KnownKey, nowMs: number): boolean {
  return known.leaseId !== null && known.expiresAtMs !== null && nowMs >= known.expiresAtMs;
}

/** A key as a listing shows it. */
export interface ListedKey extends KnownKey {
  readonly key: string;
  readonly modRevision: number;
}

export interface KeyDifference<T extends ListedKey> {
  readonly key: string;
  readonly label: ChangeLabel;
  /** Undefined for a key the first listing did not have. */
  readonly before?: T;
  /** Undefined for a key the second listing no longer has. */
  readonly after?: T;
}

/**
 * The changes that lead from one listing to a later one, labelled as if each key had changed
 * once: what a watch reports when etcd compacted the history in between. Keys of `after` come
 * first in its order, then the keys it no longer has in the order of `before`.
 */
export function diffListings<T extends ListedKey>(
  before: ReadonlyMap<string, T>,
  after: Iterable<T>,
  nowMs: number,
): KeyDifference<T>[] {
  const differences: KeyDifference<T>[] = [];
  const seen = new Set<string>();

  for (const now of after) {
    seen.add(now.key);
    const then = before.get(now.key);
    if (then !== undefined && then.modRevision === now.modRevision) continue;

    const label = changeLabel(then, { kind: 'put', value: now.value, leaseId: now.leaseId }, nowMs);
    differences.push({ key: now.key, label, before: then, after: now });
  }

  for (const then of before.values()) {
    if (seen.has(then.key)) continue;
    differences.push({
      key: then.key,
      label: changeLabel(then, { kind: 'delete' }, nowMs),
      before: then,
    });
  }

  return differences;
}

/** A lease as an interpreted entry describes it. */
export interface KnownLease {
  readonly leaseId: string | null;
  readonly ttlSeconds: number | null;
  readonly grantedTtlSeconds: number | null;
  readonly expiresAtMs: number | null;
}

// etcd answers TimeToLive with -1 for a lease it does not know.
const UNKNOWN_LEASE_TTL = -1;

/**
 * The TimeToLive answer etcd would give at `nowMs` by what is known of the lease, so that a key
 * put again under the same lease is shown with its TTL as of now without asking etcd again.
 * Undefined for a reservation.
 */
export function ttlAsOf(lease: KnownLease, nowMs: number): LeaseTtl | undefined {
  if (lease.leaseId === null) return undefined;

  const grantedTtl = lease.grantedTtlSeconds ?? 0;
  if (lease.expiresAtMs === null) {
    return { ttl: lease.ttlSeconds ?? UNKNOWN_LEASE_TTL, grantedTtl, answeredAtMs: nowMs };
  }

  // etcd truncates the remaining time to whole seconds; answering a fraction of a second
  // earlier keeps the expiry exactly where it was.
  const ttl = Math.trunc((lease.expiresAtMs - nowMs) / 1000);
  return { ttl, grantedTtl, answeredAtMs: lease.expiresAtMs - ttl * 1000 };
}
