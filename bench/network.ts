// The network `npm run bench` lists: subnet keys written the way flanneld writes them, one etcd
// lease per key with a 24 h TTL, and about 5% reservations (keys without a lease).
import { type SeedEntry, seedState } from '../test/helpers/seed.js';

/** flannel's default prefix: the bench's etcd is its own, so nothing else lives there. */
export const BENCH_PREFIX = '/coreos.com/network';
export const EMPTY_PREFIX = '/bench-empty/network';
export const LEASE_TTL_SECONDS = 86_400;
/** Every 20th key is a reservation. */
export const RESERVATION_EVERY = 20;
/** 10.0.0.0/8 in /24s, every one allowed by SubnetMin and SubnetMax: 65,536 subnets. */
export const MAX_SIZE = 65_536;

export const NETWORK_CONFIG = JSON.stringify({
  Network: '10.0.0.0/8',
  SubnetLen: 24,
  SubnetMin: '10.0.0.0',
  SubnetMax: '10.255.255.0',
  Backend: { Type: 'vxlan' },
});

export function isReservation(index: number): boolean {
  return index % RESERVATION_EVERY === RESERVATION_EVERY / 2;
}

/** How many of the first `size` keys hold a lease. */
export function leaseCount(size: number): number {
  let reservations = 0;
  for (let index = 0; index < size; index++) if (isReservation(index)) reservations++;
  return size - reservations;
}

/** Host `index` (0 to 65,535): its subnet key and its vxlan LeaseAttrs, as flanneld writes them. */
export function subnetEntry(prefix: string, index: number): SeedEntry {
  const high = index >> 8;
  const low = index & 0xff;
  const mac = `0e:4f:${hex(index >> 16)}:${hex(high)}:${hex(low)}:01`;
  const value = JSON.stringify({
    PublicIP: `100.64.${high}.${low}`,
    PublicIPv6: null,
    BackendType: 'vxlan',
    BackendData: { VNI: 1, VtepMAC: mac },
  });
  const ttl = isReservation(index) ? null : LEASE_TTL_SECONDS;
  return { key: `${prefix}/subnets/10.${high}.${low}.0-24`, value, ttl };
}

/** Writes the config (when `from` is 0) and hosts from..to-1: the network grows per size. */
export async function growNetwork(
  endpoint: string,
  prefix: string,
  from: number,
  to: number,
): Promise<void> {
  const entries: SeedEntry[] = [];
  if (from === 0) entries.push({ key: `${prefix}/config`, value: NETWORK_CONFIG, ttl: null });
  for (let index = from; index < to; index++) entries.push(subnetEntry(prefix, index));
  await seedState(endpoint, entries);
}

function hex(byte: number): string {
  return (byte & 0xff).toString(16).padStart(2, '0');
}
