// doctor's checks of reservations against flanctl's records: unrecorded ones, and recorded
// ones that flanneld re-leased, that are gone, or that another host took.
import { containsCidr, formatCidr } from '../cidr.js';
import type { LeaseEntry } from '../lease-entry.js';
import type { ReservationRecord } from '../reservation-record.js';
import { parseSubnetKeyName } from '../subnet-key.js';
import {
  type Commands,
  type DoctorInput,
  type Finding,
  finding,
  remainingText,
  shellWord,
} from './findings.js';

export function reservationFindings(input: DoctorInput, cli: Commands): Finding[] {
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
    const overlapping = parsed.ok
      ? input.entries.find(
          (other) =>
            containsCidr(other.subnet.ipv4, parsed.key.ipv4) ||
            containsCidr(parsed.key.ipv4, other.subnet.ipv4),
        )
      : undefined;
    if (overlapping && !moved) {
      return finding(
        'warning',
        'reservation-drift',
        key,
        `recorded reservation ${subnet} of ${owner} has no key any more, and ` +
          `${formatCidr(overlapping.subnet.ipv4)} (${overlapping.attrs.publicIP}) overlaps it ` +
          'now: it cannot come back; drop the record',
        dropRecord,
      );
    }

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
