// How the subnet keys sit in one family's address plan, the way flanneld sees it when it
// allocates: each candidate from SubnetMin to SubnetMax in SubnetLen steps is taken when any key
// that decodes overlaps it (pkg/subnet/etcd allocateSubnet), whatever that key's lease state.
// Candidates are handled as runs of indexes, never one by one, so an IPv6 plan with 2^62
// candidates costs no more than a /16.
import { type Cidr, type IpFamily, bitsOf, blockSize, lastAddress, networkOf } from './cidr.js';
import type { LeaseEntry } from './lease-entry.js';
import { type AddressPlan, planCapacity, planMisfits } from './network-config.js';

/** What keeps a key's subnet: a lease, a reservation, or a lease etcd reports expired or gone. */
export type Holder = 'lease' | 'reservation' | 'dead-lease';

export interface Holding {
  /** The key's subnet in the plan's family; undefined when the key has no half of it. */
  readonly subnet: Cidr | undefined;
  readonly holder: Holder;
}

/**
 * A candidate is free, held by a key on exactly that subnet (named by its holder), or blocked:
 * overlapped only by keys that do not fit the plan, which flanneld skips all the same.
 */
export type CandidateState = 'free' | Holder | 'blocked';

/** Consecutive candidates in one state; indexes count from 0 at SubnetMin. */
export interface Run {
  readonly first: bigint;
  readonly last: bigint;
  readonly state: CandidateState;
}

export interface PlanLayout {
  readonly plan: AddressPlan;
  readonly capacity: bigint;
  /** Covers 0..capacity-1 in order, neighbours always in different states; empty at capacity 0. */
  readonly runs: Run[];
  /** Keys with a half in this family that does not fit the plan (they hold no candidate). */
  readonly outsideRange: number;
  /** Keys with no half in this family (IPv4-only keys in a network with IPv6 enabled). */
  readonly withoutSubnet: number;
}

// When two keys name the same subnet, the one an operator must not lose decides its state.
const HOLDER_RANK: Record<Holder, number> = { reservation: 3, lease: 2, 'dead-lease': 1 };

export function layoutPlan(plan: AddressPlan, holdings: readonly Holding[]): PlanLayout {
  const capacity = planCapacity(plan);
  const step = blockSize(plan.family, plan.subnetLen);
  const held = new Map<bigint, Holder>();
  const overlaps: Array<[bigint, bigint]> = [];
  let outsideRange = 0;
  let withoutSubnet = 0;

  for (const { subnet, holder } of holdings) {
    if (!subnet) {
      withoutSubnet += 1;
      continue;
    }

    if (planMisfits(subnet, plan).length === 0) {
      const index = (subnet.address - plan.subnetMin) / step;
      const before = held.get(index);
      if (!before || HOLDER_RANK[holder] > HOLDER_RANK[before]) held.set(index, holder);
      continue;
    }

    outsideRange += 1;
    const overlap = overlappedCandidates(plan, capacity, subnet);
    if (overlap) overlaps.push(overlap);
  }

  return { plan, capacity, runs: buildRuns(capacity, held, overlaps), outsideRange, withoutSubnet };
}

/** The candidate indexes a key overlaps, as flannel's Overlaps decides (host bits ignored). */
function overlappedCandidates(
  plan: AddressPlan,
  capacity: bigint,
  subnet: Cidr,
): [bigint, bigint] | undefined {
  if (capacity === 0n || subnet.family !== plan.family) return undefined;

  const step = blockSize(plan.family, plan.subnetLen);
  const first = networkOf(subnet).address;
  const last = lastAddress(subnet);
  const rangeEnd = plan.subnetMin + capacity * step - 1n;
  if (last < plan.subnetMin || first > rangeEnd) return undefined;

  const low = first <= plan.subnetMin ? 0n : (first - plan.subnetMin) / step;
  const high = last >= rangeEnd ? capacity - 1n : (last - plan.subnetMin) / step;
  return [low, high];
}

function buildRuns(
  capacity: bigint,
  held: ReadonlyMap<bigint, Holder>,
  overlaps: Array<[bigint, bigint]>,
): Run[] {
  const heldIndexes = [...held.keys()].sort(compareBigint);
  const pieces: Run[] = heldIndexes.map((index) => ({
    first: index,
    last: index,
    state: held.get(index) as Holder,
  }));
  for (const [low, high] of mergeIntervals(overlaps)) {
    pieces.push(...blockedAround(low, high, heldIndexes));
  }
  pieces.sort((a, b) => compareBigint(a.first, b.first));

  const runs: Run[] = [];
  const append = (run: Run) => {
    const previous = runs[runs.length - 1];
    if (previous && previous.state === run.state) {
      runs[runs.length - 1] = { ...previous, last: run.last };
    } else {
      runs.push(run);
    }
  };

  let next = 0n;
  for (const piece of pieces) {
    if (piece.first > next) append({ first: next, last: piece.first - 1n, state: 'free' });
    append(piece);
    next = piece.last + 1n;
  }
  if (next < capacity) append({ first: next, last: capacity - 1n, state: 'free' });
  return runs;
}

function mergeIntervals(intervals: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  const sorted = [...intervals].sort((a, b) => compareBigint(a[0], b[0]));
  const merged: Array<[bigint, bigint]> = [];
  for (const [low, high] of sorted) {
    const previous = merged[merged.length - 1];
    if (previous && low <= previous[1] + 1n) {
      if (high > previous[1]) previous[1] = high;
    } else {
      merged.push([low, high]);
    }
  }

  return merged;
}

/** The parts of low..high that no fitting key holds (a fitting key wins over an overlap). */
function blockedAround(low: bigint, high: bigint, heldIndexes: readonly bigint[]): Run[] {
  const runs: Run[] = [];
  let start = low;
  for (let at = lowerBound(heldIndexes, low); at < heldIndexes.length; at += 1) {
    const index = heldIndexes[at];
    if (index > high) break;
    if (index > start) runs.push({ first: start, last: index - 1n, state: 'blocked' });
    start = index + 1n;
  }
  if (start <= high) runs.push({ first: start, last: high, state: 'blocked' });
  return runs;
}

function lowerBound(sorted: readonly bigint[], value: bigint): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }

  return low;
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface UsageTotals {
  readonly capacity: bigint;
  /** Candidates held by a key that fits the plan: leases, reservations and dead leases. */
  readonly used: bigint;
  readonly reserved: bigint;
  /** Part of `used`: leases etcd reports expired or no longer knows. */
  readonly deadLeases: bigint;
  readonly blocked: bigint;
  readonly free: bigint;
  /**
   * The share of the capacity that is not free (used and blocked), in percent, rounded down to
   * one decimal so that 100 means none free; undefined when the capacity is 0.
   */
  readonly percentUsed: number | undefined;
}

export function usageTotals(layout: PlanLayout): UsageTotals {
  const count: Record<CandidateState, bigint> = {
    free: 0n,
    lease: 0n,
    reservation: 0n,
    'dead-lease': 0n,
    blocked: 0n,
  };
  for (const run of layout.runs) count[run.state] += run.last - run.first + 1n;

  const { capacity } = layout;
  const taken = capacity - count.free;
  return {
    capacity,
    used: count.lease + count.reservation + count['dead-lease'],
    reserved: count.reservation,
    deadLeases: count['dead-lease'],
    blocked: count.blocked,
    free: count.free,
    percentUsed: capacity === 0n ? undefined : Number((taken * 1000n) / capacity) / 10,
  };
}

/** The free candidates as the fewest aligned CIDR blocks, in address order: the first `limit`. */
export interface FreeBlocks {
  readonly blocks: Cidr[];
  /** How many blocks there are in all, `blocks` included. */
  readonly total: bigint;
}

export function freeBlocks(layout: PlanLayout, limit: number): FreeBlocks {
  const { plan } = layout;
  const step = blockSize(plan.family, plan.subnetLen);
  const blocks: Cidr[] = [];
  let total = 0n;

  for (const run of layout.runs) {
    if (run.state !== 'free') continue;

    const first = plan.subnetMin + run.first * step;
    const last = plan.subnetMin + (run.last + 1n) * step - 1n;
    total += countRangeBlocks(first, last);
    for (const block of rangeBlocks(plan.family, first, last)) {
      if (blocks.length >= limit) break;
      blocks.push(block);
    }
  }

  return { blocks, total };
}

/** The fewest aligned blocks that cover the addresses first..last exactly, in order. */
export function* rangeBlocks(family: IpFamily, first: bigint, last: bigint): Generator<Cidr> {
  const bits = bitsOf(family);
  let start = first;
  while (start <= last) {
    // The largest block starting here is as big as the alignment of `start` allows...
    let size = start === 0n ? 1n << BigInt(bits) : start & -start;
    // ...and no bigger than what is left.
    while (size > last - start + 1n) size >>= 1n;

    yield { family, address: start, prefixLength: bits - bitLength(size) + 1 };
    start += size;
  }
}

/**
 * How many blocks rangeBlocks yields, without making them. The blocks grow from `first` up to
 * the most aligned address in the range, then shrink to the end: one block per set bit of
 * either distance.
 */
export function countRangeBlocks(first: bigint, last: bigint): bigint {
  if (first > last) return 0n;

  const end = last + 1n;
  const pivotBit = BigInt(bitLength(first ^ end) - 1);
  const pivot = (end >> pivotBit) << pivotBit;
  return BigInt(popCount(pivot - first) + popCount(end - pivot));
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

function popCount(value: bigint): number {
  let count = 0;
  for (const digit of value.toString(2)) if (digit === '1') count += 1;
  return count;
}

/** More cells than this make a map nobody reads; the command refuses instead. */
export const MAP_CELL_LIMIT = 65_536;

/** `outside`: a subnet of the network that is not a candidate (before SubnetMin, after SubnetMax). */
export type MapCell = CandidateState | 'outside';

export interface MapRow {
  /** The subnet of the row's first cell. */
  readonly first: Cidr;
  readonly cells: MapCell[];
}

/**
 * One cell per candidate, `cellsPerRow` to a row. Rows are aligned on the network, so that a
 * row's label is a round address; the cells of such a row that are not candidates are
 * `outside`. Rows without a candidate are left out. Throws when the plan has more candidates
 * than MAP_CELL_LIMIT: callers refuse such a map first.
 */
export function mapRows(layout: PlanLayout, cellsPerRow: number): MapRow[] {
  const { plan, capacity, runs } = layout;
  if (capacity > BigInt(MAP_CELL_LIMIT)) {
    throw new RangeError(`a map of ${capacity} cells is above the limit of ${MAP_CELL_LIMIT}`);
  }
  if (capacity === 0n) return [];

  const step = blockSize(plan.family, plan.subnetLen);
  const width = BigInt(cellsPerRow);
  const positions = 1n << BigInt(plan.subnetLen - plan.network.prefixLength);
  const offset = (plan.subnetMin - plan.network.address) / step;
  const rows: MapRow[] = [];
  let runIndex = 0;

  for (let row = offset / width; row <= (offset + capacity - 1n) / width; row += 1n) {
    const rowStart = row * width;
    const cells: MapCell[] = [];
    for (let position = rowStart; position < rowStart + width && position < positions; position++) {
      const index = position - offset;
      if (index < 0n || index >= capacity) {
        cells.push('outside');
        continue;
      }

      while (runs[runIndex].last < index) runIndex += 1;
      cells.push(runs[runIndex].state);
    }

    const address = plan.network.address + rowStart * step;
    rows.push({ first: { family: plan.family, address, prefixLength: plan.subnetLen }, cells });
  }

  return rows;
}

/**
 * Each key's subnet in `family` and what holds it. Without lease statuses (no TTLs read) every
 * lease counts as a lease; with them, expired and missing leases are told apart.
 */
export function holdingsOf(
  entries: readonly LeaseEntry[],
  family: IpFamily,
  statusesKnown: boolean,
): Holding[] {
  return entries.map((entry) => ({
    subnet: family === 4 ? entry.subnet.ipv4 : entry.subnet.ipv6,
    holder: holderOf(entry, statusesKnown),
  }));
}

function holderOf(entry: LeaseEntry, statusesKnown: boolean): Holder {
  if (entry.type === 'reservation') return 'reservation';
  if (!statusesKnown) return 'lease';
  return entry.status === 'expired' || entry.status === 'lease-missing' ? 'dead-lease' : 'lease';
}

/** Cells in one row of a map: 64 subnets of /24 are a /18. */
export const MAP_CELLS_PER_ROW = 64;

export interface FamilyUsage {
  readonly layout: PlanLayout;
  readonly totals: UsageTotals;
  readonly free: FreeBlocks;
  /** Only when a map was asked for. */
  readonly map?: MapRow[];
}

export function familyUsage(
  plan: AddressPlan,
  holdings: readonly Holding[],
  options: { readonly freeBlockLimit: number; readonly map: boolean },
): FamilyUsage {
  const layout = layoutPlan(plan, holdings);
  return {
    layout,
    totals: usageTotals(layout),
    free: freeBlocks(layout, options.freeBlockLimit),
    map: options.map ? mapRows(layout, MAP_CELLS_PER_ROW) : undefined,
  };
}
