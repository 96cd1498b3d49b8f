// A watch that outlives etcd restarts: it reopens its stream after every failure, with backoff,
// from the revision after the last one it handed on, so no change is missed or repeated.
//
// etcd3's own Watcher is not used. It resumes from the header revision of the last response,
// and the "created" answer carries the store's current revision, not the watch's: a stream
// that fails between creation and its catch-up events would resume past them. It also turns
// a compaction into an untyped error and drops the compacted revision.
import { setTimeout as sleep } from 'node:timers/promises';

import type { FlanctlError } from '../errors.js';
import type {
  RangeRequest,
  RangeResult,
  WatchEvent,
  WatchListener,
  WatchRequest,
  WatchStream,
} from './client.js';

/** What a followed watch reports, in order. */
export type WatchNotice =
  /** Changes, in revision order; never empty. */
  | { kind: 'events'; events: WatchEvent[] }
  /** A stream is open and delivers everything from `fromRevision` on. */
  | { kind: 'connected'; fromRevision: number }
  /** The stream or the attempt to open one failed; the next try is in `retryInMs`. */
  | { kind: 'failed'; error: FlanctlError; retryInMs: number }
  /** etcd no longer has `fromRevision`; the watch ends here and the caller must list again. */
  | { kind: 'compacted'; compactRevision: number; fromRevision: number };

/** The part of EtcdClient a watch uses. */
export interface WatchingClient {
  openWatch(request: WatchRequest, listener: WatchListener): Promise<WatchStream>;
  range(request: RangeRequest): Promise<RangeResult>;
}

export interface WatchTarget {
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
  readonly startRevision: number;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

/** Delay before the `failures`-th consecutive retry: doubling from 250 ms up to 5 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * Follows a key range until `signal` aborts (the iteration then ends) or etcd compacted the
 * revision it needs (a `compacted` notice ends it). Failures are reported and retried, never
 * thrown: a watch is for someone waiting on changes, who stops it with Ctrl-C.
 */
export function followRange(
  client: WatchingClient,
  target: WatchTarget,
  signal: AbortSignal,
): AsyncIterable<WatchNotice> {
  // Also ends when the reader stops reading, so no stream is left reconnecting behind its back.
  const stop = new AbortController();
  if (signal.aborted) stop.abort();
  signal.addEventListener('abort', () => stop.abort(), { once: true, signal: stop.signal });

  const queue = new NoticeQueue<WatchNotice>(() => stop.abort());
  stop.signal.addEventListener('abort', () => queue.end(), { once: true });
  void follow(client, target, stop.signal, queue).finally(() => stop.abort());
  return queue;
}

type StreamOutcome =
  | { kind: 'stopped' }
  | { kind: 'failed'; error: FlanctlError }
  | { kind: 'compacted'; compactRevision: number };

async function follow(
  client: WatchingClient,
  target: WatchTarget,
  signal: AbortSignal,
  queue: NoticeQueue<WatchNotice>,
): Promise<void> {
  let lastRevision = target.startRevision - 1;
  let failures = 0;

  const listener = {
    created() {
      failures = 0;
      queue.push({ kind: 'connected', fromRevision: lastRevision + 1 });
    },
    events(revision: number, events: WatchEvent[]) {
      // A progress notice (no events) vouches for everything up to its revision.
      const last = events.length > 0 ? events[events.length - 1].kv.modRevision : revision;
      lastRevision = Math.max(lastRevision, last);
      if (events.length > 0) queue.push({ kind: 'events', events });
    },
  };

  while (!signal.aborted) {
    const outcome =
      failures === 0
        ? await streamOnce(client, { ...target, startRevision: lastRevision + 1 }, signal, listener)
        : await reopen(client, target, lastRevision, signal, listener);
    if (outcome.kind === 'stopped') return;

    if (outcome.kind === 'compacted') {
      const { compactRevision } = outcome;
      queue.push({ kind: 'compacted', compactRevision, fromRevision: lastRevision + 1 });
      return;
    }

    failures++;
    queue.push({ kind: 'failed', error: outcome.error, retryInMs: retryDelayMs(failures) });
    if (!(await pause(retryDelayMs(failures), signal))) return;
  }
}

interface StreamListener {
  created(): void;
  events(revision: number, events: WatchEvent[]): void;
}

// A read before each new stream: etcd3 renews an auth token etcd refuses (JWT tokens expire
// after a fixed time) only when an ordinary call is refused, never for a stream, which would
// then be refused at every try (test/integration/watch-auth.test.ts).
async function reopen(
  client: WatchingClient,
  target: WatchTarget,
  lastRevision: number,
  signal: AbortSignal,
  listener: StreamListener,
): Promise<StreamOutcome> {
  try {
    await client.range({ key: target.key, limit: 1, keysOnly: true });
  } catch (error) {
    return { kind: 'failed', error: error as FlanctlError };
  }

  if (signal.aborted) return { kind: 'stopped' };
  return streamOnce(client, { ...target, startRevision: lastRevision + 1 }, signal, listener);
}

/** One stream, from opening to its end. */
function streamOnce(
  client: WatchingClient,
  request: WatchRequest,
  signal: AbortSignal,
  listener: StreamListener,
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    let stream: WatchStream | undefined;
    const stop = () => {
      stream?.close();
      resolve({ kind: 'stopped' });
    };
    signal.addEventListener('abort', stop, { once: true });
    const finish = (outcome: StreamOutcome) => {
      signal.removeEventListener('abort', stop);
      stream?.close();
      resolve(outcome);
    };

    client
      .openWatch(request, {
        response(response) {
          if (response.kind === 'created') listener.created();
          else if (response.kind === 'events') listener.events(response.revision, response.events);
          else finish({ kind: 'compacted', compactRevision: response.compactRevision });
        },
        failed: (error) => finish({ kind: 'failed', error }),
      })
      .then(
        (opened) => {
          stream = opened;
          if (signal.aborted) opened.close();
        },
        (error: FlanctlError) => finish({ kind: 'failed', error }),
      );
  });
}

/** Waits `ms`; false when `signal` aborted meanwhile. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Notices pushed by the stream's callbacks, read by one `for await` loop. */
class NoticeQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  private ended = false;

  /** `onReturn` runs when the reader leaves its loop early. */
  constructor(private readonly onReturn: () => void) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const wake = this.waiting;
      this.waiting = undefined;
      wake({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.ended = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiting = resolve));
      },
      return: () => {
        this.onReturn();
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
