// What `doctor` reports, and what its checks share. Pure.
import { formatCidr } from '../cidr.js';
import { formatDuration } from '../duration.js';
import type { LeaseEntry, SubnetProblem } from '../lease-entry.js';
import type { ConfigProblem, NetworkConfig } from '../network-config.js';
import type { ReservationRecord } from '../reservation-record.js';

export type FindingSeverity = 'error' | 'warning' | 'info';

export const FINDING_CODES = [
  'config-missing',
  'config-invalid',
  'config-api-mismatch',
  'malformed-key',
  'malformed-value',
  'misaligned',
  'outside-network',
  'outside-range',
  'wrong-subnet-len',
  'missing-ipv6',
  'overlap',
  'duplicate-public-ip',
  'duplicate-vtep-mac',
  'lease-overdue',
  'lease-expired',
  'lease-missing',
  'shared-lease',
  'keyless-lease',
  'capacity',
  'reservation-unrecorded',
  'reservation-drift',
  'subnet-env',
] as const;

export type FindingCode = (typeof FINDING_CODES)[number];

export interface Finding {
  readonly severity: FindingSeverity;
  readonly code: FindingCode;
  /** What the finding is about: a key, subnet, address or the config key. */
  readonly subject: string;
  readonly message: string;
  /** A command that fixes it; null where no command can (the operator must decide). */
  readonly fix: string | null;
}

/** A key near the config's path that may hold a misplaced config (`<prefix>` itself, ...). */
export interface StoredText {
  readonly key: string;
  readonly value: string;
}

export interface LeaseRecordState {
  readonly id: string;
  readonly grantedTtl: number;
  readonly keys: number;
}

export interface DoctorInput {
  readonly prefix: string;
  readonly configKey: string;
  /** The config's stored text; undefined when the key is missing. */
  readonly configText?: string;
  readonly config?: NetworkConfig;
  readonly configProblems: readonly ConfigProblem[];
  /** What the v2 store holds at the config key, when asked to look (`--v2`). */
  readonly v2Config?: { readonly enabled: boolean; readonly text?: string };
  readonly nearMissKeys: readonly StoredText[];
  /** Other prefixes that have a `config` key, for when this one is empty. */
  readonly otherPrefixes: readonly string[];
  readonly entries: readonly LeaseEntry[];
  readonly problems: readonly SubnetProblem[];
  /** Leases no subnet key uses; undefined when the server cannot list leases. */
  readonly keylessLeases?: readonly LeaseRecordState[];
  readonly records: ReadonlyMap<string, ReservationRecord>;
  /** Records that could not be read, by record key. */
  readonly badRecords: ReadonlyMap<string, string>;
  readonly renewMarginSeconds: number;
  readonly capacityWarnPercent: number;
  readonly nowMs: number;
  /**
   * How fixes start, with the flags that reach this cluster and prefix (`flanctl --prefix /x`),
   * so a pasted fix acts where doctor looked; plain `flanctl` and `etcdctl` when absent.
   */
  readonly commands?: Commands;
  /** Where the record of a subnet key lives, for the command that deletes a stale one. */
  readonly recordKeyOf?: (subnetKey: string) => string;
}

export interface Commands {
  readonly flanctl: string;
  /** flanctl with the cluster's flags but no --prefix, for a fix that names another prefix. */
  readonly flanctlOnCluster: string;
  readonly etcdctl: string;
}

export const PLAIN_COMMANDS: Commands = {
  flanctl: 'flanctl',
  flanctlOnCluster: 'flanctl',
  etcdctl: 'etcdctl',
};

export const OTHER_PREFIXES_NAMED = 5;

/** flannel's subnetTTL: a keyless lease granted for this long is most likely flanneld's. */
export const FLANNEL_GRANTED_TTL = 86_400;

export function finding(
  severity: FindingSeverity,
  code: FindingCode,
  subject: string,
  message: string,
  fix: string | null = null,
): Finding {
  return { severity, code, subject, message, fix };
}

export function describeHolder(entry: LeaseEntry): string {
  return `${entry.type} of ${entry.attrs.publicIP}`;
}

export function groupBy<T>(
  items: readonly T[],
  keyOf: (item: T) => string | null,
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === null) continue;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }

  return groups;
}

export function remainingText(entry: LeaseEntry, nowMs: number): string {
  if (entry.type === 'reservation') return 'reservation';
  if (entry.status === 'lease-missing') return 'lease missing';
  if (entry.status === 'expired') return 'expired';
  const seconds = Math.round(((entry.expiresAtMs ?? nowMs) - nowMs) / 1000);
  return `${formatDuration(seconds)} left`;
}

/** `release`, with the --force it needs for a reservation or a lease still being renewed. */
export function releaseCommand(entry: LeaseEntry, cli: Commands): string {
  const force = entry.status === 'reservation' || entry.status === 'active' ? ' --force' : '';
  return `${cli.flanctl} release ${formatCidr(entry.subnet.ipv4)}${force}`;
}

/** A word a POSIX shell reads back as `text`: single-quoted when it has anything special. */
export function shellWord(text: string): string {
  return /^[\w./:,=@%+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

// ---- summary --------------------------------------------------------------------------

export interface FindingCounts {
  readonly errors: number;
  readonly warnings: number;
  readonly infos: number;
}

export function countFindings(findings: readonly Finding[]): FindingCounts {
  const count = (severity: FindingSeverity) =>
    findings.filter((item) => item.severity === severity).length;
  return { errors: count('error'), warnings: count('warning'), infos: count('info') };
}

/** Codes as typed for --only/--skip; the unknown ones are returned for the usage error. */
export function parseCodeList(text: string): { codes: FindingCode[]; unknown: string[] } {
  const words = text
    .split(',')
    .map((word) => word.trim())
    .filter((word) => word !== '');
  const known = new Set<string>(FINDING_CODES);
  return {
    codes: words.filter((word): word is FindingCode => known.has(word)),
    unknown: words.filter((word) => !known.has(word)),
  };
}
