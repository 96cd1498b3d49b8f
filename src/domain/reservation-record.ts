// What `reserve` records beside flannel's data so a reservation can be guarded: flanneld with
// etcd v3 re-attaches a lease to a reserved key (flannel#1329), and the key alone cannot tell a
// reservation that was re-leased from a lease that never was a reservation.
import { isJsonObject, parseJson } from './go-json.js';

/** Where records live unless configured: outside every flannel prefix, never under subnets/. */
export const DEFAULT_RECORDS_PREFIX = '/flanctl/reservations';

export interface ReservationRecord {
  /** The subnet key's full path. */
  readonly key: string;
  /** The value the key held when reserved (flannel's LeaseAttrs JSON). */
  readonly value: string;
  readonly publicIP: string | null;
  readonly reservedAt: string;
}

const RECORD_VERSION = 1;

/**
 * The record's key for one subnet key: the records prefix, then the flannel prefix, then the
 * subnet key's name, so two networks in one etcd never share a record.
 */
export function recordKey(recordsPrefix: string, flannelPrefix: string, keyName: string): string {
  return `${recordsPrefix}${flannelPrefix}/${keyName}`;
}

/** The directory that holds one network's records (ends in `/`). */
export function recordsDir(recordsPrefix: string, flannelPrefix: string): string {
  return `${recordsPrefix}${flannelPrefix}/`;
}

export function formatRecord(record: ReservationRecord): string {
  return JSON.stringify({ version: RECORD_VERSION, ...record });
}

export type ParsedRecord = { ok: true; record: ReservationRecord } | { ok: false; reason: string };

export function parseRecord(text: string): ParsedRecord {
  const parsed = parseJson(text);
  if (!parsed.ok || !isJsonObject(parsed.value)) {
    return { ok: false, reason: 'not a flanctl reservation record (JSON object expected)' };
  }

  const { version, key, value, publicIP, reservedAt } = parsed.value;
  if (version !== RECORD_VERSION) {
    return { ok: false, reason: `record version ${JSON.stringify(version)}; expected 1` };
  }

  if (typeof key !== 'string' || typeof value !== 'string' || typeof reservedAt !== 'string') {
    return { ok: false, reason: 'record lacks key, value or reservedAt' };
  }

  return {
    ok: true,
    record: { key, value, publicIP: typeof publicIP === 'string' ? publicIP : null, reservedAt },
  };
}

/** A records prefix as typed: absolute, no trailing slash, nothing under a flannel subnets dir. */
export function checkRecordsPrefix(
  text: string,
): { ok: true; prefix: string } | { ok: false; reason: string } {
  const prefix = text.replace(/\/+$/, '');
  if (!prefix.startsWith('/') || prefix === '') {
    return {
      ok: false,
      reason: `${JSON.stringify(text)} is not an absolute key prefix such as ${DEFAULT_RECORDS_PREFIX}`,
    };
  }

  // flanneld lists and watches `<prefix>/subnets` as a plain string prefix, so even
  // `/x/subnets-records` would be read as leases.
  if (prefix.includes('/subnets')) {
    return {
      ok: false,
      reason: `${text} contains "/subnets", which flannel reads as a subnets directory`,
    };
  }

  return { ok: true, prefix };
}
