// `leases ls --watch` output after the first table: one line per change (a fixed-width line, or
// one NDJSON object), and the notes for stderr. Pure.
import { formatCidr } from '../../domain/cidr.js';
import type { ChangeLabel } from '../../domain/lease-change.js';
import type { LeaseEntry, SubnetProblem } from '../../domain/lease-entry.js';
import { formatDuration } from '../../domain/duration.js';
import type { OutputFormat } from '../../flags.js';
import type { LeaseChange, WatchNote } from '../../registry/lease-watch.js';
import type { NetworkState } from '../../registry/network.js';
import { printable } from '../printable.js';
import type { Style } from '../style.js';
import { type ListOptions, type Rendered, renderLeaseList } from './lease-list.js';
import { leaseJson, notesFor, ttlText } from './leases.js';

export interface WatchLineOptions {
  readonly format: OutputFormat;
  readonly style: Style;
}

// Widest label ("unreserved"), IPv4 CIDR ("255.255.255.255/32"), address and Go duration
// ("23h59m59s" for flannel's 24 h leases), so that lines printed one by one line up.
const LABEL_WIDTH = 10;
const SUBNET_WIDTH = 18;
const IP_WIDTH = 15;
const TTL_WIDTH = 9;
const GAP = '   ';

/** The NDJSON objects that stand for the first listing: one per lease shown, then problems. */
export function initialJsonLines(
  revision: number,
  shown: readonly LeaseEntry[],
  problems: readonly SubnetProblem[],
  timeMs: number,
): string {
  const time = new Date(timeMs).toISOString();
  const leases = shown.map((entry) =>
    JSON.stringify({ event: 'initial', time, revision, ...leaseJson(entry), previous: null }),
  );
  const problemLines = problems.map((problem) => problemJson(problem, revision, timeMs));
  return [...leases, ...problemLines].map((line) => `${line}\n`).join('');
}

export function changeText(change: LeaseChange, options: WatchLineOptions): string {
  if (options.format === 'json') {
    const { label, revision, entry, previous } = change;
    const time = new Date(change.timeMs).toISOString();
    const fields = { event: label, time, revision, ...leaseJson(entry) };
    return `${JSON.stringify({ ...fields, previous: previous ? leaseJson(previous) : null })}\n`;
  }

  return `${changeLine(change, options.style, options.format === 'wide')}\n`;
}

function changeLine(change: LeaseChange, style: Style, wide: boolean): string {
  const { entry, label } = change;
  const cells = [
    tableTime(change.timeMs),
    labelPaint(label, style)(label.padEnd(LABEL_WIDTH)),
    formatCidr(entry.subnet.ipv4).padEnd(SUBNET_WIDTH),
    printable(entry.attrs.publicIP).padEnd(IP_WIDTH),
    changeTtl(change).padEnd(TTL_WIDTH),
  ];
  if (wide) {
    cells.push(
      `lease=${entry.leaseId ?? '-'}`,
      `rev=${change.revision}`,
      `backend=${printable(entry.attrs.backendType ?? '-')}`,
    );
  }

  const notes = changeNotes(change, wide);
  if (notes.length > 0) cells.push(style.yellow(printable(notes.join(', '))));
  return cells.join(GAP).trimEnd();
}

function changeTtl(change: LeaseChange): string {
  if (change.label === 'removed') return '-';
  if (change.label === 'expired') return 'expired';
  return ttlText(change.entry, change.timeMs);
}

/** What changed, for `changed` (and the old lease of `renewed` in wide lines). */
function changeNotes(change: LeaseChange, wide: boolean): string[] {
  const { entry, previous, label } = change;
  if (label === 'removed' || label === 'expired') return [];

  const notes: string[] = [];
  if (previous !== undefined && label === 'changed') notes.push(...attrChanges(previous, entry));
  if (previous !== undefined && label === 'renewed' && wide) {
    notes.push(`lease was ${previous.leaseId}`);
  }

  return [...notes, ...notesFor(entry)];
}

function attrChanges(before: LeaseEntry, after: LeaseEntry): string[] {
  const fields: Array<[string, string | null, string | null]> = [
    ['public IP', before.attrs.publicIP, after.attrs.publicIP],
    ['public IPv6', before.attrs.publicIPv6, after.attrs.publicIPv6],
    ['backend', before.attrs.backendType, after.attrs.backendType],
    ['VTEP MAC', before.attrs.vtepMac, after.attrs.vtepMac],
  ];
  const changed = fields
    .filter(([, old, now]) => old !== now)
    .map(([name, old, now]) => `${name} ${old ?? '-'} -> ${now ?? '-'}`);
  if (changed.length > 0) return changed;

  return [before.value === after.value ? 'put again unchanged' : 'value rewritten'];
}

function labelPaint(label: ChangeLabel, style: Style): (text: string) => string {
  switch (label) {
    case 'allocated':
      return style.green;
    case 'reserved':
    case 'unreserved':
      return style.cyan;
    case 'changed':
      return style.yellow;
    case 'removed':
    case 'expired':
      return style.red;
    default:
      return (text) => text;
  }
}

export function resyncText(
  compactRevision: number,
  revision: number,
  timeMs: number,
  options: WatchLineOptions,
): string {
  if (options.format === 'json') {
    const time = new Date(timeMs).toISOString();
    return `${JSON.stringify({ event: 'resync', time, revision, compactRevision })}\n`;
  }

  const label = 'resync'.padEnd(LABEL_WIDTH);
  return (
    `${tableTime(timeMs)}${GAP}${options.style.yellow(label)}${GAP}etcd compacted its history ` +
    `to revision ${compactRevision}; listed again at revision ${revision}\n`
  );
}

/** A key that is not a valid lease: an NDJSON object, or (for tables) a note for stderr. */
export function problemText(
  problem: SubnetProblem,
  revision: number,
  timeMs: number,
  format: OutputFormat,
): { stdout?: string; note?: string } {
  if (format === 'json') return { stdout: `${problemJson(problem, revision, timeMs)}\n` };
  return { note: `problem: ${problem.key}: ${problem.reason}` };
}

function problemJson(problem: SubnetProblem, revision: number, timeMs: number): string {
  const time = new Date(timeMs).toISOString();
  return JSON.stringify({
    event: 'problem',
    time,
    revision,
    key: problem.key,
    reason: problem.reason,
  });
}

/** One line for stderr. */
export function noteText(note: WatchNote, nowMs: number): string {
  switch (note.kind) {
    case 'lost':
      return `etcd connection lost, retrying: ${note.error.message}`;
    case 'still-down': {
      const down = formatDuration((nowMs - note.downSinceMs) / 1000);
      const every = formatDuration(note.retryInMs / 1000);
      return `etcd still unreachable after ${down}, retrying every ${every}: ${note.error.message}`;
    }
    case 'resumed':
      return `resumed at revision ${note.fromRevision}`;
    case 'retrying':
      return `cannot read ${note.what}, retrying in ${note.retryInMs}ms: ${note.error.message}`;
    case 'key-deleted':
      return `${note.key} was deleted at revision ${note.revision} (it held no valid lease)`;
  }
}

/** ISO 8601 in UTC to the second, as etcd and Kubernetes log. */
function tableTime(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * What `leases ls --watch` prints before the first change: the table of `leases ls`, or with
 * `--json` one `initial` object per lease instead of the document. Notes are the same.
 */
export function renderWatchStart(
  state: NetworkState,
  shown: readonly LeaseEntry[],
  options: ListOptions,
): Rendered {
  const rendered = renderLeaseList(state, shown, options);
  if (options.format !== 'json') return rendered;

  const stdout = initialJsonLines(state.revision, shown, state.problems, options.nowMs);
  return { stdout: [stdout], notes: rendered.notes };
}
