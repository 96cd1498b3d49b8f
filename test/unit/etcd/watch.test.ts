// The resuming watch of src/etcd/watch.ts over a scripted client: which revision each new stream
// starts from, what it reports, and how it ends. (Against a real etcd, restarts and compactions
// are covered by test/commands/leases-watch.test.ts.)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import type {
  KeyValue,
  RangeResult,
  WatchEvent,
  WatchListener,
  WatchRequest,
} from '../../../src/etcd/client.js';
import {
  type WatchNotice,
  type WatchingClient,
  followRange,
  retryDelayMs,
} from '../../../src/etcd/watch.js';
import { FlanctlError } from '../../../src/errors.js';

const WAIT_MS = 5_000;

/** Records every stream it is asked to open; the test answers through its listener. */
class ScriptedClient implements WatchingClient {
  readonly requests: WatchRequest[] = [];
  readonly listeners: WatchListener[] = [];
  closed = 0;
  reads = 0;
  failingReads = 0;

  async openWatch(request: WatchRequest, listener: WatchListener) {
    this.requests.push(request);
    this.listeners.push(listener);
    return { close: () => void this.closed++ };
  }

  async range(): Promise<RangeResult> {
    this.reads++;
    if (this.failingReads > 0) {
      this.failingReads--;
      throw new FlanctlError('unreachable', 'etcd at http://127.0.0.1:1 is unavailable');
    }
    return { kvs: [], more: false, revision: 1 };
  }

  /** The listener of the n-th stream (from 1), once it was opened. */
  async stream(n: number): Promise<WatchListener> {
    await until(() => this.listeners.length >= n, `stream ${n} to be opened`);
    return this.listeners[n - 1];
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`);
    await sleep(5);
  }
}

function put(key: string, modRevision: number): WatchEvent {
  const kv: KeyValue = { key, value: 'v', lease: '0', createRevision: 2, modRevision, version: 1 };
  return { type: 'put', kv };
}

const dropped = new FlanctlError('unreachable', 'etcd at http://127.0.0.1:1 is unavailable');

function start(client: ScriptedClient, startRevision: number) {
  const stop = new AbortController();
  const target = { key: Buffer.from('/k/'), rangeEnd: Buffer.from('/k0'), startRevision };
  const iterator = followRange(client, target, stop.signal)[Symbol.asyncIterator]();
  const next = async (): Promise<WatchNotice | undefined> => {
    const result = await iterator.next();
    return result.done ? undefined : result.value;
  };
  return { stop, next };
}

describe('followRange', () => {
  test('opens its first stream at the start revision', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);

    (await client.stream(1)).response({ kind: 'created', revision: 50 });

    assert.deepEqual(await watch.next(), { kind: 'connected', fromRevision: 11 });
    assert.equal(client.requests[0].startRevision, 11);
    assert.deepEqual(client.requests[0].key, Buffer.from('/k/'));
    assert.deepEqual(client.requests[0].rangeEnd, Buffer.from('/k0'));
    watch.stop.abort();
  });

  test('hands on events and resumes after the last one, not at the store revision', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);
    const first = await client.stream(1);
    first.response({ kind: 'created', revision: 50 });
    first.response({ kind: 'events', revision: 50, events: [put('/k/a', 11), put('/k/b', 12)] });
    first.failed(dropped);

    assert.deepEqual(await watch.next(), { kind: 'connected', fromRevision: 11 });
    assert.deepEqual(await watch.next(), {
      kind: 'events',
      events: [put('/k/a', 11), put('/k/b', 12)],
    });
    assert.deepEqual(await watch.next(), {
      kind: 'failed',
      error: dropped,
      retryInMs: retryDelayMs(1),
    });

    (await client.stream(2)).response({ kind: 'created', revision: 50 });
    assert.deepEqual(await watch.next(), { kind: 'connected', fromRevision: 13 });
    assert.equal(client.requests[1].startRevision, 13);
    watch.stop.abort();
  });

  test('a stream that fails before it was created starts again at the same revision', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);
    (await client.stream(1)).failed(dropped);

    (await client.stream(2)).failed(dropped);
    await client.stream(3);

    assert.deepEqual(
      client.requests.map((request) => request.startRevision),
      [11, 11, 11],
    );
    assert.equal((await watch.next())?.kind, 'failed');
    assert.deepEqual(await watch.next(), {
      kind: 'failed',
      error: dropped,
      retryInMs: retryDelayMs(2),
    });
    watch.stop.abort();
  });

  test('a progress notice vouches for every revision up to its own', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);
    const first = await client.stream(1);
    first.response({ kind: 'created', revision: 50 });
    first.response({ kind: 'events', revision: 60, events: [] });
    first.failed(dropped);

    await client.stream(2);
    assert.equal(client.requests[1].startRevision, 61);
    assert.equal((await watch.next())?.kind, 'connected');
    assert.equal((await watch.next())?.kind, 'failed', 'a progress notice is not handed on');
    watch.stop.abort();
  });

  test('reads once before every new stream, and retries when that read fails', async () => {
    const client = new ScriptedClient();
    client.failingReads = 1;
    const watch = start(client, 11);
    (await client.stream(1)).failed(dropped);

    await client.stream(2);
    assert.equal(client.reads, 2);
    assert.equal((await watch.next())?.kind, 'failed');
    assert.equal((await watch.next())?.kind, 'failed', 'the failed read is reported');
    watch.stop.abort();
  });

  test('ends after a compaction, naming the revision it could not start from', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);
    const first = await client.stream(1);
    first.response({ kind: 'created', revision: 50 });
    first.response({ kind: 'events', revision: 50, events: [put('/k/a', 14)] });
    first.failed(dropped);
    (await client.stream(2)).response({ kind: 'compacted', compactRevision: 40 });

    const kinds: string[] = [];
    let notice: WatchNotice | undefined;
    while ((notice = await watch.next()) !== undefined) {
      kinds.push(notice.kind);
      if (notice.kind === 'compacted') {
        assert.deepEqual(notice, { kind: 'compacted', compactRevision: 40, fromRevision: 15 });
      }
    }

    assert.deepEqual(kinds, ['connected', 'events', 'failed', 'compacted']);
    assert.equal(client.requests.length, 2, 'no stream after the compaction');
  });

  test('ends when stopped, closing its stream', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);
    (await client.stream(1)).response({ kind: 'created', revision: 50 });
    assert.equal((await watch.next())?.kind, 'connected');

    watch.stop.abort();

    assert.equal(await watch.next(), undefined);
    await until(() => client.closed === 1, 'the stream to be closed');
  });

  test('stops following when its reader leaves the loop', async () => {
    const client = new ScriptedClient();
    const stop = new AbortController();
    const target = { key: Buffer.from('/k/'), rangeEnd: Buffer.from('/k0'), startRevision: 11 };
    void client.stream(1).then((listener) => listener.response({ kind: 'created', revision: 50 }));

    for await (const notice of followRange(client, target, stop.signal)) {
      assert.equal(notice.kind, 'connected');
      break;
    }

    await until(() => client.closed === 1, 'the stream to be closed');
    assert.equal(stop.signal.aborted, false, "the caller's signal is left alone");
  });

  test('ends when stopped while waiting to retry', async () => {
    const client = new ScriptedClient();
    const watch = start(client, 11);
    (await client.stream(1)).failed(dropped);
    assert.equal((await watch.next())?.kind, 'failed');

    watch.stop.abort();

    assert.equal(await watch.next(), undefined);
    await sleep(retryDelayMs(1) * 2);
    assert.equal(client.requests.length, 1, 'no stream after stopping');
  });
});

describe('retryDelayMs', () => {
  test('doubles from 250 ms and stops at 5 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 50].map(retryDelayMs);
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  });
});
