// What the tests write into their etcd. A field case's etcd-state file, written the way flanneld
// would have left it: plain keys for reservations and config, keys attached to leases otherwise.
// And the names and values of the tests' own networks: a prefix of its own for each group of
// tests, subnet keys under it, and lease values as flanneld writes them.
import fs from 'node:fs';
import path from 'node:path';
import { Etcd3 } from 'etcd3';

import { repoRoot } from './cli.js';

/** flannel's default etcd prefix, which the field cases are written under. */
export const CASE_PREFIX = '/coreos.com/network';

/** A plain vxlan network config for 10.5.0.0/16, the network of most field cases. */
export const CONFIG_10_5 = '{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}';

/**
 * A prefix of its own for one group of tests, e.g. testPrefix('show', 'c09') is
 * /t-show-c09/coreos.com/network: groups that share one etcd never see each other's keys.
 */
export function testPrefix(...parts: string[]): string {
  return `/t-${parts.join('-')}${CASE_PREFIX}`;
}

/** The key of subnet `name` (e.g. 10.5.1.0-24) under `prefix`. */
export function subnetKey(prefix: string, name: string): string {
  return `${prefix}/subnets/${name}`;
}

/** A lease's value as flanneld's vxlan backend writes it: flannel's LeaseAttrs in JSON. */
export function vxlanAttrs(publicIP: string, vtepMac: string): string {
  return JSON.stringify({
    PublicIP: publicIP,
    PublicIPv6: null,
    BackendType: 'vxlan',
    BackendData: { VNI: 1, VtepMAC: vtepMac },
  });
}

/** The least a lease's value needs to be listed: the host and the backend type. */
export function leaseValue(publicIP: string, backendType = 'vxlan'): string {
  return JSON.stringify({ PublicIP: publicIP, BackendType: backendType, BackendData: null });
}

export interface SeedEntry {
  key: string;
  value: string;
  ttl: number | null;
  lease?: string;
  granted_ttl?: number;
  note?: string;
}

export interface SeedOptions {
  rewritePrefix?: { from: string; to: string };
}

// Bounds the requests in flight so a large case neither runs serially nor floods etcd.
const WRITE_CONCURRENCY = 32;
// Without a deadline a wedged etcd would hang the test until the runner gives up.
const CALL_DEADLINE_MS = 10_000;
const HEX_LEASE_ID = /^[0-9a-f]{1,16}$/i;

/**
 * A seeded lease is granted with the remaining TTL the case names, and a few seconds pass before
 * flanctl asks for it: a remaining TTL is checked against a window this wide below the seeded one.
 */
export const TTL_SLACK_SECONDS = 120;

/**
 * The field cases live in the team's shared/cases; test/fixtures/cases keeps a byte-exact copy
 * so a clone runs its tests anywhere (test/helpers/fixtures.test.ts checks the copy is current).
 */
export function caseStatePath(caseId: string, file = 'etcd-state.json'): string {
  return path.join(repoRoot(), 'test', 'fixtures', 'cases', caseId, file);
}

export function loadCaseState(caseId: string, file?: string): SeedEntry[] {
  const statePath = caseStatePath(caseId, file);
  if (!fs.existsSync(statePath)) {
    throw new Error(`case state file not found: ${statePath}`);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(statePath, 'utf8'));
  } catch (error) {
    throw new Error(`case state file ${statePath} is not valid JSON: ${(error as Error).message}`);
  }

  if (!Array.isArray(parsed)) {
    throw new Error(`case state file ${statePath} must hold a JSON array`);
  }
  return parsed.map((item, index) => checkEntry(item, `${statePath} [${index}]`));
}

function checkEntry(item: unknown, where: string): SeedEntry {
  if (typeof item !== 'object' || item === null) {
    throw new Error(`${where}: entry must be an object`);
  }

  const entry = item as Record<string, unknown>;
  if (typeof entry.key !== 'string' || typeof entry.value !== 'string') {
    throw new Error(`${where}: "key" and "value" must be strings`);
  }
  if (entry.ttl !== null && typeof entry.ttl !== 'number') {
    throw new Error(`${where}: "ttl" must be a number or null`);
  }
  if (entry.lease !== undefined && typeof entry.lease !== 'string') {
    throw new Error(`${where}: "lease" must be a hex string`);
  }
  if (entry.granted_ttl !== undefined && typeof entry.granted_ttl !== 'number') {
    throw new Error(`${where}: "granted_ttl" must be a number`);
  }
  if (entry.note !== undefined && typeof entry.note !== 'string') {
    throw new Error(`${where}: "note" must be a string`);
  }
  return entry as unknown as SeedEntry;
}

export async function withRawClient<T>(
  endpoint: string,
  fn: (client: Etcd3) => Promise<T>,
): Promise<T> {
  const client = new Etcd3({
    hosts: endpoint,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS },
  });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

// One etcd lease to create: its decimal id as etcd's gRPC API wants it, and its TTL.
interface LeasePlan {
  decimalId: string | undefined;
  ttlSeconds: number;
  description: string;
}

interface PutPlan {
  key: string;
  value: Buffer;
  lease: LeasePlan | undefined;
}

export async function seedState(
  endpoint: string,
  entries: SeedEntry[],
  options: SeedOptions = {},
): Promise<void> {
  // Plan everything first so an unbuildable entry fails before anything is written.
  const puts = planPuts(entries, options);
  const leases = [...new Set(puts.flatMap((put) => (put.lease ? [put.lease] : [])))];

  await withRawClient(endpoint, async (client) => {
    const grantedIds = new Map<LeasePlan, string>();
    await forEachLimited(leases, async (lease) => {
      grantedIds.set(lease, await grantLease(client, lease));
    });

    await forEachLimited(puts, async (put) => {
      const leaseId = put.lease === undefined ? '0' : grantedIds.get(put.lease);
      await client.kv.put({ key: Buffer.from(put.key, 'utf8'), value: put.value, lease: leaseId });
    });
  });
}

/** Seeds a field case's entries with their keys moved from the case prefix to `prefix`. */
export async function seedCaseAt(
  endpoint: string,
  prefix: string,
  entries: SeedEntry[],
): Promise<void> {
  await seedState(endpoint, entries, { rewritePrefix: { from: CASE_PREFIX, to: prefix } });
}

/**
 * A network under `prefix`: its config (none when undefined) and the given entries, whose keys
 * are subnet names such as 10.5.34.0-24.
 */
export async function seedNetworkAt(
  endpoint: string,
  prefix: string,
  config: string | undefined,
  subnets: SeedEntry[] = [],
): Promise<void> {
  const entries = subnets.map((entry) => ({ ...entry, key: subnetKey(prefix, entry.key) }));
  if (config !== undefined) entries.push({ key: `${prefix}/config`, value: config, ttl: null });
  await seedState(endpoint, entries);
}

function planPuts(entries: SeedEntry[], options: SeedOptions): PutPlan[] {
  const leasesByHexId = new Map<string, LeasePlan>();

  return entries.map((entry) => {
    const key = rewriteKey(entry.key, options.rewritePrefix);
    const value = Buffer.from(entry.value, 'utf8');
    if (entry.ttl === null) {
      return { key, value, lease: undefined };
    }

    if (!Number.isInteger(entry.ttl) || entry.ttl <= 0) {
      throw new Error(
        `cannot seed ${entry.key}: ttl ${entry.ttl} cannot be built in a real etcd` +
          ' (a lease needs a positive whole number of seconds); skip this entry',
      );
    }

    if (entry.lease === undefined) {
      const lease = { decimalId: undefined, ttlSeconds: entry.ttl, description: 'new lease' };
      return { key, value, lease };
    }

    const hexId = entry.lease.toLowerCase();
    const known = leasesByHexId.get(hexId);
    if (known === undefined) {
      const lease = {
        decimalId: hexLeaseIdToDecimal(entry.lease),
        ttlSeconds: entry.ttl,
        description: `lease ${hexId}`,
      };
      leasesByHexId.set(hexId, lease);
      return { key, value, lease };
    }

    // One etcd lease has one TTL; a case that says otherwise cannot be reproduced.
    if (known.ttlSeconds !== entry.ttl) {
      throw new Error(
        `cannot seed ${entry.key}: lease ${hexId} is listed with ttl ${known.ttlSeconds}` +
          ` and ${entry.ttl}; keys sharing a lease share its TTL`,
      );
    }
    return { key, value, lease: known };
  });
}

function rewriteKey(key: string, rewrite: SeedOptions['rewritePrefix']): string {
  if (rewrite === undefined || !key.startsWith(rewrite.from)) {
    return key;
  }
  return rewrite.to + key.slice(rewrite.from.length);
}

// etcd lease ids are int64 and usually above 2^53, so go through BigInt, never Number.
export function hexLeaseIdToDecimal(hexId: string): string {
  if (!HEX_LEASE_ID.test(hexId)) {
    throw new Error(`lease id ${JSON.stringify(hexId)} is not 1 to 16 hex digits`);
  }

  const id = BigInt.asIntN(64, BigInt(`0x${hexId}`));
  if (id === 0n) {
    throw new Error('lease id 0 means "no lease" in etcd and cannot be granted');
  }
  return id.toString();
}

async function grantLease(client: Etcd3, lease: LeasePlan): Promise<string> {
  try {
    const response = await client.leaseClient.leaseGrant({
      TTL: lease.ttlSeconds,
      ID: lease.decimalId ?? '0',
    });
    // A grant can succeed at the transport level yet carry an error string (e.g. TTL limits).
    if (response.error !== undefined && response.error !== '') {
      throw new Error(response.error);
    }
    if (lease.decimalId !== undefined && response.ID !== lease.decimalId) {
      throw new Error(`etcd granted id ${response.ID} instead of ${lease.decimalId}`);
    }
    return response.ID;
  } catch (error) {
    const message = (error as Error).message;
    const hint = /lease already exists/i.test(message)
      ? ' (lease ids are global in an etcd: seeding the same case twice into one server needs' +
        ' a fresh server, or the first copy revoked)'
      : '';
    throw new Error(
      `cannot grant ${lease.description} with TTL ${lease.ttlSeconds}: ${message}${hint}`,
    );
  }
}

async function forEachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let nextIndex = 0;
  const worker = async (): Promise<void> => {
    while (nextIndex < items.length) {
      const item = items[nextIndex++] as T;
      await work(item);
    }
  };

  const workerCount = Math.min(WRITE_CONCURRENCY, items.length);
  await Promise.all(Array.from({ length: workerCount }, worker));
}
