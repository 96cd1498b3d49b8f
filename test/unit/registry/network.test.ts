// readNetwork against an in-memory backend: the TimeToLive calls happen only when asked for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { LeaseTtl } from '../../../src/domain/lease-entry.js';
import type { StoredValue, SubnetListing } from '../../../src/registry/backend.js';
import { readNetwork } from '../../../src/registry/network.js';
import { RejectingBackend } from '../support/backend.js';
import { storedSubnet } from '../support/leases.js';

const PREFIX = '/coreos.com/network';
const LEASE = '694d854330fc5110';

/** Serves one config and two keys; records which lease ids were asked for. */
class ListingBackend extends RejectingBackend {
  readonly ttlRequests: string[][] = [];

  override async readValue(key: string): Promise<StoredValue | undefined> {
    if (key !== `${PREFIX}/config`) return undefined;
    return { key, value: '{"Network":"10.5.0.0/16"}', modRevision: 2 };
  }

  override async listSubnets(): Promise<SubnetListing> {
    return {
      revision: 9,
      subnets: [
        storedSubnet({ name: '10.5.1.0-24', leaseId: LEASE }),
        storedSubnet({ name: '10.5.2.0-24', leaseId: null }),
      ],
    };
  }

  override async leaseTtls(leaseIds: Iterable<string>): Promise<Map<string, LeaseTtl>> {
    this.ttlRequests.push([...leaseIds]);
    return new Map([[LEASE, { ttl: 80000, grantedTtl: 86400 }]]);
  }
}

describe('readNetwork', () => {
  test('by default, asks for the TTL of every lease', async () => {
    const backend = new ListingBackend();
    const state = await readNetwork(backend, PREFIX, { maxInFlight: 4, renewMarginSeconds: 3600 });

    assert.deepEqual(backend.ttlRequests, [[LEASE]]);
    assert.deepEqual(
      state.entries.map((entry) => [entry.type, entry.status, entry.ttlSeconds]),
      [
        ['lease', 'active', 80000],
        ['reservation', 'reservation', null],
      ],
    );
  });

  test('withTtls false: no TimeToLive call; types are still known', async () => {
    const backend = new ListingBackend();
    const state = await readNetwork(backend, PREFIX, {
      maxInFlight: 4,
      renewMarginSeconds: 3600,
      withTtls: false,
    });

    assert.deepEqual(backend.ttlRequests, []);
    assert.deepEqual(
      state.entries.map((entry) => [entry.type, entry.ttlSeconds]),
      [
        ['lease', null],
        ['reservation', null],
      ],
    );
    assert.equal(state.revision, 9);
    assert.equal(state.keyCount, 2);
  });
});
