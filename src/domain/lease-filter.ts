// `leases ls` filters and orders: pure functions over interpreted entries.
import { compareIp, parseIp } from './cidr.js';
import type { LeaseEntry, LeaseType } from './lease-entry.js';
import { compareSubnetKeys } from './subnet-key.js';

export interface LeaseFilter {
  readonly type?: LeaseType;
  /** Leases whose remaining TTL is at most this many seconds (expired and missing included). */
  readonly expiringWithinSeconds?: number;
  readonly publicIP?: string;
  readonly backend?: string;
}

export const SORT_KEYS = ['subnet', 'ttl', 'public-ip'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export function filterLeases(entries: readonly LeaseEntry[], filter: LeaseFilter): LeaseEntry[] {
  const wantedIp = filter.publicIP ? parseIp(filter.publicIP) : undefined;
  const backend = filter.backend?.toLowerCase();

  return entries.filter((entry) => {
    if (filter.type && entry.type !== filter.type) return false;
    if (backend !== undefined && entry.attrs.backendType?.toLowerCase() !== backend) return false;
    if (wantedIp && !holdsPublicIp(entry, wantedIp)) return false;
    if (filter.expiringWithinSeconds !== undefined) {
      if (entry.type === 'reservation') return false;
      if (entry.status === 'active' || entry.status === 'renewal-overdue') {
        return (entry.ttlSeconds ?? 0) <= filter.expiringWithinSeconds;
      }
    }

    return true;
  });
}

function holdsPublicIp(entry: LeaseEntry, wanted: NonNullable<ReturnType<typeof parseIp>>) {
  const addresses = [entry.attrs.publicIP, entry.attrs.publicIPv6];
  return addresses.some((text) => {
    const ip = text ? parseIp(text) : undefined;
    return ip !== undefined && compareIp(ip, wanted) === 0;
  });
}

/** Numeric orders; ties fall back to subnet order so output is stable. */
export function sortLeases(entries: readonly LeaseEntry[], key: SortKey): LeaseEntry[] {
  const bySubnet = (a: LeaseEntry, b: LeaseEntry) => compareSubnetKeys(a.subnet, b.subnet);
  const compare: Record<SortKey, (a: LeaseEntry, b: LeaseEntry) => number> = {
    subnet: bySubnet,
    ttl: (a, b) => ttlRank(a) - ttlRank(b) || bySubnet(a, b),
    'public-ip': (a, b) => comparePublicIp(a, b) || bySubnet(a, b),
  };
  return [...entries].sort(compare[key]);
}

// Soonest to expire first; missing leases with the expired, reservations (no expiry) last.
function ttlRank(entry: LeaseEntry): number {
  if (entry.status === 'reservation') return Number.MAX_SAFE_INTEGER;
  if (entry.status === 'lease-missing') return Number.MIN_SAFE_INTEGER;
  return entry.ttlSeconds ?? 0;
}

function comparePublicIp(a: LeaseEntry, b: LeaseEntry): number {
  const left = parseIp(a.attrs.publicIP);
  const right = parseIp(b.attrs.publicIP);
  if (!left || !right) return 0;
  return compareIp(left, right);
}
