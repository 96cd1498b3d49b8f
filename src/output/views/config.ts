// `config show` output. Pure.
import { formatCidr } from '../../domain/cidr.js';
import type { UsageTotals } from '../../domain/address-usage.js';
import { type AddressPlan, describeBounds } from '../../domain/network-config.js';
import type { ConfigState } from '../../registry/network.js';
import { printable } from '../printable.js';

export interface PlanReport {
  readonly plan: AddressPlan;
  readonly usage: UsageTotals;
}

export interface ConfigReport {
  readonly key: string;
  readonly state: ConfigState;
  readonly plans: PlanReport[];
}

export function configDocument(report: ConfigReport): string {
  const { state } = report;
  return JSON.stringify({
    key: report.key,
    stored: state.text ?? null,
    valid: state.problems.length === 0,
    problems: state.problems.map((problem) => ({
      field: problem.field,
      value: problem.value,
      message: problem.message,
    })),
    backendType: state.config?.backendType ?? null,
    effective: report.plans.map(({ plan, usage }) => ({
      family: plan.family === 4 ? 'ipv4' : 'ipv6',
      network: formatCidr(plan.network),
      subnetLen: plan.subnetLen,
      subnetMin: describeBounds(plan).min,
      subnetMax: describeBounds(plan).max,
      defaulted: plan.defaulted,
      // Capacity can exceed 2^53 for IPv6 plans, so counts that can are strings.
      capacity: usage.capacity.toString(),
      used: Number(usage.used),
      reserved: Number(usage.reserved),
      blocked: Number(usage.blocked),
      free: usage.free.toString(),
    })),
  });
}

export function configText(report: ConfigReport): string {
  const { state } = report;
  const lines = [`Key:      ${printable(report.key)}`, `Stored:   ${printable(state.text ?? '')}`];
  lines.push(`Valid:    ${state.problems.length === 0 ? 'yes' : 'no'}`);
  for (const problem of state.problems) lines.push(`  problem: ${printable(problem.message)}`);
  if (state.config) lines.push(`Backend:  ${printable(state.config.backendType)}`);

  for (const { plan, usage } of report.plans) {
    const label = plan.family === 4 ? 'IPv4' : 'IPv6';
    const bounds = describeBounds(plan);
    const marked = (name: 'SubnetLen' | 'SubnetMin' | 'SubnetMax', value: string) =>
      plan.defaulted.includes(name) ? `${value} (default)` : value;
    lines.push(
      `${label} network:  ${formatCidr(plan.network)}`,
      `  SubnetLen:   ${marked('SubnetLen', String(plan.subnetLen))}`,
      `  SubnetMin:   ${marked('SubnetMin', bounds.min)}`,
      `  SubnetMax:   ${marked('SubnetMax', bounds.max)}`,
      `  Subnets:     ${usage.capacity} (used ${usage.used}, of which reserved ` +
        `${usage.reserved};${blockedText(usage)} free ${usage.free})`,
    );
  }

  return lines.join('\n') + '\n';
}

function blockedText(usage: UsageTotals): string {
  return usage.blocked > 0n ? ` blocked by keys that do not fit ${usage.blocked};` : '';
}
