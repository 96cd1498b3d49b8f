// flanctl's reservation records: read them, and attach the record write that goes with a change
// to the change's own transaction, so a reservation and its record never disagree.
import type { PlannedChange } from '../domain/change-plan.js';
import { parseLeaseValue } from '../domain/lease-attrs.js';
import {
  type ReservationRecord,
  formatRecord,
  parseRecord,
  recordKey,
  recordsDir,
} from '../domain/reservation-record.js';
import type { RegistryBackend } from './backend.js';

export interface Records {
  readonly recordsPrefix: string;
  readonly flannelPrefix: string;
  /** Readable records by the subnet key they guard. */
  readonly byKey: Map<string, ReservationRecord>;
  /** Record keys whose value could not be read, with the reason. */
  readonly unreadable: Map<string, string>;
}

export async function readRecords(
  backend: RegistryBackend,
  recordsPrefix: string,
  flannelPrefix: string,
): Promise<Records> {
  const listing = await backend.listSubnets(recordsDir(recordsPrefix, flannelPrefix));
  const byKey = new Map<string, ReservationRecord>();
  const unreadable = new Map<string, string>();
  for (const stored of listing.subnets) {
    // A nested network's records (`/a/b` under `/a`) are its own, not this network's.
    if (stored.name.includes('/')) continue;

    const parsed = parseRecord(stored.value);
    if (parsed.ok) byKey.set(parsed.record.key, parsed.record);
    else unreadable.set(stored.key, parsed.reason);
  }

  return { recordsPrefix, flannelPrefix, byKey, unreadable };
}

/** Reads one key's record again, after a lost race: the winner may have written it. */
export async function refreshRecord(
  backend: RegistryBackend,
  records: Records,
  subnetKey: string,
): Promise<void> {
  const stored = await backend.readValue(recordKeyFor(records, subnetKey));
  const parsed = stored ? parseRecord(stored.value) : undefined;
  if (parsed?.ok) records.byKey.set(subnetKey, parsed.record);
  else records.byKey.delete(subnetKey);
}

export function recordKeyFor(records: Records, subnetKey: string): string {
  const name = subnetKey.slice(subnetKey.lastIndexOf('/') + 1);
  return recordKey(records.recordsPrefix, records.flannelPrefix, name);
}

/**
 * The plan with its record write: a new reservation is recorded; a key that stops being a
 * reservation (unreserve, release) loses its record, when it has one.
 */
export function withRecord(plan: PlannedChange, records: Records, nowIso: string): PlannedChange {
  const { verdict } = plan;
  if (verdict.kind !== 'change') return plan;

  const key = recordKeyFor(records, plan.key);
  const { outcome } = verdict;
  const reserves =
    ['reserve', 'create', 'record'].includes(plan.action) &&
    (outcome.kind === 'record' || (outcome.kind === 'put' && outcome.lease === 'none'));
  if (reserves) {
    const value = outcome.kind === 'put' ? outcome.value : (plan.before.value ?? '');
    const attrs = parseLeaseValue(value);
    const record = formatRecord({
      key: plan.key,
      value,
      publicIP: attrs.ok ? attrs.attrs.publicIP : null,
      reservedAt: nowIso,
    });
    return { ...plan, record: { put: { key, value: record } } };
  }

  const unreserves = plan.action === 'unreserve' || plan.action === 'release';
  if (unreserves && records.byKey.has(plan.key)) return { ...plan, record: { delete: { key } } };
  return plan;
}
