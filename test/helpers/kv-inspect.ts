// Reads and writes a test etcd behind flanctl's back: the exact bytes, lease and revisions of a
// key, the store revision, which etcd leases exist, and keys put the way flanneld puts them; and
// etcdctl, for set-ups flanctl has no command for (users, roles, auth) and to see what the
// helpers wrote the way an operator would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import type { Etcd3 } from 'etcd3';

import { CONFIG_10_5, hexLeaseIdToDecimal, withRawClient } from './seed.js';

const execFileAsync = promisify(execFile);

export interface KeyState {
  key: string;
  value: Buffer;
  /** Hex lease id as etcdctl prints it (16 digits), or null for lease 0. */
  leaseHex: string | null;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface LeaseState {
  /** Remaining seconds; etcd answers -1 for a lease that does not exist. */
  ttl: number;
  grantedTtl: number;
  /** The keys attached, in key order, so that several compare the same however etcd lists them. */
  keys: string[];
}

/** etcd's lease ids are int64 on the wire; hex is how etcdctl and flanctl print them. */
export function leaseHexFromDecimal(decimal: string): string {
  return BigInt.asUintN(64, BigInt(decimal)).toString(16).padStart(16, '0');
}

export function leaseDecimalFromHex(hex: string): string {
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString(10);
}

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix, 'utf8');
  end[end.length - 1] += 1;
  return end;
}

function toKeyState(kv: {
  key: Buffer;
  value: Buffer;
  lease: string;
  create_revision: string;
  mod_revision: string;
  version: string;
}): KeyState {
  return {
    key: kv.key.toString('utf8'),
    value: Buffer.from(kv.value),
    leaseHex: kv.lease === '0' ? null : leaseHexFromDecimal(kv.lease),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
  };
}

/** One key as stored (optionally as of an older revision), or undefined when absent. */
export async function readKey(
  endpoint: string,
  key: string,
  revision?: number,
): Promise<KeyState | undefined> {
  return withRawClient(endpoint, async (client) => {
    const response = await client.kv.range({ key: Buffer.from(key, 'utf8'), revision });
    const kv = response.kvs[0];
    return kv ? toKeyState(kv) : undefined;
  });
}

/** One key that must exist. */
export async function existingKey(endpoint: string, key: string): Promise<KeyState> {
  const state = await readKey(endpoint, key);
  assert.ok(state, `${key} does not exist`);
  return state;
}

export async function assertKeyGone(endpoint: string, key: string): Promise<void> {
  assert.equal(await readKey(endpoint, key), undefined, `${key} still exists`);
}

/** Every key starting with `prefix`, in key order. */
export async function keysUnder(endpoint: string, prefix: string): Promise<KeyState[]> {
  return withRawClient(endpoint, async (client) => {
    const response = await client.kv.range({
      key: Buffer.from(prefix, 'utf8'),
      range_end: prefixEnd(prefix),
    });
    return response.kvs.map(toKeyState);
  });
}

/** The store revision: it moves with every write anywhere in this etcd. */
export async function storeRevision(endpoint: string): Promise<number> {
  return withRawClient(endpoint, async (client) => {
    const response = await client.kv.range({ key: Buffer.from('\0', 'utf8') });
    return Number(response.header.revision);
  });
}

export async function leaseState(endpoint: string, leaseHex: string): Promise<LeaseState> {
  return withRawClient(endpoint, async (client) => {
    const response = await client.leaseClient.leaseTimeToLive({
      ID: leaseDecimalFromHex(leaseHex),
      keys: true,
    });
    return {
      ttl: Number(response.TTL),
      grantedTtl: Number(response.grantedTTL),
      keys: (response.keys ?? []).map((key) => Buffer.from(key).toString('utf8')).sort(),
    };
  });
}

export async function assertLeaseRevoked(
  endpoint: string,
  leaseHex: string,
  what: string,
): Promise<void> {
  const state = await leaseState(endpoint, leaseHex);
  assert.equal(state.ttl, -1, `${what}: lease ${leaseHex} still exists with TTL ${state.ttl}`);
}

/** assertLeaseRevoked, and etcd does not list the lease among its leases either. */
export async function assertLeaseGone(
  endpoint: string,
  leaseHex: string,
  what = 'the lease',
): Promise<void> {
  await assertLeaseRevoked(endpoint, leaseHex, what);
  assert.equal((await leaseIds(endpoint)).has(leaseHex), false, `${leaseHex} is listed`);
}

export async function assertLeaseAlive(
  endpoint: string,
  leaseHex: string,
  what: string,
): Promise<LeaseState> {
  const state = await leaseState(endpoint, leaseHex);
  assert.ok(state.ttl > 0, `${what}: lease ${leaseHex} is gone (TTL ${state.ttl})`);
  return state;
}

/** Every lease this etcd knows, in hex. */
export async function leaseIds(endpoint: string): Promise<Set<string>> {
  return withRawClient(endpoint, async (client) => {
    const response = await client.leaseClient.leaseLeases();
    return new Set(response.leases.map((lease) => leaseHexFromDecimal(lease.ID)));
  });
}

export async function grantLeaseWith(client: Etcd3, ttlSeconds: number): Promise<string> {
  const response = await client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: '0' });
  return leaseHexFromDecimal(response.ID);
}

/** Grants a lease with the id `leaseHex` chosen by the test, as a field case names its leases. */
export async function grantLeaseWithId(
  endpoint: string,
  leaseHex: string,
  ttlSeconds = 86_400,
): Promise<void> {
  await withRawClient(endpoint, async (client) => {
    const response = await client.leaseClient.leaseGrant({
      ID: hexLeaseIdToDecimal(leaseHex),
      TTL: ttlSeconds,
    });
    assert.equal(response.error ?? '', '', `lease grant failed: ${response.error}`);
  });
}

/** Puts a key the way flanneld does: its value, attached to `leaseHex` (or no lease). */
export async function putWith(
  client: Etcd3,
  key: string,
  value: string | Buffer,
  leaseHex: string | null,
): Promise<number> {
  const response = await client.kv.put({
    key: Buffer.from(key, 'utf8'),
    value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
    lease: leaseHex === null ? '0' : leaseDecimalFromHex(leaseHex),
  });
  return Number(response.header.revision);
}

/** putWith on a client of its own; returns the store revision of the put. */
export async function putKey(
  endpoint: string,
  key: string,
  value: string | Buffer,
  leaseHex: string | null = null,
): Promise<number> {
  return withRawClient(endpoint, (client) => putWith(client, key, value, leaseHex));
}

/** Deletes one key; returns the store revision of the delete. */
export async function deleteKey(endpoint: string, key: string): Promise<number> {
  return withRawClient(endpoint, async (client) => {
    const response = await client.kv.deleteRange({ key: Buffer.from(key, 'utf8') });
    return Number(response.header.revision);
  });
}

/** Compacts the history up to the current revision (and waits until it is applied); returns it. */
export async function compactHistory(endpoint: string): Promise<number> {
  const revision = await storeRevision(endpoint);
  await withRawClient(endpoint, (client) => client.kv.compact({ revision, physical: true }));
  return revision;
}

/** flanneld's renewal: a fresh lease and the same key put again with it; the old lease stays. */
export async function renewLikeFlanneld(
  endpoint: string,
  key: string,
  value: string | Buffer,
  ttlSeconds: number,
): Promise<string> {
  return withRawClient(endpoint, async (client) => {
    const leaseHex = await grantLeaseWith(client, ttlSeconds);
    await putWith(client, key, value, leaseHex);
    return leaseHex;
  });
}

export interface PutSpec {
  key: string;
  value: string;
  /** Name of a lease shared by the puts that give the same name; omitted: no lease. */
  lease?: string;
  ttl?: number;
}

/** Writes keys with leases granted by etcd (fresh ids), returning the hex id of each lease name. */
export async function putKeys(endpoint: string, specs: PutSpec[]): Promise<Map<string, string>> {
  return withRawClient(endpoint, async (client) => {
    const leases = new Map<string, string>();
    for (const spec of specs) {
      let leaseHex: string | null = null;
      if (spec.lease !== undefined) {
        leaseHex = leases.get(spec.lease) ?? (await grantLeaseWith(client, spec.ttl ?? 86_400));
        leases.set(spec.lease, leaseHex);
      }

      await putWith(client, spec.key, spec.value, leaseHex);
    }

    return leases;
  });
}

/** The network config (10.5.0.0/16, vxlan) under `prefix` and then the keys of `specs`. */
export async function seedNetwork(
  endpoint: string,
  prefix: string,
  specs: PutSpec[],
): Promise<Map<string, string>> {
  return putKeys(endpoint, [{ key: `${prefix}/config`, value: CONFIG_10_5 }, ...specs]);
}

/**
 * Runs `work` and checks that it wrote nothing: the store revision stays where it was and, with
 * sameLeases, so does the set of etcd leases (granting a lease moves no revision).
 */
export async function assertNothingWritten(
  endpoint: string,
  work: () => Promise<void>,
  options: { sameLeases?: boolean } = {},
): Promise<void> {
  const revisionBefore = await storeRevision(endpoint);
  const leasesBefore = options.sameLeases ? await leaseIds(endpoint) : undefined;
  await work();
  assert.equal(await storeRevision(endpoint), revisionBefore, 'something was written');
  if (leasesBefore !== undefined) {
    assert.deepEqual(
      [...(await leaseIds(endpoint))].sort(),
      [...leasesBefore].sort(),
      'the set of etcd leases changed',
    );
  }
}

const ETCDCTL_TIMEOUT_MS = 10_000;

/** etcdctl's stdout; a failure carries etcdctl's stderr. */
export async function etcdctl(endpoint: string, args: string[]): Promise<string> {
  // Only our own endpoint and API version: no ETCDCTL_* from the developer's shell.
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('ETCDCTL_')) {
      environment[name] = value;
    }
  }
  environment.ETCDCTL_API = '3';

  try {
    const { stdout } = await execFileAsync('etcdctl', [`--endpoints=${endpoint}`, ...args], {
      env: environment,
      timeout: ETCDCTL_TIMEOUT_MS,
    });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`etcdctl ${args[0]} ${args[1] ?? ''} failed: ${stderr || error}`);
  }
}
