// Plans that make recorded reservations true again, for `reserve --reapply`, `doctor --fix`
// and `reserve --watch`.
import {
  ABSENT,
  type HeldSubnet,
  type PlannedChange,
  planReapply,
  preassignProblems,
} from '../domain/change-plan.js';
import { parseLeaseValue } from '../domain/lease-attrs.js';
import type { NetworkConfig } from '../domain/network-config.js';
import type { ReservationRecord } from '../domain/reservation-record.js';
import { parseSubnetKeyName } from '../domain/subnet-key.js';
import type { SubnetListing } from './backend.js';
import type { RegistryBackend } from './backend.js';
import { type NetworkPaths, readConfig } from './network.js';
import type { Records } from './records.js';
import { type Target, selectTargets, subnetOfKey } from './targets.js';

export interface ReapplyOptions {
  readonly renewMarginSeconds: number;
  readonly recreateMissing: boolean;
}

/** One plan per named subnet (every recorded one when none is named), in that order. */
export async function reapplyPlans(
  backend: RegistryBackend,
  paths: NetworkPaths,
  records: Records,
  inputs: readonly string[],
  options: ReapplyOptions,
): Promise<{ plans: PlannedChange[]; notes: string[]; replan: (target: Target) => PlannedChange }> {
  const named = inputs.length > 0 ? inputs : [...records.byKey.keys()];
  if (named.length === 0) return { plans: [], notes: [], replan: unexpectedReplan };

  const config = await readConfig(backend, paths);
  const selection = await selectTargets(backend, paths, { inputs: named });
  const checks = {
    ...options,
    config: config.problems.length === 0 ? config.config : undefined,
    held: heldSubnets(selection.listing),
  };
  const replan = (target: Target) => reapplyPlan(target, records, checks);
  const plans = selection.items.map((item) => {
    if ('target' in item) return replan(item.target);

    const { key } = item.unmatched;
    return replan({ subnet: subnetOfKey(key), key, before: ABSENT });
  });
  return { plans, notes: selection.notes, replan };
}

export interface ReapplyChecks extends ReapplyOptions {
  /** The config and the subnets held now, to check a key that would come back. */
  readonly config?: NetworkConfig;
  readonly held?: readonly HeldSubnet[];
}

export function reapplyPlan(
  target: Target,
  records: Records,
  options: ReapplyChecks,
): PlannedChange {
  const record = records.byKey.get(target.key);
  if (!record && !target.before.exists) {
    return {
      action: 'reapply',
      ...target,
      verdict: { kind: 'refused', exit: 'notFound', reason: `no key ${target.key} and no record` },
      leaseToRevoke: null,
    };
  }

  if (!record) {
    return {
      action: 'reapply',
      ...target,
      verdict: {
        kind: 'refused',
        exit: 'problems',
        reason: `has no reservation record; \`flanctl reserve ${target.subnet}\` makes one`,
      },
      leaseToRevoke: null,
    };
  }

  return planReapply(target, {
    renewMarginSeconds: options.renewMarginSeconds,
    recordedPublicIP: record.publicIP,
    recordedValue: record.value,
    recreateMissing: options.recreateMissing,
    recreateProblems: target.before.exists ? [] : recreateProblems(target.key, record, options),
  });
}

// A key that comes back must hold as a pre-assigned one would: fit the config, overlap no key,
// and belong to a host that holds no other subnet now.
function recreateProblems(key: string, record: ReservationRecord, checks: ReapplyChecks) {
  const parsed = parseSubnetKeyName(key.slice(key.lastIndexOf('/') + 1));
  if (!parsed.ok) return [parsed.reason];
  if (!checks.held) return [];

  const host = record.publicIP ?? '';
  return preassignProblems(parsed.key.ipv4, host, checks.config, checks.held, parsed.key);
}

/** The IPv4 half and host of every readable key: what a key coming back must not collide with. */
export function heldSubnets(listing: SubnetListing): HeldSubnet[] {
  return listing.subnets.flatMap((stored) => {
    const parsedKey = parseSubnetKeyName(stored.name);
    const value = parseLeaseValue(stored.value);
    const holder = value.ok ? value.attrs.publicIP : 'an unreadable value';
    return parsedKey.ok ? [{ subnet: parsedKey.key.ipv4, publicIP: holder }] : [];
  });
}

function unexpectedReplan(): never {
  throw new Error('nothing was planned, so nothing can be planned again');
}
