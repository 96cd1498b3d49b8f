// Builders for stored subnet keys and interpreted entries, shared by the unit tests.
import assert from 'node:assert/strict';

import {
  type LeaseEntry,
  type LeaseTtl,
  type StoredSubnet,
  DEFAULT_RENEW_MARGIN_SECONDS,
  interpretSubnets,
} from '../../../src/domain/lease-entry.js';
import type { NetworkConfig } from '../../../src/domain/network-config.js';

export const SUBNETS_DIR = '/coreos.com/network/subnets/';

/** A fixed "now" so expiry times are exact: 2024-01-01T00:00:00.000Z. */
export const NOW_MS = Date.UTC(2024, 0, 1);

export const GRANTED_TTL = 86400;

export interface LeaseSeed {
  /** Key name, e.g. `10.5.1.0-24`. */
  readonly name: string;
  readonly publicIP?: string;
  readonly backendType?: string;
  readonly vtepMac?: string;
  /** The stored value verbatim; overrides publicIP, backendType and vtepMac. */
  readonly value?: string;
  /** Hex lease id; null for a reservation. */
  readonly leaseId: string | null;
  /** TimeToLive's answer; absent when etcd gave none. */
  readonly ttl?: number;
  readonly modRevision?: number;
}

export function leaseValue(publicIP: string, backendType = 'vxlan', vtepMac?: string): string {
  const mac = vtepMac ?? '00:00:5e:10:00:01';
  return JSON.stringify({
    PublicIP: publicIP,
    PublicIPv6: null,
    BackendType: backendType,
    BackendData: { VNI: 1, VtepMAC: mac },
  });
}

export function storedSubnet(seed: LeaseSeed): StoredSubnet {
  const value =
    seed.value ?? leaseValue(seed.publicIP ?? '192.0.2.1', seed.backendType, seed.vtepMac);
  return {
    key: `${SUBNETS_DIR}${seed.name}`,
    name: seed.name,
    value,
    leaseId: seed.leaseId,
    createRevision: 2,
    modRevision: seed.modRevision ?? 5,
    version: 1,
  };
}

export function ttlAnswers(seeds: readonly LeaseSeed[]): Map<string, LeaseTtl> {
  const answers = new Map<string, LeaseTtl>();
  for (const seed of seeds) {
    if (seed.leaseId !== null && seed.ttl !== undefined) {
      const grantedTtl = seed.ttl === -1 ? 0 : GRANTED_TTL;
      answers.set(seed.leaseId, { ttl: seed.ttl, grantedTtl });
    }
  }

  return answers;
}

export function interpret(
  seeds: readonly LeaseSeed[],
  options: { config?: NetworkConfig; renewMarginSeconds?: number } = {},
) {
  return interpretSubnets(seeds.map(storedSubnet), ttlAnswers(seeds), {
    nowMs: NOW_MS,
    renewMarginSeconds: options.renewMarginSeconds ?? DEFAULT_RENEW_MARGIN_SECONDS,
    config: options.config,
  });
}

/** Interpreted entries; fails the test if any seed turned into a problem. */
export function entriesOf(
  seeds: readonly LeaseSeed[],
  options: { config?: NetworkConfig; renewMarginSeconds?: number } = {},
): LeaseEntry[] {
  const { entries, problems } = interpret(seeds, options);
  assert.deepEqual(problems, [], 'test setup: every seed should interpret');
  return entries;
}

export function entryOf(seed: LeaseSeed, options: { config?: NetworkConfig } = {}): LeaseEntry {
  const [entry] = entriesOf([seed], options);
  return entry;
}

export function subnetsOf(entries: readonly LeaseEntry[]): string[] {
  return entries.map((entry) => entry.name);
}
