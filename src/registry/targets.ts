// Which subnet keys a changing command acts on, read with everything its plan needs.
import { formatCidr } from '../domain/cidr.js';
import { type KeySnapshot, snapshotOf } from '../domain/change-plan.js';
import { classifyLease, type StoredSubnet } from '../domain/lease-entry.js';
import { parseLeaseValue } from '../domain/lease-attrs.js';
import {
  type SubnetSelector,
  parseSubnetKeyName,
  parseSubnetSelector,
  selectorMatches,
} from '../domain/subnet-key.js';
import { usageError } from '../errors.js';
import type { RegistryBackend, SubnetListing } from './backend.js';
import type { NetworkPaths } from './network.js';

export interface Target {
  readonly subnet: string;
  readonly key: string;
  readonly before: KeySnapshot;
}

/** A typed subnet that matched no key: becomes a not-found result, not an exception. */
export interface Unmatched {
  readonly input: string;
  readonly selector: SubnetSelector;
  readonly key: string;
}

/** One thing to act on, in the order the operator named it. */
export type SelectedItem = { readonly target: Target } | { readonly unmatched: Unmatched };

export interface Selection {
  readonly listing: SubnetListing;
  /** Named subnets in argument order (each key once), then what --public-ip/--overdue add. */
  readonly items: SelectedItem[];
  /** Lines for stderr, e.g. that 10.5.1.1/24 was read as 10.5.1.0/24. */
  readonly notes: string[];
}

export interface SelectionRequest {
  readonly inputs: readonly string[];
  readonly publicIP?: string;
  /** Select every lease below this renew margin (seconds). */
  readonly overdueMarginSeconds?: number;
}

/** Parses every typed subnet before anything is read, so one typo changes nothing. */
export function parseSelectors(inputs: readonly string[], paths: NetworkPaths): SubnetSelector[] {
  return inputs.map((input) => {
    const parsed = parseSubnetSelector(input, paths.subnetsDir);
    if (!parsed.ok) throw usageError(parsed.reason);
    if (parsed.selector.kind === 'address') {
      throw usageError(
        `${input.trim()} is an address; name the subnet to change, e.g. 10.5.1.0/24`,
      );
    }

    return parsed.selector;
  });
}

export async function selectTargets(
  backend: RegistryBackend,
  paths: NetworkPaths,
  request: SelectionRequest,
): Promise<Selection> {
  const selectors = parseSelectors(request.inputs, paths);
  const listing = await backend.listSubnets(paths.subnetsDir);
  // Insertion order is argument order; a key named twice keeps its first place.
  const chosen = new Map<string, StoredSubnet | Unmatched>();
  const notes: string[] = [];

  selectors.forEach((selector, index) => {
    if (selector.kind === 'cidr' && selector.normalisedFrom) {
      notes.push(`${selector.normalisedFrom} names the subnet ${formatCidr(selector.cidr)}`);
    }

    const matches = listing.subnets.filter((stored) => matchesSelector(stored, selector));
    // Two keys with one IPv4 half (dual-stack and not) may belong to two hosts: never guess.
    if (matches.length > 1) {
      throw usageError(
        `${request.inputs[index].trim()} matches ${matches.length} keys ` +
          `(${matches.map((stored) => stored.key).join(', ')}); name the full key`,
      );
    }

    for (const stored of matches) if (!chosen.has(stored.key)) chosen.set(stored.key, stored);
    if (matches.length === 0) {
      const key = keyFor(selector, paths);
      chosen.set(`unmatched ${index}`, { input: request.inputs[index], selector, key });
    }
  });

  // --public-ip with --overdue narrows: that host's overdue leases only.
  if (request.publicIP !== undefined && request.overdueMarginSeconds === undefined) {
    for (const stored of listing.subnets) {
      if (publicIpOf(stored) === request.publicIP && !chosen.has(stored.key)) {
        chosen.set(stored.key, stored);
      }
    }
  }

  // --overdue looks at every lease; otherwise only the chosen keys' leases are asked about.
  const overdue = request.overdueMarginSeconds;
  const found = [...chosen.values()].filter((item): item is StoredSubnet => 'value' in item);
  const asked = overdue === undefined ? found : listing.subnets;
  const ttls = await backend.leaseTtls(leaseIdsOf(asked), MAX_IN_FLIGHT);
  if (overdue !== undefined) {
    for (const stored of listing.subnets) {
      const ttl = stored.leaseId ? ttls.get(stored.leaseId)?.ttl : undefined;
      const status = classifyLease(stored.leaseId, ttl, overdue);
      const host = request.publicIP === undefined || publicIpOf(stored) === request.publicIP;
      if (host && status !== 'active' && status !== 'reservation' && !chosen.has(stored.key)) {
        chosen.set(stored.key, stored);
      }
    }
  }

  const items = [...chosen.values()].map((item): SelectedItem => {
    if (!('value' in item)) return { unmatched: item };

    const ttl = item.leaseId ? ttls.get(item.leaseId) : undefined;
    return { target: { subnet: subnetOf(item), key: item.key, before: snapshotOf(item, ttl) } };
  });
  return { listing, items, notes };
}

function matchesSelector(stored: StoredSubnet, selector: SubnetSelector): boolean {
  if (selector.kind === 'key-name') return stored.name === selector.name;
  const parsed = parseSubnetKeyName(stored.name);
  return parsed.ok && selectorMatches(selector, parsed.key);
}

function publicIpOf(stored: StoredSubnet): string | undefined {
  const parsed = parseLeaseValue(stored.value);
  return parsed.ok ? parsed.attrs.publicIP : undefined;
}

// The bound flanctl uses for concurrent TimeToLive calls outside `leases ls`.
const MAX_IN_FLIGHT = 64;

function leaseIdsOf(subnets: readonly StoredSubnet[]): string[] {
  return subnets.flatMap((stored) => (stored.leaseId ? [stored.leaseId] : []));
}

export async function readLeaseOf(backend: RegistryBackend, stored: StoredSubnet): Promise<Target> {
  const ttl = stored.leaseId ? await backend.leaseDetails(stored.leaseId) : undefined;
  return { subnet: subnetOf(stored), key: stored.key, before: snapshotOf(stored, ttl) };
}

/** Reads one key afresh, for a second plan after a lost race. */
export async function rereadTarget(
  backend: RegistryBackend,
  target: Pick<Target, 'subnet' | 'key'>,
): Promise<Target> {
  // The key's own directory, so keys of several prefixes (a restore) are read alike.
  const dir = target.key.slice(0, target.key.lastIndexOf('/') + 1);
  const stored = await backend.readSubnet(target.key, dir);
  if (!stored) return { ...target, before: snapshotOf(undefined) };
  return readLeaseOf(backend, stored);
}

export function subnetOf(stored: Pick<StoredSubnet, 'name'>): string {
  const parsed = parseSubnetKeyName(stored.name);
  return parsed.ok ? formatCidr(parsed.key.ipv4) : stored.name;
}

/** The subnet a full key names (its IPv4 half), or the key's name when it names none. */
export function subnetOfKey(key: string): string {
  return subnetOf({ name: key.slice(key.lastIndexOf('/') + 1) });
}

function keyFor(selector: SubnetSelector, paths: NetworkPaths): string {
  if (selector.kind === 'key-name') return `${paths.subnetsDir}${selector.name}`;
  if (selector.kind === 'cidr') {
    return `${paths.subnetsDir}${formatCidr(selector.cidr).replace('/', '-')}`;
  }

  return paths.subnetsDir;
}
