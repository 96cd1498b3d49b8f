// doctor's checks of the subnet keys: what flannel cannot read, what does not fit the config,
// and keys that collide: overlapping subnets, one host with several, one VtepMAC at two hosts.
import { type Cidr, compareCidr, formatCidr, lastAddress } from '../cidr.js';
import type { LeaseEntry } from '../lease-entry.js';
import { type NetworkConfig, misfits } from '../network-config.js';
import {
  type Commands,
  type DoctorInput,
  type Finding,
  describeHolder,
  finding,
  groupBy,
  releaseCommand,
  remainingText,
  shellWord,
} from './findings.js';

export function keyFindings(input: DoctorInput, cli: Commands): Finding[] {
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

export function misfitFindings(input: DoctorInput): Finding[] {
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

export function overlapFindings(entries: readonly LeaseEntry[]): Finding[] {
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

export function publicIpFindings(input: DoctorInput, cli: Commands): Finding[] {
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

export function vtepMacFindings(
  entries: readonly LeaseEntry[],
  nowMs: number,
  cli: Commands,
): Finding[] {
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
