// `net usage` output: totals, free ranges and the map per family on stdout, warnings and
// problems for stderr. Pure.
import {
  type FamilyUsage,
  MAP_CELLS_PER_ROW,
  type MapCell,
  type MapRow,
} from '../../domain/address-usage.js';
import { formatCidr } from '../../domain/cidr.js';
import type { SubnetProblem } from '../../domain/lease-entry.js';
import { type ConfigProblem, describeBounds } from '../../domain/network-config.js';
import { printable } from '../printable.js';
import type { Style } from '../style.js';

export interface UsageReport {
  readonly prefix: string;
  readonly revision: number;
  readonly configKey: string;
  /** Problems of a config that still has plans (e.g. SubnetMin above SubnetMax). */
  readonly configProblems: readonly ConfigProblem[];
  /** True when lease TTLs were read, so expired and missing leases are told apart. */
  readonly leaseStatuses: boolean;
  readonly families: readonly FamilyUsage[];
  readonly problems: readonly SubnetProblem[];
}

/** Free blocks `--json` lists per family; `freeRangesTruncated` says when there are more. */
export const JSON_FREE_RANGE_LIMIT = 65_536;
/** Free blocks the text lists per family before "... and N more". */
export const TEXT_FREE_RANGE_LIMIT = 64;
/** Above this share of the capacity taken, a warning goes to stderr. */
export const HIGH_USAGE_PERCENT = 80;

const CELL_CHARS: Record<MapCell, string> = {
  free: '.',
  lease: 'L',
  reservation: 'R',
  'dead-lease': 'X',
  blocked: '#',
  outside: '-',
};

const CELL_MEANINGS: Record<MapCell, string> = {
  free: 'free',
  lease: 'lease',
  reservation: 'reservation',
  'dead-lease': 'expired or missing lease',
  blocked: 'blocked',
  outside: 'not allocatable',
};

const CELL_GROUP = 8;

function familyName(usage: FamilyUsage): 'ipv4' | 'ipv6' {
  return usage.layout.plan.family === 4 ? 'ipv4' : 'ipv6';
}

function familyLabel(usage: FamilyUsage): string {
  return `IPv${usage.layout.plan.family}`;
}

export function usageDocument(report: UsageReport): string {
  const document = {
    prefix: report.prefix,
    revision: report.revision,
    configKey: report.configKey,
    configProblems: report.configProblems.map((problem) => ({
      field: problem.field,
      value: problem.value,
      message: problem.message,
    })),
    leaseStatuses: report.leaseStatuses,
    families: report.families.map((usage) => familyJson(usage, report.leaseStatuses)),
    problems: report.problems.map((problem) => ({ key: problem.key, reason: problem.reason })),
  };
  return `${JSON.stringify(document)}\n`;
}

function familyJson(usage: FamilyUsage, leaseStatuses: boolean) {
  const { plan } = usage.layout;
  const { totals, free } = usage;
  const bounds = describeBounds(plan);
  return {
    family: familyName(usage),
    network: formatCidr(plan.network),
    subnetLen: plan.subnetLen,
    subnetMin: bounds.min,
    subnetMax: bounds.max,
    // Counts that can pass 2^53 in an IPv6 plan are decimal strings; the others are bounded
    // by the number of keys.
    capacity: totals.capacity.toString(),
    used: Number(totals.used),
    reserved: Number(totals.reserved),
    expiredOrMissing: leaseStatuses ? Number(totals.deadLeases) : null,
    blocked: totals.blocked.toString(),
    free: totals.free.toString(),
    percentUsed: totals.percentUsed ?? null,
    outsideRange: usage.layout.outsideRange,
    withoutSubnet: usage.layout.withoutSubnet,
    freeRanges: free.blocks.map(formatCidr),
    freeRangeCount: Number(free.total),
    freeRangesTruncated: free.total > BigInt(free.blocks.length),
    map: usage.map ? mapJson(usage.map) : null,
  };
}

function mapJson(rows: readonly MapRow[]) {
  return {
    cellsPerRow: MAP_CELLS_PER_ROW,
    legend: Object.fromEntries(
      (Object.keys(CELL_CHARS) as MapCell[]).map((cell) => [CELL_CHARS[cell], CELL_MEANINGS[cell]]),
    ),
    rows: rows.map((row) => ({
      subnet: formatCidr(row.first),
      cells: row.cells.map((cell) => CELL_CHARS[cell]).join(''),
    })),
  };
}

const LABEL_WIDTH = 14;

function labelled(label: string, value: string): string {
  return `  ${`${label}:`.padEnd(LABEL_WIDTH)}${value}`;
}

export function usageText(report: UsageReport, style: Style): string {
  const blocks = report.families.map((usage) => familyText(usage, report.leaseStatuses, style));
  return blocks.map((lines) => lines.join('\n') + '\n').join('\n');
}

function familyText(usage: FamilyUsage, leaseStatuses: boolean, style: Style): string[] {
  const { layout, totals, free } = usage;
  const { plan } = layout;
  const bounds = describeBounds(plan);
  const emptyRange = totals.capacity === 0n ? ' (empty: SubnetMin is above SubnetMax)' : '';
  const percent = totals.percentUsed === undefined ? '' : ` (${totals.percentUsed}%)`;
  const lines = [
    `${familyLabel(usage)} network:`.padEnd(LABEL_WIDTH + 2) + formatCidr(plan.network),
    labelled('SubnetLen', String(plan.subnetLen)),
    labelled('Range', `${bounds.min} - ${bounds.max}${emptyRange}`),
    labelled('Capacity', totals.capacity.toString()),
    labelled('Used', `${totals.used}${totals.blocked > 0n ? '' : percent}`),
    labelled('Reserved', totals.reserved.toString()),
  ];
  if (leaseStatuses) {
    lines.push(labelled('Expired', `${totals.deadLeases} (expired or missing leases, still held)`));
  }
  if (totals.blocked > 0n) {
    lines.push(
      labelled('Blocked', `${totals.blocked} (overlapped by keys outside the allocatable range)`),
      labelled('Taken', `${totals.used + totals.blocked}${percent}, used and blocked`),
    );
  }
  lines.push(labelled('Free', totals.free.toString()));
  if (layout.outsideRange > 0) {
    const keys = layout.outsideRange === 1 ? '1 key' : `${layout.outsideRange} keys`;
    lines.push(labelled('Outside', `${keys} outside the allocatable range (not counted)`));
  }
  if (layout.withoutSubnet > 0) {
    const keys = layout.withoutSubnet === 1 ? '1 key' : `${layout.withoutSubnet} keys`;
    lines.push(
      labelled(`No ${familyLabel(usage)}`, `${keys} without an ${familyLabel(usage)} subnet`),
    );
  }

  lines.push(labelled('Free ranges', free.total.toString()));
  for (const block of free.blocks.slice(0, TEXT_FREE_RANGE_LIMIT)) {
    lines.push(`    ${formatCidr(block)}`);
  }
  const hidden = free.total - BigInt(Math.min(free.blocks.length, TEXT_FREE_RANGE_LIMIT));
  if (hidden > 0n) {
    lines.push(`    ... and ${hidden} more (--json lists up to ${JSON_FREE_RANGE_LIMIT})`);
  }

  if (usage.map) lines.push(...mapText(usage, usage.map, style));
  return lines;
}

function mapText(usage: FamilyUsage, rows: readonly MapRow[], style: Style): string[] {
  const { plan } = usage.layout;
  const legend = (Object.keys(CELL_CHARS) as MapCell[])
    .map((cell) => `${paintFor(cell, style)(CELL_CHARS[cell])} ${CELL_MEANINGS[cell]}`)
    .join('  ');
  const lines = [
    labelled('Map', `one cell per /${plan.subnetLen}, ${MAP_CELLS_PER_ROW} to a row`),
    `    ${legend}`,
  ];

  const labels = rows.map((row) => formatCidr(row.first));
  const width = Math.max(0, ...labels.map((label) => label.length));
  rows.forEach((row, index) => {
    lines.push(`    ${labels[index].padEnd(width)}  ${cellsText(row.cells, style)}`);
  });
  return lines;
}

function cellsText(cells: readonly MapCell[], style: Style): string {
  const groups: string[] = [];
  for (let start = 0; start < cells.length; start += CELL_GROUP) {
    groups.push(paintedRuns(cells.slice(start, start + CELL_GROUP), style));
  }

  return groups.join(' ');
}

// One escape sequence per run of equal cells, not per cell.
function paintedRuns(cells: readonly MapCell[], style: Style): string {
  let text = '';
  let start = 0;
  while (start < cells.length) {
    let end = start;
    while (end < cells.length && cells[end] === cells[start]) end += 1;
    text += paintFor(cells[start], style)(CELL_CHARS[cells[start]].repeat(end - start));
    start = end;
  }

  return text;
}

function paintFor(cell: MapCell, style: Style): (text: string) => string {
  const paints: Record<MapCell, (text: string) => string> = {
    free: (text) => text,
    lease: style.green,
    reservation: style.cyan,
    'dead-lease': style.red,
    blocked: style.yellow,
    outside: style.dim,
  };
  return paints[cell];
}

/** Lines for stderr: each key flannel skips, then capacity warnings per family. */
export function usageNotes(report: UsageReport): string[] {
  const notes = report.problems.map(
    (problem) => `problem: ${printable(problem.key)}: ${printable(problem.reason)}`,
  );
  const dualStack = report.families.length > 1;
  for (const usage of report.families) notes.push(...capacityWarnings(usage, dualStack));
  return notes;
}

function capacityWarnings(usage: FamilyUsage, dualStack: boolean): string[] {
  const { totals } = usage;
  const where = `${familyLabel(usage)} ${formatCidr(usage.layout.plan.network)}`;
  // A capacity of 0 is a config problem, reported as the command's error.
  if (totals.capacity === 0n) return [];

  if (totals.free === 0n) {
    const blocked = totals.blocked > 0n ? `, ${totals.blocked} blocked` : '';
    const both = dualStack ? ' (flanneld needs a free subnet in each family)' : '';
    return [
      `warning: ${where}: no free subnet (${totals.used} of ${totals.capacity} used${blocked}): ` +
        `the next node without a lease fails with "out of subnets"${both}`,
    ];
  }

  if (totals.percentUsed !== undefined && totals.percentUsed > HIGH_USAGE_PERCENT) {
    return [
      `warning: ${where}: ${totals.percentUsed}% of ${totals.capacity} subnets taken, ` +
        `${totals.free} free`,
    ];
  }

  return [];
}
