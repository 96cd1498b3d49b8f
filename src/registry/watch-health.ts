// What a long-lived watch tells its operator about etcd going away and coming back, shared by
// `leases ls --watch` and `reserve --watch`: one note when the connection is lost, then one at
// most every 30 s while it stays lost, and one when the watch resumes.
import { pause, retryDelayMs } from '../etcd/watch.js';
import { FlanctlError } from '../errors.js';
import type { SubnetEvent, SubnetWatchNotice } from './backend.js';

export type WatchNote =
  | { kind: 'lost'; error: FlanctlError }
  | { kind: 'still-down'; error: FlanctlError; downSinceMs: number; retryInMs: number }
  | { kind: 'resumed'; fromRevision: number }
  | { kind: 'retrying'; what: string; error: FlanctlError; retryInMs: number }
  | { kind: 'key-deleted'; key: string; revision: number };

const STILL_DOWN_NOTE_INTERVAL_MS = 30_000;

export class WatchHealth {
  private downSinceMs?: number;
  private lastDownNoteMs = 0;
  /** When each retried read was last reported, so an outage is not one line per retry. */
  private readonly lastRetryNoteMs = new Map<string, number>();

  constructor(
    private readonly signal: AbortSignal,
    private readonly note: (note: WatchNote) => void,
  ) {}

  connected(fromRevision: number): void {
    if (this.downSinceMs === undefined) return;

    this.downSinceMs = undefined;
    this.note({ kind: 'resumed', fromRevision });
  }

  failed(error: FlanctlError, retryInMs: number): void {
    const nowMs = Date.now();
    if (this.downSinceMs === undefined) {
      this.downSinceMs = nowMs;
      this.lastDownNoteMs = nowMs;
      this.note({ kind: 'lost', error });
    } else if (nowMs - this.lastDownNoteMs >= STILL_DOWN_NOTE_INTERVAL_MS) {
      this.lastDownNoteMs = nowMs;
      this.note({ kind: 'still-down', error, downSinceMs: this.downSinceMs, retryInMs });
    }
  }

  /** Runs `operation` until it succeeds, retrying etcd failures; undefined when stopped. */
  async untilDone<T>(what: string, operation: () => Promise<T>): Promise<T | undefined> {
    for (let failures = 1; !this.signal.aborted; failures++) {
      try {
        return await operation();
      } catch (error) {
        if (!(error instanceof FlanctlError)) throw error;

        const retryInMs = retryDelayMs(failures);
        const nowMs = Date.now();
        if (nowMs - (this.lastRetryNoteMs.get(what) ?? 0) >= STILL_DOWN_NOTE_INTERVAL_MS) {
          this.lastRetryNoteMs.set(what, nowMs);
          this.note({ kind: 'retrying', what, error, retryInMs });
        }
        if (!(await pause(retryInMs, this.signal))) return undefined;
      }
    }

    return undefined;
  }
}

/**
 * Reads a subnets watch to its end: changes go to `onChanges`, connection news to `health`.
 * The compaction revision when etcd compacted past the watch (the caller lists again), else
 * undefined (stopped).
 */
export async function consumeWatch(
  notices: AsyncIterable<SubnetWatchNotice>,
  signal: AbortSignal,
  health: WatchHealth,
  onChanges: (events: SubnetEvent[]) => Promise<void>,
): Promise<number | undefined> {
  for await (const notice of notices) {
    if (signal.aborted) return undefined;

    switch (notice.kind) {
      case 'changes':
        await onChanges(notice.events);
        break;
      case 'connected':
        health.connected(notice.fromRevision);
        break;
      case 'failed':
        health.failed(notice.error, notice.retryInMs);
        break;
      case 'compacted':
        return notice.compactRevision;
    }
  }

  return undefined;
}
