// doctor's capacity check: the subnets flanneld can still hand out, per address family.
import { holdingsOf, layoutPlan, usageTotals } from '../address-usage.js';
import { blockSize, formatCidr, lastAddress } from '../cidr.js';
import type { LeaseEntry } from '../lease-entry.js';
import { type AddressPlan, describeBounds, planCapacity } from '../network-config.js';
import { type DoctorInput, type Finding, finding } from './findings.js';

export function capacityFindings(input: DoctorInput): Finding[] {
  const { config } = input;
  if (!config || input.configProblems.length > 0) return [];

  return [config.ipv4, config.ipv6].flatMap((plan) =>
    plan ? [planFinding(plan, input.entries, input.capacityWarnPercent)] : [],
  );
}

function planFinding(
  plan: AddressPlan,
  entries: readonly LeaseEntry[],
  warnPercent: number,
): Finding {
  const usage = usageTotals(layoutPlan(plan, holdingsOf(entries, plan.family, true)));
  const bounds = describeBounds(plan);
  const network = formatCidr(plan.network);
  const blocked = usage.blocked > 0n ? `, ${usage.blocked} blocked by keys that do not fit` : '';
  const counts =
    `${usage.used} of ${usage.capacity} subnets used (${usage.reserved} reserved)${blocked}, ` +
    `${usage.free} free between SubnetMin ${bounds.min} and SubnetMax ${bounds.max}`;

  if (usage.free === 0n) {
    return finding(
      'error',
      'capacity',
      network,
      `${counts}: the next new node fails with "failed to acquire lease: out of subnets"` +
        raiseHint(plan),
    );
  }

  const percent = usage.percentUsed ?? 100;
  if (percent >= warnPercent) {
    return finding(
      'warning',
      'capacity',
      network,
      `${counts} (${percent}% used; warning from ${warnPercent}%)${raiseHint(plan)}`,
    );
  }

  return finding('info', 'capacity', network, counts);
}

function raiseHint(plan: AddressPlan): string {
  const parts: string[] = [];
  const block = (prefixLength: number) => ({ ...plan.network, prefixLength });
  if (plan.defaulted.includes('SubnetMin')) {
    const first = formatCidr(block(plan.subnetLen));
    parts.push(`the first block ${first} is never allocated by default`);
  }

  const preferred = plan.family === 4 ? 24 : 64;
  if (plan.subnetLen < preferred) {
    const size = blockSize(plan.family, preferred);
    const capacity = planCapacity({
      ...plan,
      subnetLen: preferred,
      subnetMin: plan.network.address + size,
      subnetMax: lastAddress(plan.network) + 1n - size,
    });
    parts.push(
      'a larger Network or a longer SubnetLen raises capacity ' +
        `(SubnetLen ${preferred} gives ${capacity})`,
    );
  } else {
    parts.push('a larger Network raises capacity');
  }

  return `; ${parts.join('; ')}`;
}
