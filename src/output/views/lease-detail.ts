// `leases show` output: a labelled block per lease, or one JSON document. Pure.
import { formatCidr } from '../../domain/cidr.js';
import { formatDuration } from '../../domain/duration.js';
import type { BrokenKey, LeaseDetail, LookupResult } from '../../registry/lookup.js';
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
    problems: result.broken.map(({ stored, reason, lease }) => ({
      key: stored.key,
      reason,
      value: stored.value,
      leaseId: stored.leaseId,
      ttlSeconds: lease ? lease.ttl : null,
      createRevision: stored.createRevision,
      modRevision: stored.modRevision,
      version: stored.version,
    })),
  });
}

/** true / false, or null when there is no usable config to judge by. */
function fitsConfig(detail: LeaseDetail, result: LookupResult): boolean | null {
  if (!result.config.config || result.config.problems.length > 0) return null;
  return detail.entry.misfits.length === 0;
}

export function detailText(result: LookupResult, nowMs: number): string {
  const blocks = [
    ...result.details.map((detail) => detailBlock(detail, result, nowMs)),
    ...result.broken.map(brokenBlock),
  ];
  return blocks.join('\n');
}

// What there is to see of a key flannel cannot read: the raw value and its etcd lease.
function brokenBlock(broken: BrokenKey): string {
  const { stored, lease } = broken;
  return labelled([
    ['Key', stored.key],
    ['Value', stored.value],
    ['Problem', broken.reason],
    ['Lease ID', stored.leaseId ?? '- (no etcd lease)'],
    ['Remaining TTL', lease ? `${lease.ttl}s` : '-'],
    ['Revisions', `create ${stored.createRevision}, mod ${stored.modRevision}`],
    ['Version', String(stored.version)],
  ]);
}

function labelled(lines: Array<[string, string]>): string {
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  return lines
    .map(([label, value]) => `${`${label}:`.padEnd(width)}${printable(value)}\n`)
    .join('');
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

  return labelled(lines);
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
