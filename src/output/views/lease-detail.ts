// `leases show` output: a labelled block per lease, or one JSON document. Pure.
import { formatCidr } from '../../domain/cidr.js';
import { formatDuration } from '../../domain/duration.js';
import type { LookupResult } from '../../registry/lookup.js';
import type { LeaseDetail } from '../../registry/lookup.js';
import { printable } from '../printable.js';
import { expiresText, leaseJson, ttlText } from './leases.js';

export function detailDocument(prefix: string, result: LookupResult): string {
  return JSON.stringify({
    prefix,
    revision: result.revision,
    leases: result.details.map((detail) => ({
      ...leaseJson(detail.entry),
      version: detail.entry.version,
      sharedLeaseKeys: detail.sharedWith,
      fitsConfig: fitsConfig(detail, result),
    })),
    problems: result.problems.map((problem) => ({ key: problem.key, reason: problem.reason })),
  });
}

/** true / false, or null when there is no usable config to judge by. */
function fitsConfig(detail: LeaseDetail, result: LookupResult): boolean | null {
  if (!result.config.config || result.config.problems.length > 0) return null;
  return detail.entry.misfits.length === 0;
}

export function detailText(result: LookupResult, nowMs: number): string {
  return result.details.map((detail) => detailBlock(detail, result, nowMs)).join('\n');
}

function detailBlock(detail: LeaseDetail, result: LookupResult, nowMs: number): string {
  const { entry } = detail;
  const fits = fitsConfig(detail, result);
  const lines: Array<[string, string]> = [
    ['Key', entry.key],
    ['Subnet', formatCidr(entry.subnet.ipv4)],
    ['IPv6 subnet', entry.subnet.ipv6 ? formatCidr(entry.subnet.ipv6) : '-'],
    ['Public IP', entry.attrs.publicIP],
    ['Public IPv6', entry.attrs.publicIPv6 ?? '-'],
    ['Backend', entry.attrs.backendType ?? '-'],
    ['Backend data', json(entry.attrs.backendData)],
    ['Backend v6 data', json(entry.attrs.backendV6Data)],
    ['Type', entry.type],
    ['Status', entry.status],
    ['Lease ID', entry.leaseId ?? '- (no etcd lease)'],
    ['Granted TTL', seconds(entry.grantedTtlSeconds)],
    ['Remaining TTL', remaining(detail, nowMs)],
    ['Expires', expiry(detail, nowMs)],
    ['Same lease', detail.sharedWith.length === 0 ? 'no other keys' : detail.sharedWith.join(', ')],
    ['Revisions', `create ${entry.createRevision}, mod ${entry.modRevision}`],
    ['Version', String(entry.version)],
    ['Fits config', fits === null ? 'unknown (no valid network config)' : fitsText(detail)],
  ];

  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  return lines
    .map(([label, value]) => `${`${label}:`.padEnd(width)}${printable(value)}\n`)
    .join('');
}

function fitsText(detail: LeaseDetail): string {
  const { misfits } = detail.entry;
  return misfits.length === 0 ? 'yes' : `no: ${misfits.join('; ')}`;
}

function json(value: unknown): string {
  return value === null || value === undefined ? '-' : JSON.stringify(value);
}

function seconds(value: number | null): string {
  return value === null ? '-' : `${formatDuration(value)} (${value}s)`;
}

function remaining(detail: LeaseDetail, nowMs: number): string {
  const { entry } = detail;
  if (entry.status === 'active' || entry.status === 'renewal-overdue') {
    return seconds(entry.ttlSeconds);
  }

  if (entry.status === 'lease-missing') return 'missing (etcd no longer knows this lease)';
  const text = ttlText(entry, nowMs);
  return entry.ttlSeconds === null ? text : `${text} (${entry.ttlSeconds}s)`;
}

function expiry(detail: LeaseDetail, nowMs: number): string {
  const { entry } = detail;
  if (entry.expiresAtMs === null) return expiresText(entry, nowMs);
  return `${new Date(entry.expiresAtMs).toISOString()} (${expiresText(entry, nowMs)})`;
}
