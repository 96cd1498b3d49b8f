// flannel's data through the etcd v3 API.
import type { LeaseTtl, StoredSubnet } from '../domain/lease-entry.js';
import type { EtcdClient, KeyValue, WatchEvent, WriteOp } from '../etcd/client.js';
import { followRange } from '../etcd/watch.js';
import { FlanctlError } from '../errors.js';
import type {
  KeyGuard,
  KeyWrite,
  LeaseDetails,
  LeaseUsage,
  RegistryBackend,
  StoredValue,
  SubnetEvent,
  SubnetListing,
  SubnetWatchNotice,
} from './backend.js';

// Pages of 1,000 flannel keys are ~200 KB: far below gRPC's message limit, few round trips.
const PAGE_SIZE = 1000;

export class V3Backend implements RegistryBackend {
  readonly api = 'v3';

  constructor(private readonly client: EtcdClient) {}

  async readValue(key: string): Promise<StoredValue | undefined> {
    const result = await this.client.range({ key: Buffer.from(key) });
    const kv = result.kvs[0];
    return kv ? { key: kv.key, value: kv.value, modRevision: kv.modRevision } : undefined;
  }

  async listSubnets(dir: string): Promise<SubnetListing> {
    try {
      return await this.listSubnetsOnce(dir);
    } catch (error) {
      // etcd compacted the pinned revision between two pages: one fresh read, then give up.
      if (error instanceof FlanctlError && error.kind === 'conflict') {
        return this.listSubnetsOnce(dir);
      }

      throw error;
    }
  }

  private async listSubnetsOnce(dir: string): Promise<SubnetListing> {
    const rangeEnd = prefixEnd(Buffer.from(dir));
    const subnets: StoredSubnet[] = [];
    let start = Buffer.from(dir);
    let revision: number | undefined;

    for (;;) {
      const page = await this.client.range({ key: start, rangeEnd, limit: PAGE_SIZE, revision });
      revision ??= page.revision;
      for (const kv of page.kvs) subnets.push(toStoredSubnet(kv, dir));

      const last = page.kvs.at(-1);
      if (!page.more || !last) break;
      start = Buffer.concat([Buffer.from(last.key), Buffer.from([0])]);
    }

    return { revision, subnets };
  }

  async leaseTtls(leaseIds: Iterable<string>, maxInFlight: number): Promise<Map<string, LeaseTtl>> {
    return mapConcurrently(leaseIds, maxInFlight, async (id) => {
      const answer = await this.client.leaseTimeToLive(hexToDecimal(id));
      return { ttl: answer.ttl, grantedTtl: answer.grantedTtl, answeredAtMs: Date.now() };
    });
  }

  async leaseUsage(
    leaseIds: Iterable<string>,
    maxInFlight: number,
  ): Promise<Map<string, LeaseUsage>> {
    return mapConcurrently(leaseIds, maxInFlight, async (id) => {
      const answer = await this.client.leaseTimeToLive(hexToDecimal(id), true);
      return {
        ttl: answer.ttl,
        grantedTtl: answer.grantedTtl,
        answeredAtMs: Date.now(),
        keyCount: answer.keys.length,
      };
    });
  }

  async listLeases(): Promise<string[] | undefined> {
    return (await this.client.leaseIds())?.map(decimalToHex);
  }

  async readV2Value(key: string): Promise<{ enabled: boolean; text?: string }> {
    const answer = await this.client.v2Get(key);
    return { enabled: answer.enabled, text: answer.value };
  }

  async readRange(start: string, end: string | undefined, limit: number): Promise<StoredValue[]> {
    const result = await this.client.range({
      key: Buffer.from(start),
      rangeEnd: Buffer.from(end ?? '\0'),
      limit,
    });
    return result.kvs.map((kv) => ({ key: kv.key, value: kv.value, modRevision: kv.modRevision }));
  }

  async leaseDetails(leaseId: string): Promise<LeaseDetails> {
    const answer = await this.client.leaseTimeToLive(hexToDecimal(leaseId), true);
    return { ...answer, answeredAtMs: Date.now() };
  }

  async readSubnet(key: string, dir: string): Promise<StoredSubnet | undefined> {
    const result = await this.client.range({ key: Buffer.from(key) });
    const kv = result.kvs[0];
    return kv ? toStoredSubnet(kv, dir) : undefined;
  }

  async write(guards: KeyGuard[], writes: KeyWrite[]) {
    const ops: WriteOp[] = writes.map((write) =>
      'put' in write
        ? {
            put: {
              key: write.put.key,
              value: write.put.value,
              leaseDecimal: write.put.leaseId ? hexToDecimal(write.put.leaseId) : undefined,
            },
          }
        : write,
    );
    const result = await this.client.guardedWrite(guards, ops);
    return { applied: result.succeeded, revision: result.revision };
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    return decimalToHex(await this.client.leaseGrant(ttlSeconds));
  }

  // LIMITATION: a key attached between the check and the revoke would be deleted with the
  // lease. flanneld never re-attaches an old lease (each renewal grants a new one), so only
  // another tool doing so could hit this window.
  async revokeIfUnused(leaseId: string): Promise<{ revoked: boolean; keys: string[] }> {
    const details = await this.client.leaseTimeToLive(hexToDecimal(leaseId), true);
    if (details.keys.length > 0) return { revoked: false, keys: details.keys };

    return { revoked: await this.client.leaseRevoke(hexToDecimal(leaseId)), keys: [] };
  }

  async sampleKeys(limit: number): Promise<string[]> {
    const result = await this.client.range({
      key: Buffer.from([0]),
      rangeEnd: Buffer.from([0]),
      limit,
      keysOnly: true,
    });
    return result.kvs.map((kv) => kv.key);
  }

  async *watchSubnets(
    dir: string,
    startRevision: number,
    signal: AbortSignal,
  ): AsyncIterable<SubnetWatchNotice> {
    const target = { key: Buffer.from(dir), rangeEnd: prefixEnd(Buffer.from(dir)), startRevision };
    for await (const notice of followRange(this.client, target, signal)) {
      yield notice.kind === 'events'
        ? { kind: 'changes', events: notice.events.map((event) => toSubnetEvent(event, dir)) }
        : notice;
    }
  }

  close(): void {
    this.client.close();
  }
}

/** Runs `call` for each distinct id, at most `maxInFlight` at a time; answers by id. */
async function mapConcurrently<T>(
  ids: Iterable<string>,
  maxInFlight: number,
  call: (id: string) => Promise<T>,
): Promise<Map<string, T>> {
  const pending = [...new Set(ids)];
  const answers = new Map<string, T>();
  let next = 0;

  const worker = async () => {
    while (next < pending.length) {
      const id = pending[next++];
      answers.set(id, await call(id));
    }
  };

  const workers = Math.max(1, Math.min(maxInFlight, pending.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return answers;
}

function toSubnetEvent(event: WatchEvent, dir: string): SubnetEvent {
  const revision = event.kv.modRevision;
  if (event.type === 'put') return { kind: 'put', revision, subnet: toStoredSubnet(event.kv, dir) };
  return { kind: 'delete', revision, key: event.kv.key, name: event.kv.key.slice(dir.length) };
}

function toStoredSubnet(kv: KeyValue, dir: string): StoredSubnet {
  return {
    key: kv.key,
    name: kv.key.slice(dir.length),
    value: kv.value,
    leaseId: kv.lease === '0' ? null : decimalToHex(kv.lease),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
  };
}

/** The smallest key greater than every key with this prefix (etcd's range_end for a prefix). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    if (end[index] < 0xff) {
      end[index]++;
      return end.subarray(0, index + 1);
    }
  }

  return Buffer.from([0]);
}

// Lease ids are 64-bit: a JS number would corrupt them, so they travel as strings, in hex
// padded to 16 digits as etcdctl prints them (`lease list`, `lease timetolive`).
export function decimalToHex(decimal: string): string {
  return BigInt.asUintN(64, BigInt(decimal)).toString(16).padStart(16, '0');
}

/** etcd's lease id field is a signed int64, so ids from 8000000000000000 up wrap negative. */
export function hexToDecimal(hex: string): string {
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString(10);
}
