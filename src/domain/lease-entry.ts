// What one subnet key means once its key, value and etcd lease are read together.
import { type LeaseAttrs, parseLeaseValue } from './lease-attrs.js';
import { type NetworkConfig, misfitReasons } from './network-config.js';
import { type SubnetKey, compareSubnetKeys, parseSubnetKeyName } from './subnet-key.js';

/** A subnet key as stored, before interpretation. */
export interface StoredSubnet {
  readonly key: string;
  readonly name: string;
  readonly value: string;
  /** Hex lease id as etcdctl prints it; null when the key has no lease (a reservation). */
  readonly leaseId: string | null;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

/** etcd's LeaseTimeToLive answer. */
export interface LeaseTtl {
  readonly ttl: number;
  readonly grantedTtl: number;
  /**
   * Epoch ms when etcd answered; expiry is counted from here, since in a large network the
   * first answers arrive seconds before the last. Defaults to the context's nowMs.
   */
  readonly answeredAtMs?: number;
}

export type LeaseType = 'lease' | 'reservation';

/**
 * active: renewed in time; renewal-overdue: below the renew margin, so its flanneld stopped
 * renewing; expired: etcd reports a negative remaining TTL but kept the key; lease-missing:
 * the key names a lease etcd no longer knows (TimeToLive answers -1).
 */
export type LeaseStatus =
  | 'reservation'
  | 'active'
  | 'renewal-overdue'
  | 'expired'
  | 'lease-missing';

export interface LeaseEntry extends StoredSubnet {
  readonly subnet: SubnetKey;
  readonly attrs: LeaseAttrs;
  readonly type: LeaseType;
  readonly status: LeaseStatus;
  /** Remaining seconds exactly as etcd answered (negative and -1 kept); null for reservations. */
  readonly ttlSeconds: number | null;
  readonly grantedTtlSeconds: number | null;
  /** Epoch ms; null for reservations and missing leases. */
  readonly expiresAtMs: number | null;
  /** Why flanneld would drop this subnet under the current config; empty when it fits. */
  readonly misfits: readonly string[];
}

export interface SubnetProblem {
  readonly key: string;
  /** Which part flannel could not read: the key name or the LeaseAttrs value. */
  readonly part: 'key' | 'value';
  readonly reason: string;
}

export interface InterpretContext {
  readonly nowMs: number;
  readonly renewMarginSeconds: number;
  readonly config?: NetworkConfig;
}

/** flanneld's default `--subnet-lease-renew-margin`: 60 minutes. */
export const DEFAULT_RENEW_MARGIN_SECONDS = 3600;

// etcd answers TimeToLive with -1 for a lease it does not know (and for id 0).
const UNKNOWN_LEASE_TTL = -1;

export function classifyLease(
  leaseId: string | null,
  ttl: number | undefined,
  renewMarginSeconds: number,
): LeaseStatus {
  if (leaseId === null) return 'reservation';
  if (ttl === undefined || ttl === UNKNOWN_LEASE_TTL) return 'lease-missing';
  if (ttl <= 0) return 'expired';
  return ttl < renewMarginSeconds ? 'renewal-overdue' : 'active';
}

const NO_MISFITS: readonly string[] = Object.freeze([]);

/** Splits stored keys into interpreted entries (in subnet order) and problems; hides nothing. */
export function interpretSubnets(
  stored: readonly StoredSubnet[],
  ttls: ReadonlyMap<string, LeaseTtl>,
  context: InterpretContext,
): { entries: LeaseEntry[]; problems: SubnetProblem[] } {
  const entries: LeaseEntry[] = [];
  const problems: SubnetProblem[] = [];

  for (const record of stored) {
    const parsedKey = parseSubnetKeyName(record.name);
    if (!parsedKey.ok) {
      problems.push({ key: record.key, part: 'key', reason: parsedKey.reason });
      continue;
    }

    const parsedValue = parseLeaseValue(record.value);
    if (!parsedValue.ok) {
      problems.push({ key: record.key, part: 'value', reason: parsedValue.reason });
      continue;
    }

    const answer = record.leaseId === null ? undefined : ttls.get(record.leaseId);
    const status = classifyLease(record.leaseId, answer?.ttl, context.renewMarginSeconds);
    const knownTtl = status !== 'reservation' && status !== 'lease-missing';
    // Every field written out: a spread of `record` builds a slow object four times the size,
    // which at 65,536 entries is tens of MB.
    entries.push({
      key: record.key,
      name: record.name,
      value: record.value,
      leaseId: record.leaseId,
      createRevision: record.createRevision,
      modRevision: record.modRevision,
      version: record.version,
      subnet: parsedKey.key,
      attrs: parsedValue.attrs,
      type: record.leaseId === null ? 'reservation' : 'lease',
      status,
      ttlSeconds: record.leaseId === null ? null : (answer?.ttl ?? null),
      grantedTtlSeconds: knownTtl ? (answer?.grantedTtl ?? null) : null,
      expiresAtMs:
        knownTtl && answer ? (answer.answeredAtMs ?? context.nowMs) + answer.ttl * 1000 : null,
      misfits: context.config ? misfitReasons(parsedKey.key, context.config) : NO_MISFITS,
    });
  }

  entries.sort((a, b) => compareSubnetKeys(a.subnet, b.subnet));
  return { entries, problems };
}
