// Plans that make recorded reservations true again, for `reserve --reapply`, `doctor --fix`
// and `reserve --watch`.
import { ABSENT, type PlannedChange, planReapply } from '../domain/change-plan.js';
import type { RegistryBackend } from './backend.js';
import type { NetworkPaths } from './network.js';
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

  const replan = (target: Target) => reapplyPlan(target, records, options);
  const selection = await selectTargets(backend, paths, { inputs: named });
  const plans = selection.items.map((item) => {
    if ('target' in item) return replan(item.target);

    const { key } = item.unmatched;
    return replan({ subnet: subnetOfKey(key), key, before: ABSENT });
  });
  return { plans, notes: selection.notes, replan };
}

export function reapplyPlan(
  target: Target,
  records: Records,
  options: ReapplyOptions,
): PlannedChange {
  const record = records.byKey.get(target.key);
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
  });
}

function unexpectedReplan(): never {
  throw new Error('nothing was planned, so nothing can be planned again');
}
