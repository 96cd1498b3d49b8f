// `flanctl doctor`: everything wrong with one flannel network, judged from one read. Pure: the
// command reads etcd, this decides what the state means and what to do about it.
import { type Cidr, blockSize, compareCidr, formatCidr, lastAddress } from './cidr.js';
import { formatDuration } from './duration.js';
import type { LeaseEntry, SubnetProblem } from './lease-entry.js';
import {
  type AddressPlan,
  type ConfigProblem,
  type NetworkConfig,
  describeBounds,
  misfits,
  parseNetworkConfig,
  planCapacity,
} from './network-config.js';
import { holdingsOf, layoutPlan, usageTotals } from './address-usage.js';
import type { ReservationRecord } from './reservation-record.js';
import { parseSubnetKeyName } from './subnet-key.js';

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

const PLAIN_COMMANDS: Commands = {
  flanctl: 'flanctl',
  flanctlOnCluster: 'flanctl',
  etcdctl: 'etcdctl',
};

const OTHER_PREFIXES_NAMED = 5;

/** flannel's subnetTTL: a keyless lease granted for this long is most likely flanneld's. */
const FLANNEL_GRANTED_TTL = 86_400;

export function diagnose(input: DoctorInput): Finding[] {
  const cli = input.commands ?? PLAIN_COMMANDS;
  return [
    ...configFindings(input, cli),
    ...keyFindings(input, cli),
    ...misfitFindings(input),
    ...overlapFindings(input.entries),
    ...publicIpFindings(input, cli),
    ...vtepMacFindings(input.entries, input.nowMs, cli),
    ...leaseFindings(input, cli),
    ...sharedLeaseFindings(input.entries),
    ...keylessFindings(input.keylessLeases),
    ...capacityFindings(input),
    ...reservationFindings(input, cli),
  ];
}

function finding(
  severity: FindingSeverity,
  code: FindingCode,
  subject: string,
  message: string,
  fix: string | null = null,
): Finding {
  return { severity, code, subject, message, fix };
}

// ---- config ---------------------------------------------------------------------------

function configFindings(input: DoctorInput, cli: Commands): Finding[] {
  const found: Finding[] = [];
  if (input.configText === undefined) {
    found.push(missingConfig(input, cli));
  } else {
    for (const problem of input.configProblems) {
      found.push(finding('error', 'config-invalid', input.configKey, problem.message));
    }
  }

  const v2 = input.v2Config;
  if (!v2) return found;

  if (!v2.enabled) {
    found.push(
      finding(
        'info',
        'config-api-mismatch',
        input.configKey,
        'this etcd does not serve the v2 API (--enable-v2 is off), so no v2 data can hide there',
      ),
    );
  } else if (input.configText === undefined && v2.text !== undefined) {
    found.push(
      finding(
        'error',
        'config-api-mismatch',
        input.configKey,
        `the config exists only in etcd's v2 store (${JSON.stringify(v2.text)}); flannel 0.17 ` +
          'and later read the v3 keyspace only and will not find it',
        `ETCDCTL_API=3 ${cli.etcdctl} put ${shellWord(input.configKey)} ${shellWord(v2.text)}`,
      ),
    );
  } else if (
    input.configText !== undefined &&
    v2.text !== undefined &&
    !sameJson(input.configText, v2.text)
  ) {
    found.push(
      finding(
        'warning',
        'config-api-mismatch',
        input.configKey,
        `the v2 store holds another config (${JSON.stringify(v2.text)}) than the v3 keyspace: ` +
          'a flanneld older than 0.17 uses the v2 one, later ones the v3 one',
      ),
    );
  } else if (input.configText !== undefined && v2.text === undefined) {
    found.push(
      finding(
        'warning',
        'config-api-mismatch',
        input.configKey,
        'the config exists only in the v3 keyspace; a flanneld older than 0.17 reads the v2 ' +
          'store and would find no config',
      ),
    );
  }

  return found;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function missingConfig(input: DoctorInput, cli: Commands): Finding {
  const parts = [`no network config at ${input.configKey}: flanneld cannot start on this network`];
  let fix: string | null = null;

  for (const near of input.nearMissKeys) {
    const repaired = repairedConfig(near.value);
    if (repaired === undefined) continue;

    if (repaired === near.value) {
      parts.push(`${near.key} holds a network config; it belongs at ${input.configKey}`);
    } else {
      parts.push(
        `${near.key} holds what looks like a network config with its quotes backslash-escaped ` +
          `(a shell quoting mistake), which is not JSON; corrected: ${repaired}`,
      );
    }

    fix ??= `${cli.etcdctl} put ${shellWord(input.configKey)} ${shellWord(repaired)}`;
  }

  if (input.otherPrefixes.length > 0) {
    const named = input.otherPrefixes.slice(0, OTHER_PREFIXES_NAMED);
    const more = input.otherPrefixes.length - named.length;
    const list = more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
    parts.push(`a config exists under ${list}: wrong --prefix?`);
    fix ??= `${cli.flanctlOnCluster} --prefix ${shellWord(input.otherPrefixes[0])} doctor`;
  }

  if (input.entries.length === 0 && input.problems.length === 0) {
    parts.push(
      'if the config was written with the v2 API (etcdctl set/mk, ETCDCTL_API=2) it lives in ' +
        "etcd's separate v2 store, which flannel 0.17+ and flanctl do not read (flanneld logs " +
        '"Did you create your config using etcdv3 API?"); write it again with `etcdctl put` ' +
        '(check with: flanctl doctor --v2)',
    );
  }

  return finding('error', 'config-missing', input.configKey, parts.join('; '), fix);
}

/** The config text a near-miss value was meant to be, or undefined when it is not one. */
function repairedConfig(value: string): string | undefined {
  for (const candidate of [value, value.replace(/\\"/g, '"')]) {
    const parsed = parseNetworkConfig(candidate);
    if (parsed.config?.ipv4 || parsed.config?.ipv6) return candidate;
  }

  return undefined;
}

// ---- keys and values ------------------------------------------------------------------

function keyFindings(input: DoctorInput, cli: Commands): Finding[] {
  return input.problems.map((problem) =>
    problem.part === 'key'
      ? finding(
          'warning',
          'malformed-key',
          problem.key,
          `${problem.reason} (flanneld neither sees nor renews this key)`,
          `${cli.flanctl} release ${shellWord(problem.key)} --force`,
        )
      : finding(
          'error',
          'malformed-value',
          problem.key,
          `${problem.reason}: flanneld cannot decode it, so the host that owned this subnet ` +
            'cannot find it again and takes a new one when it restarts',
          `${cli.flanctl} release ${shellWord(problem.key)} --force`,
        ),
  );
}

function misfitFindings(input: DoctorInput): Finding[] {
  if (!input.config) return [];

  return input.entries.flatMap((entry) =>
    misfits(entry.subnet, input.config as NetworkConfig).map((misfit) =>
      finding(
        // A missing IPv6 half is the usual step after enabling IPv6 on a running network.
        misfit.code === 'missing-ipv6' ? 'warning' : 'error',
        misfit.code,
        entry.key,
        `${misfit.message} (${describeHolder(entry)}): when its owner restarts, flanneld ` +
          'deletes this key (reservations included) and allocates a new subnet, so the ' +
          "node's pods renumber",
      ),
    ),
  );
}

function describeHolder(entry: LeaseEntry): string {
  return `${entry.type} of ${entry.attrs.publicIP}`;
}

// ---- relations between keys -----------------------------------------------------------

function overlapFindings(entries: readonly LeaseEntry[]): Finding[] {
  const found: Finding[] = [];
  for (const family of [4, 6] as const) {
    const halves = entries
      .flatMap((entry) => {
        const cidr = family === 4 ? entry.subnet.ipv4 : entry.subnet.ipv6;
        return cidr ? [{ entry, cidr }] : [];
      })
      .sort((a, b) => compareCidr(a.cidr, b.cidr));

    // Sorted by start address: a block overlaps an earlier one iff it starts before the
    // furthest end seen so far.
    let widest: { entry: LeaseEntry; cidr: Cidr } | undefined;
    for (const half of halves) {
      if (widest && half.cidr.address <= lastAddress(widest.cidr)) {
        found.push(
          finding(
            'error',
            'overlap',
            half.entry.key,
            `${formatCidr(half.cidr)} (${describeHolder(half.entry)}) overlaps ` +
              `${formatCidr(widest.cidr)} (${describeHolder(widest.entry)}): two hosts would ` +
              'route the same pod addresses',
          ),
        );
      }

      if (!widest || lastAddress(half.cidr) > lastAddress(widest.cidr)) widest = half;
    }
  }

  return found;
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string, T[]> {
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

function remainingText(entry: LeaseEntry, nowMs: number): string {
  if (entry.type === 'reservation') return 'reservation';
  if (entry.status === 'lease-missing') return 'lease missing';
  if (entry.status === 'expired') return 'expired';
  const seconds = Math.round(((entry.expiresAtMs ?? nowMs) - nowMs) / 1000);
  return `${formatDuration(seconds)} left`;
}

/**
 * The entry a host most likely uses now: one that fits the config (flanneld drops the others),
 * then the lease renewed last: the latest expiry to the minute, since answers taken a moment
 * apart differ by a second; then the key written last (flanneld's renewal re-puts its key).
 * The choice is the same on every run at one revision.
 */
function likelyInUse(entries: readonly LeaseEntry[]): LeaseEntry {
  const rank = (entry: LeaseEntry) => [
    entry.misfits.length === 0 ? 1 : 0,
    entry.expiresAtMs === null ? -Infinity : Math.floor(entry.expiresAtMs / 60_000),
    entry.modRevision,
  ];
  const better = (a: LeaseEntry, b: LeaseEntry) => {
    const [left, right] = [rank(a), rank(b)];
    const index = left.findIndex((value, position) => value !== right[position]);
    return index >= 0 && left[index] > right[index];
  };
  return entries.reduce((best, entry) => (better(entry, best) ? entry : best));
}

function publicIpFindings(input: DoctorInput, cli: Commands): Finding[] {
  const { entries, nowMs } = input;
  const found: Finding[] = [];
  for (const [publicIP, held] of groupBy(entries, (entry) => entry.attrs.publicIP)) {
    if (held.length < 2) continue;

    const keep = likelyInUse(held);
    const others = held.filter((entry) => entry !== keep);
    const listed = held
      .map((entry) => `${formatCidr(entry.subnet.ipv4)} (${remainingText(entry, nowMs)})`)
      .join(', ');
    found.push(
      finding(
        'warning',
        'duplicate-public-ip',
        publicIP,
        `${publicIP} holds ${held.length} subnets: ${listed}. On restart flanneld reuses one ` +
          'subnet per PublicIP and the others only age out; release the ones not in that ' +
          `host's subnet.env (most likely in use: ${formatCidr(keep.subnet.ipv4)})`,
        others.map((entry) => releaseCommand(entry, cli)).join(' && '),
      ),
    );
  }

  return found;
}

/** `release`, with the --force it needs for a reservation or a lease still being renewed. */
function releaseCommand(entry: LeaseEntry, cli: Commands): string {
  const force = entry.status === 'reservation' || entry.status === 'active' ? ' --force' : '';
  return `${cli.flanctl} release ${formatCidr(entry.subnet.ipv4)}${force}`;
}

function vtepMacFindings(entries: readonly LeaseEntry[], nowMs: number, cli: Commands): Finding[] {
  const found: Finding[] = [];
  const guess = 'a guess: a shared VtepMAC is not proof of one host';
  for (const [mac, holders] of groupBy(entries, (entry) => entry.attrs.vtepMac)) {
    const addresses = new Set(holders.map((entry) => entry.attrs.publicIP));
    if (addresses.size < 2) continue;

    const leases = holders.filter((entry) => entry.type === 'lease');
    const current = leases.length > 0 ? likelyInUse(leases) : undefined;
    for (const entry of holders) {
      if (!current || entry === current || entry.attrs.publicIP === current.attrs.publicIP) {
        continue;
      }

      const subnet = formatCidr(entry.subnet.ipv4);
      const now = `${formatCidr(current.subnet.ipv4)} at ${current.attrs.publicIP}`;
      if (entry.type === 'reservation') {
        found.push(
          finding(
            'warning',
            'duplicate-vtep-mac',
            entry.key,
            `reservation ${subnet} belongs to ${entry.attrs.publicIP} but the same VtepMAC ` +
              `${mac} now holds lease ${now}: the reservation no longer matches the host and ` +
              'will not be used; re-reserve, or give the host its old address back ' +
              `(${guess})`,
            `${releaseCommand(entry, cli)} && ` +
              `${cli.flanctl} reserve ${formatCidr(current.subnet.ipv4)}`,
          ),
        );
      } else {
        found.push(
          finding(
            'warning',
            'duplicate-vtep-mac',
            entry.key,
            `${subnet} (${entry.attrs.publicIP}) and ${now} share VtepMAC ${mac}: probably one ` +
              `host whose address changed (${guess}); the older lease stays until it expires ` +
              `(${remainingText(entry, nowMs)}) and peers keep a route to ` +
              `${entry.attrs.publicIP}`,
            releaseCommand(entry, cli),
          ),
        );
      }
    }
  }

  return found;
}

// ---- etcd leases ----------------------------------------------------------------------

function leaseFindings(input: DoctorInput, cli: Commands): Finding[] {
  const margin = formatDuration(input.renewMarginSeconds);
  const found: Finding[] = [];
  for (const entry of input.entries) {
    // A recorded reservation that got a lease is judged by the reservation checks.
    if (input.records.has(entry.key)) continue;

    const subnet = formatCidr(entry.subnet.ipv4);
    const who = `${subnet} (${entry.attrs.publicIP})`;
    if (entry.status === 'renewal-overdue') {
      found.push(
        finding(
          'warning',
          'lease-overdue',
          entry.key,
          `${who} has ${remainingText(entry, input.nowMs)}: flanneld renews once less than ` +
            `${margin} remains, so its owner is likely stopped or cut off from etcd; after ` +
            'expiry the subnet may go to another node. Check the node, or keep the subnet ' +
            'with a reservation',
          `${cli.flanctl} reserve ${subnet}`,
        ),
      );
    } else if (entry.status === 'expired') {
      const ago = formatDuration(-(entry.ttlSeconds ?? 0));
      found.push(
        finding(
          'warning',
          'lease-expired',
          entry.key,
          `${who}: the lease expired ${ago} ago but etcd kept the key (a known etcd failure ` +
            'mode); flannel still treats the subnet as taken',
          `${cli.flanctl} release ${subnet}`,
        ),
      );
    } else if (entry.status === 'lease-missing') {
      found.push(
        finding(
          'warning',
          'lease-missing',
          entry.key,
          `${who}: the key names lease ${entry.leaseId}, which etcd no longer has; flannel ` +
            'still treats the subnet as taken',
          `${cli.flanctl} release ${subnet}`,
        ),
      );
    }
  }

  return found;
}

function sharedLeaseFindings(entries: readonly LeaseEntry[]): Finding[] {
  const found: Finding[] = [];
  for (const [leaseId, keys] of groupBy(entries, (entry) => entry.leaseId)) {
    if (keys.length < 2) continue;

    found.push(
      finding(
        'warning',
        'shared-lease',
        leaseId,
        `etcd lease ${leaseId} holds ${keys.length} subnet keys (` +
          `${keys.map((entry) => formatCidr(entry.subnet.ipv4)).join(', ')}); flanneld gives ` +
          'each key a lease of its own, so another tool attached these, and revoking the ' +
          'lease or letting it expire deletes all of them at once',
      ),
    );
  }

  return found;
}

function keylessFindings(leases: readonly LeaseRecordState[] | undefined): Finding[] {
  if (!leases) return [];

  const flannelLike = leases.filter(
    (lease) => lease.keys === 0 && lease.grantedTtl === FLANNEL_GRANTED_TTL,
  );
  if (flannelLike.length === 0) return [];

  return [
    finding(
      'info',
      'keyless-lease',
      `${flannelLike.length} lease${flannelLike.length === 1 ? '' : 's'}`,
      `${flannelLike.length} etcd lease${flannelLike.length === 1 ? '' : 's'} granted for ` +
        `${FLANNEL_GRANTED_TTL} s hold${flannelLike.length === 1 ? 's' : ''} no key: flanneld leaves one behind at every renewal ` +
        'and they expire by themselves; leases are cluster-wide, so flanctl never revokes them',
    ),
  ];
}

// ---- capacity -------------------------------------------------------------------------

function capacityFindings(input: DoctorInput): Finding[] {
  const { config } = input;
  if (!config || input.configProblems.length > 0) return [];

  return [config.ipv4, config.ipv6].flatMap((plan) =>
    plan ? [planFinding(plan, input.entries, input.capacityWarnPercent)] : [],
  );
}

function planFinding(
  plan: AddressPlan,
  entries: readonly LeaseEntry[],
  warnPercent: number,
): Finding {
  const usage = usageTotals(layoutPlan(plan, holdingsOf(entries, plan.family, true)));
  const bounds = describeBounds(plan);
  const network = formatCidr(plan.network);
  const blocked = usage.blocked > 0n ? `, ${usage.blocked} blocked by keys that do not fit` : '';
  const counts =
    `${usage.used} of ${usage.capacity} subnets used (${usage.reserved} reserved)${blocked}, ` +
    `${usage.free} free between SubnetMin ${bounds.min} and SubnetMax ${bounds.max}`;

  if (usage.free === 0n) {
    return finding(
      'error',
      'capacity',
      network,
      `${counts}: the next new node fails with "failed to acquire lease: out of subnets"` +
        raiseHint(plan),
    );
  }

  const percent = usage.percentUsed ?? 100;
  if (percent >= warnPercent) {
    return finding(
      'warning',
      'capacity',
      network,
      `${counts} (${percent}% used; warning from ${warnPercent}%)${raiseHint(plan)}`,
    );
  }

  return finding('info', 'capacity', network, counts);
}

function raiseHint(plan: AddressPlan): string {
  const parts: string[] = [];
  const block = (prefixLength: number) => ({ ...plan.network, prefixLength });
  if (plan.defaulted.includes('SubnetMin')) {
    const first = formatCidr(block(plan.subnetLen));
    parts.push(`the first block ${first} is never allocated by default`);
  }

  const preferred = plan.family === 4 ? 24 : 64;
  if (plan.subnetLen < preferred) {
    const size = blockSize(plan.family, preferred);
    const capacity = planCapacity({
      ...plan,
      subnetLen: preferred,
      subnetMin: plan.network.address + size,
      subnetMax: lastAddress(plan.network) + 1n - size,
    });
    parts.push(
      'a larger Network or a longer SubnetLen raises capacity ' +
        `(SubnetLen ${preferred} gives ${capacity})`,
    );
  } else {
    parts.push('a larger Network raises capacity');
  }

  return `; ${parts.join('; ')}`;
}

// ---- reservations ---------------------------------------------------------------------

function reservationFindings(input: DoctorInput, cli: Commands): Finding[] {
  const found: Finding[] = [];
  const byKey = new Map(input.entries.map((entry) => [entry.key, entry]));
  const problemKeys = new Set(input.problems.map((problem) => problem.key));

  for (const entry of input.entries) {
    if (entry.type !== 'reservation' || input.records.has(entry.key)) continue;

    const subnet = formatCidr(entry.subnet.ipv4);
    found.push(
      finding(
        'warning',
        'reservation-unrecorded',
        entry.key,
        `reservation ${subnet} (${entry.attrs.publicIP}) is not recorded: flanneld with etcd v3 ` +
          're-attaches a 24h lease to a reserved key when its owner starts (flannel#1329), and ' +
          'without a record nothing can tell the reservation was lost; recording it lets ' +
          'doctor and `reserve --reapply` guard it',
        `${cli.flanctl} reserve ${subnet}`,
      ),
    );
  }

  for (const [key, record] of input.records) {
    if (problemKeys.has(key)) continue;
    const drift = driftFinding(key, record, byKey.get(key), input, cli);
    if (drift) found.push(drift);
  }

  for (const [recordKey, reason] of input.badRecords) {
    found.push(
      finding(
        'warning',
        'reservation-drift',
        recordKey,
        `unreadable reservation record: ${reason}`,
      ),
    );
  }

  return found;
}

function driftFinding(
  key: string,
  record: ReservationRecord,
  entry: LeaseEntry | undefined,
  input: DoctorInput,
  cli: Commands,
): Finding | undefined {
  const recordKey = input.recordKeyOf?.(key);
  const dropRecord = recordKey ? `${cli.etcdctl} del ${shellWord(recordKey)}` : null;
  const owner = record.publicIP ?? 'its host';
  if (!entry) {
    const parsed = parseSubnetKeyName(key.slice(key.lastIndexOf('/') + 1));
    const subnet = parsed.ok ? formatCidr(parsed.key.ipv4) : key;
    const moved = input.entries.find((other) => other.attrs.publicIP === record.publicIP);
    if (moved) {
      return finding(
        'warning',
        'reservation-drift',
        key,
        `recorded reservation ${subnet} of ${owner} has no key any more, and ${owner} now ` +
          `holds ${formatCidr(moved.subnet.ipv4)}: the record no longer matters; drop it, or ` +
          `reserve the new subnet`,
        dropRecord,
      );
    }

    return finding(
      'error',
      'reservation-drift',
      key,
      `recorded reservation ${subnet} of ${owner} has no key any more: the subnet is free for ` +
        'any new node',
      `${cli.flanctl} reserve --reapply ${shellWord(key)}`,
    );
  }

  const subnet = formatCidr(entry.subnet.ipv4);
  if (record.publicIP !== null && entry.attrs.publicIP !== record.publicIP) {
    return finding(
      'error',
      'reservation-drift',
      key,
      `recorded reservation ${subnet} of ${record.publicIP} is now held by ` +
        `${entry.attrs.publicIP}: another host took the subnet; check which host should have ` +
        'it, then drop the stale record (the fix) or release the key',
      dropRecord,
    );
  }

  if (entry.type === 'reservation') return undefined;

  const left = remainingText(entry, input.nowMs);
  if (entry.status === 'active') {
    return finding(
      'warning',
      'reservation-drift',
      key,
      `recorded reservation ${subnet} (${entry.attrs.publicIP}) carries lease ${entry.leaseId} ` +
        `again (${left}), which its flanneld renews: the subnet is safe while the host runs; ` +
        'once renewals stop, `reserve --reapply` (or `reserve --watch`) detaches the lease',
    );
  }

  return finding(
    'error',
    'reservation-drift',
    key,
    `recorded reservation ${subnet} (${entry.attrs.publicIP}) carries lease ${entry.leaseId} ` +
      `(${left}) that nobody renews: the key is deleted, and the subnet lost, when it expires`,
    `${cli.flanctl} reserve --reapply ${subnet}`,
  );
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
