// Output of the changing commands: what each subnet got, and how to undo it. Pure.
import type { KeySnapshot, PlannedChange } from '../../domain/change-plan.js';
import { formatDuration } from '../../domain/duration.js';
import { parseLeaseValue } from '../../domain/lease-attrs.js';
import type { JournalEntry } from '../../journal/journal.js';
import type { ChangeResult, Revocation } from '../../registry/apply.js';
import { renderColumns } from '../columns.js';
import { printable } from '../printable.js';

const PAST_TENSE: Record<PlannedChange['action'], string> = {
  reserve: 'reserved',
  unreserve: 'unreserved',
  release: 'released',
  create: 'reserved',
  restore: 'restored',
  record: 'recorded',
  reapply: 'reapplied',
};

function leaseText(state: KeySnapshot): string {
  if (!state.exists) return 'no key';
  if (state.leaseId === null) return 'no etcd lease';
  return `lease ${state.leaseId}${ttlNote(state.ttlSeconds)}`;
}

// etcd answers -1 for a lease it no longer knows and other negatives for an expired one.
function ttlNote(ttl: number | null): string {
  if (ttl === null) return '';
  if (ttl === -1) return ', which etcd no longer knows';
  if (ttl <= 0) return ', expired';
  return `, ${formatDuration(ttl)} left`;
}

/** What a plan would do, in words, for --dry-run. */
export function planText(plan: PlannedChange): string {
  return printable(describePlan(plan));
}

function describePlan(plan: PlannedChange): string {
  const { verdict } = plan;
  if (verdict.kind === 'unchanged') return `${plan.subnet}: ${verdict.reason}; nothing to do`;
  if (verdict.kind === 'refused') return `${plan.subnet}: refused: ${verdict.reason}`;

  const { outcome } = verdict;
  const now = `now ${leaseText(plan.before)}`;
  const change =
    outcome.kind === 'delete'
      ? `delete ${plan.key} (${now})`
      : outcome.kind === 'record'
        ? `leave ${plan.key} as it is (${now})`
        : outcome.lease === 'new'
          ? `put ${plan.key} under a new etcd lease of ${formatDuration(verdict.newLeaseTtlSeconds ?? 0)} (${now})`
          : `put ${plan.key} with no etcd lease (${now})`;
  const record = plan.record ? `; ${recordText(plan.record)}` : '';
  const revoke = plan.leaseToRevoke
    ? `; then revoke lease ${plan.leaseToRevoke} if no other key uses it`
    : '';
  return `would ${plan.action} ${plan.subnet}: ${change}${record}${revoke}`;
}

function recordText(record: NonNullable<PlannedChange['record']>): string {
  return 'put' in record
    ? `record the reservation at ${record.put.key}`
    : `delete its reservation record ${record.delete.key}`;
}

/** Lines for stdout: the result and, for a change, how to undo it. */
/**
 * Lines for stdout: the result and, for a change, how to undo it. `context` holds the flags
 * the undo command needs to reach the same cluster, prefix and journal (e.g. `--prefix /x`).
 */
export function resultLines(result: ChangeResult, bin: string, context = ''): string[] {
  return describeResult(result, bin, context).map(printable);
}

function describeResult(result: ChangeResult, bin: string, context: string): string[] {
  const { plan } = result;
  if (result.status === 'planned') return [planText(plan)];
  if (result.status === 'unchanged' && plan.verdict.kind === 'unchanged') {
    return [`${plan.subnet}: ${plan.verdict.reason}; nothing to do`];
  }

  if (result.status !== 'changed' || !result.after) return [];

  if (plan.verdict.kind === 'change' && plan.verdict.outcome.kind === 'record' && plan.record) {
    return recordOnlyLines(plan, result.after, bin, context);
  }

  const lines = [
    `${PAST_TENSE[plan.action]} ${plan.subnet}${holderOf(plan, result.after)}: ${plan.key} ` +
      `${result.after.exists ? `now has ${leaseText(result.after)}` : 'deleted'} ` +
      `(was ${leaseText(plan.before)})`,
  ];
  if (plan.record) lines.push(`  ${pastRecordText(plan.record)}`);
  const revocation = result.revocation;
  if (revocation) {
    lines.push(`  ${revocationText(revocation)}`);
  }

  if (result.journalFailure) {
    lines.push(
      `  the journal could not record the result (${result.journalFailure}); the change is made`,
    );
  }

  lines.push(`  undo: ${undoCommand(result, bin, context)}`);
  return lines;
}

/** A change that wrote only the reservation record: the key itself is as it was. */
function recordOnlyLines(
  plan: PlannedChange,
  after: KeySnapshot,
  bin: string,
  context: string,
): string[] {
  const record = plan.record as NonNullable<PlannedChange['record']>;
  // The undo acts where this change did: etcdctl takes the same endpoints.
  const endpoints = /--endpoints (\S+)/.exec(context)?.[1];
  const etcdctl = endpoints ? `etcdctl --endpoints=${endpoints}` : 'etcdctl';
  if ('put' in record) {
    return [
      `recorded the reservation ${plan.subnet}${holderOf(plan, after)} at ${record.put.key}; ` +
        `${plan.key} is unchanged`,
      `  undo: ${etcdctl} del ${record.put.key}`,
    ];
  }

  const suffix = context === '' ? '' : ` ${context}`;
  return [
    `deleted the reservation record ${record.delete.key} of ${plan.subnet}` +
      `${holderOf(plan, after)}; ${plan.key} keeps ${leaseText(after)}`,
    `  undo: ${bin} reserve ${plan.subnet}${suffix}   (records it again, and detaches its lease)`,
  ];
}

function pastRecordText(record: NonNullable<PlannedChange['record']>): string {
  return 'put' in record
    ? `recorded the reservation at ${record.put.key}`
    : `deleted its reservation record ${record.delete.key} (if there was one)`;
}

function revocationText(revocation: Revocation): string {
  if (revocation.failure) {
    return (
      `could not revoke lease ${revocation.leaseId} (${revocation.failure}); ` +
      'it expires on its own'
    );
  }

  if (revocation.revoked) return `revoked lease ${revocation.leaseId}: no other key used it`;
  if (revocation.keptFor.length > 0) {
    return `kept lease ${revocation.leaseId}: still used by ${revocation.keptFor.join(', ')}`;
  }

  return `lease ${revocation.leaseId} was gone already`;
}

/** ` (192.0.2.1)`: the host the key belongs to, as its value says. */
function holderOf(plan: PlannedChange, after: KeySnapshot): string {
  // What the key holds afterwards names the host best (a restore may put another host back).
  const value = after.exists ? after.value : plan.before.value;
  const parsed = value === null ? undefined : parseLeaseValue(value);
  return parsed?.ok ? ` (${parsed.attrs.publicIP})` : '';
}

function undoCommand(result: ChangeResult, bin: string, context: string): string {
  const suffix = context === '' ? '' : ` ${context}`;
  const restore = `${bin} restore --entry ${result.journalId}${suffix}`;
  // A key flannel cannot parse has no subnet to type: name the key itself.
  const { subnet, key } = result.plan;
  const named = subnet.includes('/') && !subnet.startsWith('/') ? subnet : key;
  switch (result.plan.action) {
    case 'reserve':
      return `${bin} unreserve ${named}${suffix}   (or ${restore})`;
    case 'unreserve':
      return `${bin} reserve ${named}${suffix}   (or ${restore})`;
    default:
      return restore;
  }
}

export function resultsDocument(
  results: readonly ChangeResult[],
  dryRun: boolean,
  journal: string | null,
): string {
  return JSON.stringify({ dryRun, journal, results: results.map(resultJson) });
}

/** One subnet's result as the JSON documents and NDJSON lines carry it. */
export function resultJson(result: ChangeResult) {
  return {
    subnet: result.plan.subnet,
    key: result.plan.key,
    action: result.plan.action,
    ok: result.status !== 'failed',
    status: result.status,
    before: result.plan.before,
    after: result.after ?? null,
    plan: result.status === 'planned' ? planText(result.plan) : null,
    journalId: result.journalId ?? null,
    journalError: result.journalFailure ?? null,
    revokedLease: result.revocation ?? null,
    error: result.error
      ? {
          kind: result.error.kind,
          exitCode: result.error.exitCode,
          message: result.error.message,
        }
      : null,
  };
}

export function journalListing(entries: readonly JournalEntry[], json: boolean): string {
  const status = (entry: JournalEntry) => (entry.applied ? 'applied' : 'unconfirmed');
  if (json) {
    const listed = entries.map((entry) => ({
      id: entry.intent.id,
      time: entry.intent.time,
      user: entry.intent.user,
      host: entry.intent.host,
      command: entry.intent.command,
      prefix: entry.intent.prefix,
      action: entry.intent.action,
      subnet: entry.intent.subnet,
      key: entry.intent.key,
      status: status(entry),
      before: entry.intent.before,
      after: entry.applied?.after ?? null,
      revision: entry.applied?.revision ?? null,
    }));
    return `${JSON.stringify({ entries: listed })}\n`;
  }

  const rows = entries.map((entry) => [
    entry.intent.id,
    entry.intent.time,
    entry.intent.action,
    entry.intent.subnet,
    status(entry),
    `${entry.intent.user}@${entry.intent.host}`,
  ]);
  return renderColumns(['ENTRY', 'TIME', 'ACTION', 'SUBNET', 'STATUS', 'BY'], rows);
}
