// Rows and the JSON document for `leases ls` / `leases show`. Pure: no I/O, no flags.
import { formatCidr } from '../../domain/cidr.js';
import { formatDuration, formatRelative } from '../../domain/duration.js';
import type { LeaseEntry, SubnetProblem } from '../../domain/lease-entry.js';
import type { Cell, Row } from '../columns.js';
import type { Style } from '../style.js';

export const TABLE_HEADERS = ['SUBNET', 'PUBLIC IP', 'BACKEND', 'TYPE', 'TTL', 'EXPIRES', 'NOTES'];
export const WIDE_HEADERS = [
  'SUBNET',
  'IPV6 SUBNET',
  'PUBLIC IP',
  'BACKEND',
  'TYPE',
  'TTL',
  'EXPIRES',
  'VTEP MAC',
  'LEASE ID',
  'GRANTED TTL',
  'MOD REV',
  'NOTES',
];

/**
 * Remaining time at `nowMs`, so it agrees with EXPIRES; in a large network the TTL answers
 * arrive over seconds and are already that old when the table is printed.
 */
export function ttlText(entry: LeaseEntry, nowMs: number): string {
  switch (entry.status) {
    case 'reservation':
      return '-';
    case 'lease-missing':
      return 'missing';
    case 'expired':
      return 'expired';
    default:
      return formatDuration(secondsUntil(entry.expiresAtMs ?? nowMs, nowMs));
  }
}

function secondsUntil(epochMs: number, nowMs: number): number {
  return Math.round((epochMs - nowMs) / 1000);
}

export function expiresText(entry: LeaseEntry, nowMs: number): string {
  if (entry.status === 'reservation') return 'never';
  if (entry.expiresAtMs === null) return '-';
  return formatRelative(secondsUntil(entry.expiresAtMs, nowMs));
}

/** Short markers for what needs an operator's eye; the full reasons are in `leases show`. */
export function notesFor(entry: LeaseEntry): string[] {
  const notes: string[] = [];
  if (entry.status === 'renewal-overdue') notes.push('renewal overdue');
  if (entry.status === 'expired') notes.push('expired but key kept');
  if (entry.status === 'lease-missing') notes.push('lease missing');
  notes.push(...misfitNotes(entry));
  return notes;
}

function misfitNotes(entry: LeaseEntry): string[] {
  return entry.misfits.length > 0 ? ['incompatible with config'] : [];
}

/** What TTL and EXPIRES show for a lease under `leases ls --no-ttl`: its TTL was not asked. */
export const UNREAD_TTL_TEXT = '?';

/** `ttlsRead` false (`leases ls --no-ttl`): a lease's TTL, expiry and status are unknown. */
export function leaseRow(
  entry: LeaseEntry,
  nowMs: number,
  style: Style,
  wide: boolean,
  ttlsRead = true,
): Row {
  const unread = !ttlsRead && entry.type === 'lease';
  const ttlCell: Cell = unread
    ? { text: UNREAD_TTL_TEXT }
    : { text: ttlText(entry, nowMs), paint: statusPaint(entry, style) };
  // Without TTLs every lease reads as 'lease-missing' in the domain; that note would be false.
  const notes = (unread ? misfitNotes(entry) : notesFor(entry)).join(', ');
  const narrow: Array<Cell | string> = [
    formatCidr(entry.subnet.ipv4),
    entry.attrs.publicIP,
    entry.attrs.backendType ?? '-',
    { text: entry.type, paint: entry.type === 'reservation' ? style.cyan : undefined },
    ttlCell,
    unread ? UNREAD_TTL_TEXT : expiresText(entry, nowMs),
  ];
  const notesCell: Cell = { text: notes, paint: style.yellow };
  if (!wide) return [...narrow, notesCell];

  return [
    narrow[0],
    entry.subnet.ipv6 ? formatCidr(entry.subnet.ipv6) : '',
    ...narrow.slice(1),
    entry.attrs.vtepMac ?? '',
    entry.leaseId ?? '-',
    entry.grantedTtlSeconds === null ? '-' : formatDuration(entry.grantedTtlSeconds),
    String(entry.modRevision),
    notesCell,
  ];
}

function statusPaint(entry: LeaseEntry, style: Style): ((text: string) => string) | undefined {
  if (entry.status === 'renewal-overdue') return style.yellow;
  if (entry.status === 'expired' || entry.status === 'lease-missing') return style.red;
  return undefined;
}

/** One lease in the documented `--json` shape. */
export function leaseJson(entry: LeaseEntry) {
  return {
    key: entry.key,
    subnet: formatCidr(entry.subnet.ipv4),
    ipv6Subnet: entry.subnet.ipv6 ? formatCidr(entry.subnet.ipv6) : null,
    publicIP: entry.attrs.publicIP,
    publicIPv6: entry.attrs.publicIPv6,
    backendType: entry.attrs.backendType,
    backendData: entry.attrs.backendData,
    type: entry.type,
    status: entry.status,
    leaseId: entry.leaseId,
    ttlSeconds: entry.ttlSeconds,
    grantedTtlSeconds: entry.grantedTtlSeconds,
    expiresAt: entry.expiresAtMs === null ? null : new Date(entry.expiresAtMs).toISOString(),
    createRevision: entry.createRevision,
    modRevision: entry.modRevision,
    configMisfits: entry.misfits,
  };
}

/** A lease's status under `leases ls --no-ttl`, where its TTL was not asked. */
export const UNREAD_STATUS = 'unknown';

/**
 * `ttlsRead` false (`leases ls --no-ttl`) adds `ttlsSkipped: true` and gives every lease (not
 * reservation) the status 'unknown'; its TTL fields are null already.
 */
export function leasesDocument(
  prefix: string,
  revision: number,
  entries: readonly LeaseEntry[],
  problems: readonly SubnetProblem[],
  ttlsRead = true,
): string {
  return [...leasesDocumentChunks(prefix, revision, entries, problems, ttlsRead)].join('');
}

// 65,536 leases are ~28 MB of JSON: written in pieces, the document is never one string.
const LEASES_PER_CHUNK = 1000;

/** The text of leasesDocument in pieces; joined, they are the same bytes. */
export function* leasesDocumentChunks(
  prefix: string,
  revision: number,
  entries: readonly LeaseEntry[],
  problems: readonly SubnetProblem[],
  ttlsRead = true,
): Generator<string> {
  const head = { prefix: JSON.stringify(prefix), revision: JSON.stringify(revision) };
  const skipped = ttlsRead ? '' : '"ttlsSkipped":true,';
  let chunk = `{"prefix":${head.prefix},"revision":${head.revision},${skipped}"leases":[`;
  for (let index = 0; index < entries.length; index++) {
    const lease = leaseJson(entries[index]);
    const shown = ttlsRead ? lease : withUnreadStatus(lease);
    chunk += `${index === 0 ? '' : ','}${JSON.stringify(shown)}`;
    if ((index + 1) % LEASES_PER_CHUNK === 0) {
      yield chunk;
      chunk = '';
    }
  }

  const problemList = problems.map((problem) => ({ key: problem.key, reason: problem.reason }));
  yield `${chunk}],"problems":${JSON.stringify(problemList)}}`;
}

function withUnreadStatus(lease: ReturnType<typeof leaseJson>) {
  return lease.type === 'lease' ? { ...lease, status: UNREAD_STATUS } : lease;
}
