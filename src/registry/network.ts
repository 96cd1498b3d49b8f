// Reads one flannel network (config + subnet keys + lease TTLs) through a backend.
import {
  type InterpretContext,
  type LeaseEntry,
  type LeaseTtl,
  type SubnetProblem,
  interpretSubnets,
} from '../domain/lease-entry.js';
import {
  type ConfigProblem,
  type NetworkConfig,
  parseNetworkConfig,
} from '../domain/network-config.js';
import type { EtcdView, HeldLease } from '../domain/subnet-env.js';
import type { RegistryBackend } from './backend.js';

export interface NetworkPaths {
  readonly prefix: string;
  readonly configKey: string;
  readonly subnetsDir: string;
}

export function networkPaths(prefix: string): NetworkPaths {
  return { prefix, configKey: `${prefix}/config`, subnetsDir: `${prefix}/subnets/` };
}

export interface ConfigState {
  /** The stored text; undefined when the key is missing. */
  readonly text?: string;
  readonly config?: NetworkConfig;
  readonly problems: ConfigProblem[];
}

export interface NetworkState {
  readonly paths: NetworkPaths;
  readonly revision: number;
  readonly config: ConfigState;
  readonly entries: LeaseEntry[];
  readonly problems: SubnetProblem[];
  /** Number of keys under the subnets dir, parsed or not. */
  readonly keyCount: number;
}

export interface ReadOptions {
  readonly maxInFlight: number;
  readonly renewMarginSeconds: number;
  /**
   * false skips the TimeToLive calls (one per lease) for callers that need only keys, values
   * and lease ids. Every lease entry then has a null TTL and reads as 'lease-missing': use its
   * `type`, never its `status`. Default true.
   */
  readonly withTtls?: boolean;
}

export async function readConfig(
  backend: RegistryBackend,
  paths: NetworkPaths,
): Promise<ConfigState> {
  const stored = await backend.readValue(paths.configKey);
  if (!stored) return { problems: [] };

  const parsed = parseNetworkConfig(stored.value);
  return { text: stored.value, config: parsed.config, problems: parsed.problems };
}

export async function readNetwork(
  backend: RegistryBackend,
  prefix: string,
  options: ReadOptions,
): Promise<NetworkState> {
  const paths = networkPaths(prefix);
  const config = await readConfig(backend, paths);
  const listing = await backend.listSubnets(paths.subnetsDir);

  const leaseIds = listing.subnets.flatMap((subnet) => (subnet.leaseId ? [subnet.leaseId] : []));
  const ttls =
    options.withTtls === false
      ? new Map<string, LeaseTtl>()
      : await backend.leaseTtls(leaseIds, options.maxInFlight);

  const context: InterpretContext = {
    nowMs: Date.now(),
    renewMarginSeconds: options.renewMarginSeconds,
    config: config.problems.length === 0 ? config.config : undefined,
  };
  const { entries, problems } = interpretSubnets(listing.subnets, ttls, context);

  return {
    paths,
    revision: listing.revision,
    config,
    entries,
    problems,
    keyCount: listing.subnets.length,
  };
}

/** Keys read to look for flannel configs under other prefixes when this one is empty. */
export const PREFIX_HINT_SAMPLE = 10_000;

/** Prefixes elsewhere in the keyspace that hold a flannel-like `config` key. */
export async function findOtherPrefixes(
  backend: RegistryBackend,
  prefix: string,
  sampleLimit: number,
): Promise<string[]> {
  const keys = await backend.sampleKeys(sampleLimit);
  return keys
    .filter((key) => key.endsWith('/config') && key !== `${prefix}/config`)
    .map((key) => key.slice(0, -'/config'.length))
    .filter((candidate) => candidate.startsWith('/'));
}

/** What `env validate --etcd` and `doctor --env` compare a subnet.env with. */
export function envViewOf(state: NetworkState, publicIP: string | undefined): EtcdView {
  const leases: HeldLease[] = state.entries.map((entry) => ({
    ipv4: entry.subnet.ipv4,
    ipv6: entry.subnet.ipv6,
    publicIP: entry.attrs.publicIP,
    type: entry.type,
  }));
  const config = state.config.problems.length === 0 ? state.config.config : undefined;
  return { configKey: state.paths.configKey, config, leases, publicIP };
}
