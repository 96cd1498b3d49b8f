// What a long-lived watch tells its operator about etcd going away and coming back, shared by
// `leases ls --watch` and `reserve --watch`: one note when the connection is lost, then one at
// most every 30 s while it stays lost, and one when the watch resumes.
import { pause, retryDelayMs } from '../etcd/watch.js';
import { FlanctlError } from '../errors.js';

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
        this.note({ kind: 'retrying', what, error, retryInMs });
        if (!(await pause(retryInMs, this.signal))) return undefined;
      }
    }

    return undefined;
  }
}
