// What flanctl needs from an etcd API. v3 is implemented; the v2 store is a later addition
// behind the same interface.
import type { LeaseTtl, StoredSubnet } from '../domain/lease-entry.js';
import type { FlanctlError } from '../errors.js';

export interface StoredValue {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
}

export interface SubnetListing {
  /** The store revision every page was read at. */
  readonly revision: number;
  readonly subnets: StoredSubnet[];
}

export interface LeaseDetails extends LeaseTtl {
  /** Every key attached to the lease, full paths. */
  readonly keys: string[];
}

export interface LeaseUsage extends LeaseTtl {
  readonly keyCount: number;
}

/** What a guarded write checks and does; see EtcdClient.guardedWrite. */
export type KeyGuard = { key: string; modRevision: number } | { key: string; absent: true };

export type KeyWrite =
  | { put: { key: string; value: string; leaseId: string | null } }
  | { delete: { key: string } };

/** One change under a watched dir; `revision` is the one that made it. */
export type SubnetEvent =
  | { kind: 'put'; revision: number; subnet: StoredSubnet }
  | { kind: 'delete'; revision: number; key: string; name: string };

/** What watchSubnets reports; see WatchNotice in src/etcd/watch.ts. */
export type SubnetWatchNotice =
  | { kind: 'changes'; events: SubnetEvent[] }
  | { kind: 'connected'; fromRevision: number }
  | { kind: 'failed'; error: FlanctlError; retryInMs: number }
  | { kind: 'compacted'; compactRevision: number; fromRevision: number };

export interface RegistryBackend {
  readonly api: 'v3';
  readValue(key: string): Promise<StoredValue | undefined>;
  /** Every key under `dir` (which ends in `/`), read in pages pinned to one revision. */
  listSubnets(dir: string): Promise<SubnetListing>;
  /** TimeToLive of each distinct lease id (hex), at most `maxInFlight` calls at a time. */
  leaseTtls(leaseIds: Iterable<string>, maxInFlight: number): Promise<Map<string, LeaseTtl>>;
  leaseDetails(leaseId: string): Promise<LeaseDetails>;
  /** One subnet key as stored, or undefined when it does not exist. */
  readSubnet(key: string, dir: string): Promise<StoredSubnet | undefined>;
  /** One transaction: all writes when every guard holds; `applied` false otherwise. */
  write(guards: KeyGuard[], writes: KeyWrite[]): Promise<{ applied: boolean; revision: number }>;
  /** A new etcd lease (hex id). */
  grantLease(ttlSeconds: number): Promise<string>;
  /** Revokes a lease that no key uses any more; returns the keys that still use it instead. */
  revokeIfUnused(leaseId: string): Promise<{ revoked: boolean; keys: string[] }>;
  /** Up to `limit` keys with values in [start, end) (end undefined: every key from start on). */
  readRange(start: string, end: string | undefined, limit: number): Promise<StoredValue[]>;
  /** Hex ids of every lease in the cluster; undefined when the server cannot list them. */
  listLeases(): Promise<string[] | undefined>;
  /** Key count and granted TTL of each lease, at most `maxInFlight` calls at a time. */
  leaseUsage(leaseIds: Iterable<string>, maxInFlight: number): Promise<Map<string, LeaseUsage>>;
  /** The value at `key` in etcd's v2 store; enabled false when the server has no v2 API. */
  readV2Value(key: string): Promise<{ enabled: boolean; text?: string }>;
  /** Up to `limit` key names of the whole keyspace, for hints when a prefix is empty. */
  sampleKeys(limit: number): Promise<string[]>;
  /**
   * Every change under `dir` from `startRevision` on, across etcd restarts, until `signal`
   * aborts or etcd compacted the history it needs (a `compacted` notice, then the end).
   */
  watchSubnets(
    dir: string,
    startRevision: number,
    signal: AbortSignal,
  ): AsyncIterable<SubnetWatchNotice>;
  close(): void;
}
