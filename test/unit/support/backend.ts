// A registry backend whose every call fails the test: fakes extend it and answer only the
// calls the code under test is expected to make.
import type {
  LeaseDetails,
  LeaseUsage,
  RegistryBackend,
  StoredValue,
  SubnetListing,
  SubnetWatchNotice,
} from '../../../src/registry/backend.js';
import type { LeaseTtl, StoredSubnet } from '../../../src/domain/lease-entry.js';

function unexpected(name: string): Promise<never> {
  return Promise.reject(new Error(`${name} was not expected here`));
}

export class RejectingBackend implements RegistryBackend {
  readonly api = 'v3' as const;

  readValue(_key: string): Promise<StoredValue | undefined> {
    return unexpected('readValue');
  }
  listSubnets(_dir: string): Promise<SubnetListing> {
    return unexpected('listSubnets');
  }
  leaseTtls(_ids: Iterable<string>, _maxInFlight: number): Promise<Map<string, LeaseTtl>> {
    return unexpected('leaseTtls');
  }
  leaseDetails(_id: string): Promise<LeaseDetails> {
    return unexpected('leaseDetails');
  }
  readSubnet(_key: string, _dir: string): Promise<StoredSubnet | undefined> {
    return unexpected('readSubnet');
  }
  write(
    _guards: Parameters<RegistryBackend['write']>[0],
    _writes: Parameters<RegistryBackend['write']>[1],
  ): Promise<{ applied: boolean; revision: number }> {
    return unexpected('write');
  }
  grantLease(_ttlSeconds: number): Promise<string> {
    return unexpected('grantLease');
  }
  revokeIfUnused(_id: string): Promise<{ revoked: boolean; keys: string[] }> {
    return unexpected('revokeIfUnused');
  }
  readRange(_start: string, _end: string | undefined, _limit: number): Promise<StoredValue[]> {
    return unexpected('readRange');
  }
  listLeases(): Promise<string[] | undefined> {
    return unexpected('listLeases');
  }
  leaseUsage(_ids: Iterable<string>, _maxInFlight: number): Promise<Map<string, LeaseUsage>> {
    return unexpected('leaseUsage');
  }
  readV2Value(_key: string): Promise<{ enabled: boolean; text?: string }> {
    return unexpected('readV2Value');
  }
  // A generator, so the failure surfaces when the watch is read.
  async *watchSubnets(
    _dir: string,
    _startRevision: number,
    _signal: AbortSignal,
  ): AsyncIterable<SubnetWatchNotice> {
    yield* [];
    await unexpected('watchSubnets');
  }
  sampleKeys(_limit: number): Promise<string[]> {
    return unexpected('sampleKeys');
  }
  close(): void {}
}
