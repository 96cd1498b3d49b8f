// doctor's checks of the etcd leases: overdue, expired and missing ones, keys sharing one, and
// the keyless ones flanneld leaves behind.
import { formatCidr } from '../cidr.js';
import { formatDuration } from '../duration.js';
import type { LeaseEntry } from '../lease-entry.js';
import {
  type Commands,
  type DoctorInput,
  FLANNEL_GRANTED_TTL,
  type Finding,
  type LeaseRecordState,
  finding,
  groupBy,
  remainingText,
} from './findings.js';

export function leaseFindings(input: DoctorInput, cli: Commands): Finding[] {
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

export function sharedLeaseFindings(entries: readonly LeaseEntry[]): Finding[] {
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

export function keylessFindings(leases: readonly LeaseRecordState[] | undefined): Finding[] {
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
