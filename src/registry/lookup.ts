// Finds the subnet keys an operator named, with everything `leases show` reports about them.
import { formatCidr } from '../domain/cidr.js';
import { type LeaseEntry, type StoredSubnet, interpretSubnets } from '../domain/lease-entry.js';
import { type SubnetSelector, parseSubnetKeyName, selectorMatches } from '../domain/subnet-key.js';
import type { LeaseDetails, RegistryBackend } from './backend.js';
import { type ConfigState, type NetworkPaths, readConfig } from './network.js';

export interface LeaseDetail {
  readonly entry: LeaseEntry;
  /** Other keys attached to the same etcd lease (flanneld gives each key its own). */
  readonly sharedWith: string[];
}

/** A selected key whose name or value does not parse: shown raw, never hidden. */
export interface BrokenKey {
  readonly stored: StoredSubnet;
  readonly reason: string;
  readonly lease?: LeaseDetails;
}

export interface LookupResult {
  readonly revision: number;
  readonly config: ConfigState;
  readonly details: LeaseDetail[];
  readonly broken: BrokenKey[];
}

export async function lookupLeases(
  backend: RegistryBackend,
  paths: NetworkPaths,
  selector: SubnetSelector,
  renewMarginSeconds: number,
): Promise<LookupResult> {
  const config = await readConfig(backend, paths);
  const listing = await backend.listSubnets(paths.subnetsDir);
  const selected = listing.subnets.filter((subnet) => {
    if (selector.kind === 'key-name' && subnet.name === selector.name) return true;
    const parsed = parseSubnetKeyName(subnet.name);
    return parsed.ok && selectorMatches(selector, parsed.key);
  });

  const leases = new Map<string, LeaseDetails>();
  for (const subnet of selected) {
    if (subnet.leaseId && !leases.has(subnet.leaseId)) {
      leases.set(subnet.leaseId, await backend.leaseDetails(subnet.leaseId));
    }
  }

  const { entries, problems } = interpretSubnets(selected, leases, {
    nowMs: Date.now(),
    renewMarginSeconds,
    config: config.problems.length === 0 ? config.config : undefined,
  });
  const details = entries.map((entry) => ({
    entry,
    sharedWith: entry.leaseId
      ? (leases.get(entry.leaseId)?.keys ?? []).filter((key) => key !== entry.key)
      : [],
  }));

  const broken = problems.map((problem) => {
    const stored = selected.find((subnet) => subnet.key === problem.key) as StoredSubnet;
    const lease = stored.leaseId ? leases.get(stored.leaseId) : undefined;
    return { stored, reason: problem.reason, lease };
  });

  return { revision: listing.revision, config, details, broken };
}

/** The key a selector would name, for "not found" messages. */
export function describeSelectorKey(selector: SubnetSelector, paths: NetworkPaths): string {
  switch (selector.kind) {
    case 'key-name':
      return `key ${paths.subnetsDir}${selector.name}`;
    case 'cidr': {
      const name = formatCidr(selector.cidr).replace('/', '-');
      return selector.cidr.family === 4
        ? `key ${paths.subnetsDir}${name} (or ${name}&… for dual stack)`
        : `a key under ${paths.subnetsDir} with IPv6 half ${name}`;
    }
    case 'address':
      return `a subnet under ${paths.subnetsDir} holding the address`;
  }
}
