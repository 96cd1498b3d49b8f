// `leases ls --watch`: the listing, then every change under the subnets dir as it happens,
// labelled from what was known of the key. A new lease's TTL is looked up once. When etcd
// compacted the history the watch needs, the network is listed again and the differences are
// reported as changes.
import type { SubnetProblem } from '../domain/lease-entry.js';
import { type ChangeLabel, changeLabel, diffListings, ttlAsOf } from '../domain/lease-change.js';
import {
  type InterpretContext,
  type LeaseEntry,
  type LeaseTtl,
  interpretSubnets,
} from '../domain/lease-entry.js';
import type { NetworkConfig } from '../domain/network-config.js';
import type { RegistryBackend, SubnetEvent } from './backend.js';
import { type WatchNote, WatchHealth, consumeWatch } from './watch-health.js';
import { type NetworkState, type ReadOptions, networkPaths, readNetwork } from './network.js';

export interface LeaseChange {
  readonly label: ChangeLabel;
  /** The revision that made the change; for differences after a resync, the new listing's. */
  readonly revision: number;
  readonly timeMs: number;
  /** The key after the change; for removed and expired, the key as it was last known. */
  readonly entry: LeaseEntry;
  /** The key before the change; undefined when it was new (or held no valid lease). */
  readonly previous?: LeaseEntry;
}

/** Lines for stderr about the connection and keys that are not leases. */
export type { WatchNote } from './watch-health.js';

export type WatchOutput =
  | { kind: 'change'; change: LeaseChange }
  | ({ kind: 'problem'; revision: number; timeMs: number } & SubnetProblem)
  | { kind: 'resync'; compactRevision: number; state: NetworkState; timeMs: number }
  | { kind: 'note'; note: WatchNote };

export interface FollowOptions extends ReadOptions {
  /** Ends the watch; followLeases then resolves. */
  readonly signal: AbortSignal;
}

/**
 * Reports every change after the listing `state` until `options.signal` aborts. etcd failures
 * are reported as notes and retried, never thrown.
 */
export async function followLeases(
  backend: RegistryBackend,
  state: NetworkState,
  options: FollowOptions,
  emit: (output: WatchOutput) => void,
): Promise<void> {
  await new LeaseFollower(backend, state.paths.prefix, options, emit, state).run();
}

class LeaseFollower {
  /** Every key that holds a valid lease or reservation, filtered or not. */
  private readonly known = new Map<string, LeaseEntry>();
  private readonly problemKeys = new Set<string>();
  private config?: NetworkConfig;
  private revision = 0;
  private readonly health: WatchHealth;

  constructor(
    private readonly backend: RegistryBackend,
    private readonly prefix: string,
    private readonly options: FollowOptions,
    private readonly emit: (output: WatchOutput) => void,
    state: NetworkState,
  ) {
    this.health = new WatchHealth(options.signal, (note) => this.note(note));
    this.remember(state);
  }

  async run(): Promise<void> {
    const { signal } = this.options;

    while (!signal.aborted) {
      const compacted = await this.followFrom(this.revision + 1);
      if (compacted === undefined || signal.aborted) return;

      const state = await this.health.untilDone('the subnets again', () =>
        readNetwork(this.backend, this.prefix, this.options),
      );
      if (state === undefined) return;
      this.resync(state, compacted.compactRevision);
    }
  }

  /** Applies changes until the watch ends; the compaction that ended it, if one did. */
  private async followFrom(start: number): Promise<{ compactRevision: number } | undefined> {
    const { signal } = this.options;
    const dir = networkPaths(this.prefix).subnetsDir;

    const notices = this.backend.watchSubnets(dir, start, signal);
    const compactRevision = await consumeWatch(notices, signal, this.health, async (events) => {
      for (const event of events) await this.apply(event);
    });
    return compactRevision === undefined ? undefined : { compactRevision };
  }

  private async apply(event: SubnetEvent): Promise<void> {
    const key = event.kind === 'put' ? event.subnet.key : event.key;
    const before = this.known.get(key);
    const wasProblem = this.problemKeys.delete(key);
    this.known.delete(key);

    if (event.kind === 'delete') {
      if (before === undefined) {
        if (wasProblem) this.note({ kind: 'key-deleted', key, revision: event.revision });
        return;
      }

      const label = changeLabel(before, { kind: 'delete' }, Date.now());
      this.change({ label, revision: event.revision, entry: before, previous: before });
      return;
    }

    const stored = event.subnet;
    const ttls = await this.ttlsFor(stored.leaseId, before);
    if (ttls === undefined) return;

    const { entries, problems } = interpretSubnets([stored], ttls, this.context());
    const entry = entries[0];
    if (entry === undefined) {
      this.problemKeys.add(key);
      const timeMs = Date.now();
      for (const problem of problems) {
        this.emit({ kind: 'problem', ...problem, revision: event.revision, timeMs });
      }
      return;
    }

    this.known.set(key, entry);
    const change = { kind: 'put', value: stored.value, leaseId: stored.leaseId } as const;
    const label = changeLabel(before, change, Date.now());
    this.change({ label, revision: event.revision, entry, previous: before });
  }

  /** The TTL of a key's lease; undefined when the watch stopped while etcd was asked. */
  private async ttlsFor(
    leaseId: string | null,
    before: LeaseEntry | undefined,
  ): Promise<Map<string, LeaseTtl> | undefined> {
    if (leaseId === null) return new Map();

    // The same lease as before needs no question to etcd: its known expiry still holds.
    const known = before?.leaseId === leaseId ? ttlAsOf(before, Date.now()) : undefined;
    if (known !== undefined) return new Map([[leaseId, known]]);

    return this.health.untilDone(`the TTL of lease ${leaseId}`, () =>
      this.backend.leaseTtls([leaseId], 1),
    );
  }

  private resync(state: NetworkState, compactRevision: number): void {
    const timeMs = Date.now();
    const before = new Map(this.known);
    const problemsBefore = new Set(this.problemKeys);
    this.remember(state);
    this.emit({ kind: 'resync', compactRevision, state, timeMs });

    for (const difference of diffListings(before, state.entries, timeMs)) {
      const entry = difference.after ?? difference.before;
      if (entry === undefined) continue;
      const { label, before: previous } = difference;
      this.change({ label, revision: state.revision, entry, previous });
    }

    for (const problem of state.problems) {
      if (problemsBefore.has(problem.key)) continue;
      this.emit({ kind: 'problem', ...problem, revision: state.revision, timeMs });
    }
  }

  private remember(state: NetworkState): void {
    this.known.clear();
    for (const entry of state.entries) this.known.set(entry.key, entry);
    this.problemKeys.clear();
    for (const problem of state.problems) this.problemKeys.add(problem.key);
    this.config = state.config.problems.length === 0 ? state.config.config : undefined;
    this.revision = state.revision;
  }

  private context(): InterpretContext {
    return {
      nowMs: Date.now(),
      renewMarginSeconds: this.options.renewMarginSeconds,
      config: this.config,
    };
  }

  private change(change: Omit<LeaseChange, 'timeMs'>): void {
    this.emit({ kind: 'change', change: { ...change, timeMs: Date.now() } });
  }

  private note(note: WatchNote): void {
    this.emit({ kind: 'note', note });
  }
}
