// THE etcd connection of flanctl: every command gets its client here. It turns settings into
// calls with a deadline each and no hidden retries, and turns failures into FlanctlErrors with
// the documented exit codes.
//
// Reads (range, lease TimeToLive) go over node:http2 with hand-written protobuf (h2-channel.ts,
// wire.ts): listing a large network is one TimeToLive call per lease, and etcd3's layers over
// @grpc/grpc-js cost more CPU per call than etcd spends answering it. Everything else (writes,
// lease grants and revokes, watches) goes through etcd3, loaded on first use, so commands that
// only read never load etcd3, gRPC or protobufjs.
import http from 'node:http';
import https from 'node:https';

import type * as Etcd3Module from 'etcd3';
import type * as Etcd3Errors from 'etcd3/lib/errors.js';

import { FlanctlError } from '../errors.js';
import { type TlsCredentials, readCredentials } from './credentials.js';
import { H2Channel } from './h2-channel.js';
import { diagnoseUnavailable, reachableEndpoints } from './probe.js';
import { type ConnectionSettings, describe } from './settings.js';
import {
  decodeAuthenticateResponse,
  decodeLeaseTimeToLiveResponse,
  decodeRangeResponse,
  encodeAuthenticateRequest,
  encodeLeaseTimeToLiveRequest,
  encodeRangeRequest,
} from './wire.js';

export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  revision?: number;
  keysOnly?: boolean;
}

export interface KeyValue {
  key: string;
  value: string;
  /** Lease id in decimal, as etcd sends it; '0' for none. */
  lease: string;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  more: boolean;
  revision: number;
}

/** A condition a transaction checks: the key's mod revision, or that the key does not exist. */
export type Guard = { key: string; modRevision: number } | { key: string; absent: true };

export type WriteOp =
  | { put: { key: string; value: string; leaseDecimal?: string } }
  | { delete: { key: string } };

export interface LeaseTimeToLive {
  ttl: number;
  grantedTtl: number;
  keys: string[];
}

export interface WatchRequest {
  key: Buffer;
  rangeEnd: Buffer;
  startRevision: number;
}

/** One change as a watch reports it; a delete carries the key and the deleting revision. */
export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

/**
 * What a watch stream says: the watch exists (at store revision `revision`), changes (none:
 * a progress notice that everything up to `revision` was sent), or that etcd compacted the
 * history the watch was to start from. A stream that fails calls `failed` instead.
 */
export type WatchResponse =
  | { kind: 'created'; revision: number }
  | { kind: 'events'; revision: number; events: WatchEvent[] }
  | { kind: 'compacted'; compactRevision: number };

export interface WatchListener {
  response(response: WatchResponse): void;
  /** Called once, when the stream fails or etcd cancels the watch; never after close(). */
  failed(error: FlanctlError): void;
}

export interface WatchStream {
  close(): void;
}

// Large networks exceed gRPC's 4 MiB default in one reply even when read in pages of big values.
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const KEEPALIVE_TIME_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;

const RANGE = '/etcdserverpb.KV/Range';
const LEASE_TIME_TO_LIVE = '/etcdserverpb.Lease/LeaseTimeToLive';
const AUTHENTICATE = '/etcdserverpb.Auth/Authenticate';

// etcd3's error classes without the rest of etcd3: failures of the read path are cast to them,
// so one translation serves both paths. index.js re-exports this very module.
const loadErrors = (): Promise<typeof Etcd3Errors> => import('etcd3/lib/errors.js');

export class EtcdClient {
  private etcd3?: Promise<Etcd3Module.Etcd3>;
  private token?: Promise<string>;
  private closed = false;

  private constructor(
    readonly settings: ConnectionSettings,
    private readonly hosts: string[],
    private readonly credentials: TlsCredentials | undefined,
    private readonly channel: H2Channel,
  ) {}

  static async connect(settings: ConnectionSettings): Promise<EtcdClient> {
    const credentials = readCredentials(settings);
    const hosts = await reachableEndpoints(settings.endpoints.value, settings.dialTimeoutMs.value);
    const channel = new H2Channel({
      hosts,
      credentials,
      timeoutMs: settings.commandTimeoutMs.value,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });

    return new EtcdClient(settings, hosts, credentials, channel);
  }

  // etcd3 pulls in gRPC and protobuf; only commands that write or watch pay for loading them.
  private loadEtcd3(): Promise<Etcd3Module.Etcd3> {
    this.etcd3 ??= (async () => {
      const etcd = await import('etcd3');
      const { ConstantBackoff, handleWhen, noop, retry } = await import('cockatiel');
      const settings = this.settings;
      const hosts = this.hosts;
      const deadline = () => ({ deadline: Date.now() + settings.commandTimeoutMs.value });
      const client = new etcd.Etcd3({
        hosts,
        credentials: this.credentials,
        auth: settings.user
          ? {
              username: settings.user.value,
              password: settings.password?.value ?? '',
              callOptions: deadline,
            }
          : undefined,
        defaultCallOptions: deadline,
        // etcd3's default policy retries each call three times, which multiplies every
        // deadline. We only move on to the next endpoint when one refuses the call outright (a
        // member went down after the probe); a call that timed out is not repeated.
        faultHandling: {
          global:
            hosts.length > 1
              ? retry(
                  handleWhen((error) => error instanceof etcd.GRPCUnavailableError),
                  { maxAttempts: hosts.length - 1, backoff: new ConstantBackoff(0) },
                )
              : noop,
          host: () => noop,
        },
        grpcOptions: {
          'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
          'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
          // A watch sits idle for hours; pings find a connection that died without a word (a
          // host gone behind a firewall, a frozen etcd). etcd allows one ping per 5 s.
          'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
          'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
        },
      });
      if (this.closed) client.close();
      return client;
    })();

    return this.etcd3;
  }

  async range(request: RangeRequest): Promise<RangeResult> {
    return this.unary(RANGE, encodeRangeRequest(request), decodeRangeResponse);
  }

  /** TTL -1 means etcd does not know the lease (also for id 0); never an error. */
  async leaseTimeToLive(decimalId: string, withKeys = false): Promise<LeaseTimeToLive> {
    const request = encodeLeaseTimeToLiveRequest(decimalId, withKeys);
    return this.unary(LEASE_TIME_TO_LIVE, request, decodeLeaseTimeToLiveResponse);
  }

  /** One read over the HTTP/2 channel; a token etcd no longer knows is renewed once. */
  private async unary<T>(path: string, frame: Buffer, decode: (message: Buffer) => T) {
    let renewed = false;
    for (;;) {
      const token = this.settings.user ? this.authToken() : undefined;
      try {
        return decode(await this.channel.unary(path, frame, token && (await token)));
      } catch (error) {
        const errors = await loadErrors();
        const cast = errors.castGrpcError(error as Error);
        if (!(cast instanceof errors.EtcdInvalidAuthTokenError) || renewed) {
          throw await this.translate(cast);
        }

        // Calls in flight fail together: only the first asks for a new token.
        if (this.token === token) this.token = undefined;
        renewed = true;
      }
    }
  }

  // LIMITATION: etcd3 logs in on its own for writes and watches (it takes no token from
  // outside), so a command that reads and writes with --user authenticates twice.
  private authToken(): Promise<string> {
    if (!this.token) {
      const request = encodeAuthenticateRequest(
        this.settings.user?.value ?? '',
        this.settings.password?.value ?? '',
      );
      const token = this.channel.unary(AUTHENTICATE, request).then(decodeAuthenticateResponse);
      // A failed login is not kept: a watch that outlives an etcd restart logs in again.
      token.catch(() => {
        if (this.token === token) this.token = undefined;
      });
      this.token = token;
    }

    return this.token;
  }

  /** Every lease id (decimal) in the cluster; undefined when the server predates LeaseLeases. */
  async leaseIds(): Promise<string[] | undefined> {
    try {
      const response = await this.call((client) => client.leaseClient.leaseLeases());
      return response.leases.map((lease) => lease.ID);
    } catch (error) {
      if (
        error instanceof FlanctlError &&
        error.cause instanceof (await loadErrors()).GRPCNotImplementedError
      ) {
        return undefined;
      }

      throw error;
    }
  }

  /** One transaction: every op when every guard holds, nothing otherwise. */
  async guardedWrite(
    guards: Guard[],
    ops: WriteOp[],
  ): Promise<{ succeeded: boolean; revision: number }> {
    const compare = guards.map((guard) =>
      'absent' in guard
        ? {
            key: Buffer.from(guard.key),
            target: 'Version' as const,
            result: 'Equal' as const,
            version: 0,
          }
        : {
            key: Buffer.from(guard.key),
            target: 'Mod' as const,
            result: 'Equal' as const,
            mod_revision: guard.modRevision,
          },
    );
    const success = ops.map((op) =>
      'put' in op
        ? {
            request_put: {
              key: Buffer.from(op.put.key),
              value: Buffer.from(op.put.value),
              lease: op.put.leaseDecimal ?? '0',
            },
          }
        : { request_delete_range: { key: Buffer.from(op.delete.key) } },
    );

    const response = await this.call((client) => client.kv.txn({ compare, success, failure: [] }));
    return { succeeded: response.succeeded, revision: Number(response.header.revision) };
  }

  /** A new etcd lease; returns its id in decimal. */
  async leaseGrant(ttlSeconds: number): Promise<string> {
    const response = await this.call((client) =>
      client.leaseClient.leaseGrant({ TTL: ttlSeconds }),
    );
    return response.ID;
  }

  /** Revokes a lease (and deletes every key still attached). False when etcd no longer has it. */
  async leaseRevoke(decimalId: string): Promise<boolean> {
    try {
      await this.call((client) => client.leaseClient.leaseRevoke({ ID: decimalId }));
      return true;
    } catch (error) {
      const errors = await loadErrors();
      if (error instanceof FlanctlError && error.cause instanceof errors.EtcdLeaseInvalidError) {
        return false;
      }

      throw error;
    }
  }

  /**
   * The value at `key` in etcd's separate v2 store, over its HTTP API; `enabled` is false when
   * the server does not serve it (etcd 3.4 and later by default). Only asked for explicitly.
   */
  async v2Get(key: string): Promise<{ enabled: boolean; value?: string }> {
    const url = new URL(
      `/v2/keys${key.split('/').map(encodeURIComponent).join('/')}`,
      this.hosts[0],
    );
    const { status, body } = await this.httpGet(url);
    const answer = parseJsonObject(body);
    if (status === 200 && typeof answer?.node === 'object' && answer.node !== null) {
      const value = (answer.node as Record<string, unknown>).value;
      return { enabled: true, value: typeof value === 'string' ? value : undefined };
    }

    // v2's "Key not found" is errorCode 100; a server without v2 answers a plain 404 page.
    if (status === 404) return answer?.errorCode === 100 ? { enabled: true } : { enabled: false };
    if (status === 401 || status === 403) {
      throw new FlanctlError('denied', `etcd at ${url.origin} refused the v2 read of ${key}`);
    }

    throw new FlanctlError('unexpected', `etcd's v2 API answered ${status} for ${key}`);
  }

  private httpGet(url: URL): Promise<{ status: number; body: string }> {
    const transport = url.protocol === 'https:' ? https : http;
    const user = this.settings.user;
    const options: https.RequestOptions = {
      timeout: this.settings.commandTimeoutMs.value,
      ca: this.credentials?.rootCertificate ?? undefined,
      cert: this.credentials?.certChain,
      key: this.credentials?.privateKey,
      auth: user ? `${user.value}:${this.settings.password?.value ?? ''}` : undefined,
    };

    return new Promise((resolve, reject) => {
      const request = transport.get(url, options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) =>
        reject(
          new FlanctlError('unreachable', `v2 read from ${url.origin} failed: ${error.message}`),
        ),
      );
    });
  }

  /**
   * Opens one watch stream on a key range. It has no deadline: it lives until close(), a failure
   * or etcd cancelling it. It does not reconnect; src/etcd/watch.ts does that.
   */
  async openWatch(request: WatchRequest, listener: WatchListener): Promise<WatchStream> {
    // etcd3 renews an auth token etcd refuses (JWT tokens expire after a fixed time) only when
    // an ordinary etcd3 call is refused, never for a stream; reads go over the HTTP/2 channel
    // with a token of their own, so one etcd3 read comes first (test/integration/watch-auth).
    if (this.settings.user) {
      await this.call((client) => client.kv.range({ key: request.key, limit: 1, keys_only: true }));
    }

    const stream = await this.call((client) =>
      client.watchClient.watch({ deadline: Number.POSITIVE_INFINITY }),
    );
    const etcd = await loadErrors();
    let done = false;
    const fail = async (error: unknown) => {
      if (done) return;
      done = true;
      stream.cancel();
      const translated = await this.translate(etcd.castGrpcError(error as Error));
      listener.failed(translated);
    };

    stream.on('data', (response: Etcd3Module.IWatchResponse) => {
      if (done) return;
      const compactRevision = Number(response.compact_revision);
      if (compactRevision > 0) {
        done = true;
        stream.cancel();
        listener.response({ kind: 'compacted', compactRevision });
      } else if (response.canceled) {
        const reason = response.cancel_reason || 'etcd cancelled the watch';
        void fail(etcd.castGrpcErrorMessage(reason));
      } else {
        listener.response(toWatchResponse(response));
      }
    });
    stream.on('error', (error: Error) => void fail(error));
    stream.on('end', () => void fail(new etcd.EtcdWatchStreamEnded()));

    stream.write({
      create_request: {
        key: request.key,
        range_end: request.rangeEnd,
        start_revision: request.startRevision,
        progress_notify: true,
      },
    });
    return {
      close() {
        done = true;
        stream.cancel();
      },
    };
  }

  close(): void {
    this.closed = true;
    this.channel.close();
    void this.etcd3?.then((client) => client.close());
  }

  private async call<T>(operation: (client: Etcd3Module.Etcd3) => Promise<T>): Promise<T> {
    try {
      return await operation(await this.loadEtcd3());
    } catch (error) {
      throw await this.translate(error);
    }
  }

  private async translate(error: unknown): Promise<FlanctlError> {
    const etcd = await loadErrors();
    const endpoints = this.settings.endpoints.value.join(',');
    const cause = { cause: error };
    if (error instanceof FlanctlError) return error;

    if (
      error instanceof etcd.EtcdAuthenticationFailedError ||
      error instanceof etcd.GRPCUnauthenticatedError ||
      error instanceof etcd.EtcdInvalidAuthTokenError
    ) {
      const user = this.settings.user?.value ?? '(none)';
      return new FlanctlError(
        'denied',
        `etcd at ${endpoints} refused authentication for user ${user}`,
        'check --user/--password (or ETCDCTL_USER, FLANNELD_ETCD_USERNAME)',
        cause,
      );
    }

    if (error instanceof etcd.EtcdPermissionDeniedError) {
      const user = this.settings.user?.value ?? '(none)';
      return new FlanctlError(
        'denied',
        `etcd at ${endpoints} denied permission to user ${user}: ${firstLine(error)}`,
        `the user needs read access to ${this.settings.prefix.value}/`,
        cause,
      );
    }

    if (error instanceof etcd.GRPCDeadlineExceededError) {
      const timeout = this.settings.commandTimeoutMs;
      return new FlanctlError(
        'unreachable',
        `etcd at ${endpoints} did not answer within ${timeout.value}ms ` +
          `(command-timeout from ${describe(timeout.source)})`,
        undefined,
        cause,
      );
    }

    if (error instanceof etcd.GRPCUnavailableError) {
      return diagnoseUnavailable(this.settings, firstLine(error), cause);
    }

    // A read pinned to a revision that etcd compacted away meanwhile.
    if (error instanceof etcd.GRPCOutOfRangeError) {
      return new FlanctlError(
        'conflict',
        `etcd at ${endpoints} compacted the revision flanctl was reading: ${firstLine(error)}`,
        'the data changed underneath; run the command again',
        cause,
      );
    }

    // etcd refuses credentials when authentication is off; etcd3 gives this no class of its own.
    if (error instanceof etcd.GRPCFailedPreconditionError && this.settings.user) {
      return new FlanctlError(
        'usage',
        `etcd at ${endpoints} does not have authentication enabled but a user was given ` +
          `(${this.settings.user.value} from ${describe(this.settings.user.source)})`,
        'leave out --user and --password',
        cause,
      );
    }

    // etcd answers a request without credentials on an auth-enabled cluster this way.
    if (error instanceof etcd.GRPCInvalidArgumentError && !this.settings.user) {
      return new FlanctlError(
        'denied',
        `etcd at ${endpoints} rejected the request: ${firstLine(error)}`,
        'if the cluster has authentication enabled, give --user',
        cause,
      );
    }

    return new FlanctlError(
      'unexpected',
      `etcd call failed: ${firstLine(error)}`,
      undefined,
      cause,
    );
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function toWatchResponse(response: Etcd3Module.IWatchResponse): WatchResponse {
  const revision = Number(response.header.revision);
  if (response.created) return { kind: 'created', revision };

  const events = response.events.map(
    (event): WatchEvent => ({
      type: event.type === 'Delete' ? 'delete' : 'put',
      kv: toKeyValue(event.kv),
    }),
  );
  return { kind: 'events', revision, events };
}

function toKeyValue(kv: Etcd3Module.IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    lease: kv.lease,
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // gRPC appends an empty "Resolution note: " to connection errors.
  return message.split('\n')[0].replace(/\.?\s*Resolution note:\s*$/, '');
}
