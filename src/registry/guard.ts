// `reserve --watch`: keeps recorded reservations true for as long as it runs. It follows the
// subnets dir with an etcd watch, and for each recorded key that carries a lease it waits until
// that lease would fall below the renew margin. A lease that was renewed by then (a live host)
// is left alone; one that was not (a dead host) is detached, as `reserve --reapply` would.
import type { PlannedChange } from '../domain/change-plan.js';
import type { ChangeResult } from './apply.js';
import type { RegistryBackend } from './backend.js';
import type { NetworkPaths } from './network.js';
import { reapplyPlan } from './reapply.js';
import { type Records, readRecords, refreshRecord } from './records.js';
import { type Target, rereadTarget, subnetOfKey } from './targets.js';
import { type WatchNote, WatchHealth, consumeWatch } from './watch-health.js';

export type GuardOutput =
  | { kind: 'watching'; records: number; revision: number }
  | { kind: 'result'; result: ChangeResult }
  /** A repair that waits: the key was repaired less than one renewal period ago. */
  | { kind: 'held-back'; key: string; untilMs: number }
  /** A recorded reservation the guard cannot keep (gone, or held by another host). */
  | { kind: 'cannot-keep'; key: string; reason: string }
  | { kind: 'resync'; compactRevision: number }
  | { kind: 'note'; note: WatchNote };

export interface GuardOptions {
  readonly renewMarginSeconds: number;
  readonly recordsPrefix: string;
  readonly signal: AbortSignal;
  /** Carries a plan out (or only reports it, for --dry-run). */
  readonly apply: (
    plan: PlannedChange,
    replan: () => Promise<PlannedChange>,
  ) => Promise<ChangeResult>;
}

// A check a little after the margin is crossed, so a lease is judged once it is below it.
const CHECK_GRACE_MS = 1_000;
// How late a live flanneld may renew before the guard takes it for dead (at most half the margin).
const LATE_RENEWAL_GRACE_SECONDS = 300;
const RETRY_FAILED_REPAIR_MS = 5_000;
// Never repair one key twice within this, whatever the leases say (a margin longer than the
// lease would otherwise make the guard and a live host undo each other).
const MIN_HOLD_BACK_SECONDS = 60;
const MAX_TIMER_MS = 2 ** 31 - 1;

export async function guardReservations(
  backend: RegistryBackend,
  paths: NetworkPaths,
  options: GuardOptions,
  emit: (output: GuardOutput) => void,
): Promise<void> {
  const guard = new ReservationGuard(backend, paths, options, emit);
  try {
    await guard.run();
  } finally {
    guard.stopTimers();
  }
}

class ReservationGuard {
  private readonly health: WatchHealth;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per key, the time before which it is not repaired again (one renewal period). */
  private readonly heldBackUntil = new Map<string, number>();
  /** What was last said about a key the guard cannot keep. */
  private readonly reported = new Map<string, string>();
  private records?: Records;
  /** Checks run one at a time, in the order they were asked for. */
  private checks: Promise<void> = Promise.resolve();

  constructor(
    private readonly backend: RegistryBackend,
    private readonly paths: NetworkPaths,
    private readonly options: GuardOptions,
    private readonly emit: (output: GuardOutput) => void,
  ) {
    this.health = new WatchHealth(options.signal, (note) => emit({ kind: 'note', note }));
  }

  async run(): Promise<void> {
    const { signal } = this.options;
    while (!signal.aborted) {
      const listing = await this.health.untilDone('the subnets', () =>
        this.backend.listSubnets(this.paths.subnetsDir),
      );
      const records = await this.health.untilDone('the reservation records', () =>
        readRecords(this.backend, this.options.recordsPrefix, this.paths.prefix),
      );
      if (!listing || !records) return;

      this.records = records;
      this.emit({ kind: 'watching', records: records.byKey.size, revision: listing.revision });
      for (const key of records.byKey.keys()) this.enqueue(key);

      const compacted = await this.followFrom(listing.revision + 1);
      if (compacted === undefined) return;
      this.emit({ kind: 'resync', compactRevision: compacted });
    }
  }

  stopTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Follows the subnets until stopped; the compaction revision when etcd compacted past it. */
  private async followFrom(start: number): Promise<number | undefined> {
    const { signal } = this.options;
    const notices = this.backend.watchSubnets(this.paths.subnetsDir, start, signal);
    const compacted = await consumeWatch(notices, signal, this.health, async (events) => {
      for (const event of events) {
        const key = event.kind === 'put' ? event.subnet.key : event.key;
        await this.recordChanged(key);
        this.enqueue(key);
      }
    });
    await this.checks;
    return compacted;
  }

  // `reserve` writes a key and its record in one transaction, so the key's event is the moment
  // to look at its record again.
  private async recordChanged(key: string): Promise<void> {
    const records = this.records;
    if (!records) return;
    await this.health.untilDone('a reservation record', () =>
      refreshRecord(this.backend, records, key),
    );
  }

  private enqueue(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    this.checks = this.checks.then(() => this.check(key));
  }

  private async check(key: string): Promise<void> {
    const { signal } = this.options;
    const records = this.records;
    if (signal.aborted || !records?.byKey.has(key)) return;

    const subnet = subnetOfKey(key);
    const target = await this.health.untilDone(`the key ${key}`, () =>
      rereadTarget(this.backend, { subnet, key }),
    );
    if (!target) return;

    const options = { renewMarginSeconds: this.actingMarginSeconds(), recreateMissing: false };
    const plan = reapplyPlan(target, records, options);
    if (plan.verdict.kind !== 'change') {
      this.reportOnce(key, plan);
      this.checkAgainLater(key, target);
      return;
    }

    const heldBack = this.heldBackUntil.get(key) ?? 0;
    if (heldBack > Date.now()) {
      this.emit({ kind: 'held-back', key, untilMs: heldBack });
      this.schedule(key, heldBack - Date.now());
      return;
    }

    const replan = async () =>
      reapplyPlan(await rereadTarget(this.backend, target), records, options);
    const result = await this.options.apply(plan, replan);
    this.emit({ kind: 'result', result });
    if (result.status === 'failed') {
      // The host is gone and will send no event: try again while the lease still runs.
      this.schedule(key, RETRY_FAILED_REPAIR_MS);
    } else if (result.status === 'changed') {
      const granted = target.before.grantedTtlSeconds ?? 0;
      const periodSeconds = Math.max(
        MIN_HOLD_BACK_SECONDS,
        granted - this.options.renewMarginSeconds,
      );
      this.heldBackUntil.set(key, Date.now() + periodSeconds * 1000);
    }
  }

  /**
   * The guard acts a little after the renew margin is crossed, not at once: a live flanneld
   * that renews a few seconds late must not lose its lease.
   */
  private actingMarginSeconds(): number {
    const margin = this.options.renewMarginSeconds;
    return margin - Math.min(margin / 2, LATE_RENEWAL_GRACE_SECONDS);
  }

  /** A recorded reservation the guard cannot keep is said once, not at every check. */
  private reportOnce(key: string, plan: PlannedChange): void {
    const { verdict } = plan;
    const reason =
      verdict.kind === 'refused'
        ? verdict.reason
        : verdict.kind === 'unchanged' && !plan.before.exists
          ? verdict.reason
          : undefined;
    if (reason === this.reported.get(key)) return;

    if (reason === undefined) this.reported.delete(key);
    else {
      this.reported.set(key, reason);
      this.emit({ kind: 'cannot-keep', key, reason });
    }
  }

  /** A lease that is still renewed is looked at again once it would fall below the margin. */
  private checkAgainLater(key: string, target: Target): void {
    const { before } = target;
    if (before.leaseId === null || before.ttlSeconds === null || before.ttlSeconds <= 0) return;

    const secondsToMargin = before.ttlSeconds - this.actingMarginSeconds();
    this.schedule(key, Math.max(0, secondsToMargin * 1000) + CHECK_GRACE_MS);
  }

  private schedule(key: string, delayMs: number): void {
    if (this.options.signal.aborted) return;

    // Node fires a longer timeout at once; a check after the cap schedules the rest.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.enqueue(key);
      }, delayMs),
    );
  }
}
