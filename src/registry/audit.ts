// Everything `doctor` judges, read in one pass: the network as `leases ls` reads it, keys near
// the config's path, the cluster's keyless leases and flanctl's reservation records.
import type { LeaseRecordState, StoredText } from '../domain/doctor/index.js';
import type { RegistryBackend } from './backend.js';
import { type Records, readRecords } from './records.js';
import {
  type NetworkState,
  PREFIX_HINT_SAMPLE,
  findOtherPrefixes,
  readNetwork,
} from './network.js';

export interface AuditOptions {
  readonly maxInFlight: number;
  readonly renewMarginSeconds: number;
  readonly recordsPrefix: string;
  /** List the cluster's leases for the keyless-lease check (one call per unused lease). */
  readonly keylessLeases: boolean;
}

export interface AuditState {
  readonly network: NetworkState;
  readonly nearMissKeys: StoredText[];
  readonly otherPrefixes: string[];
  readonly keylessLeases?: LeaseRecordState[];
  readonly records: Records;
}

// Enough to find a misplaced config beside the subnets dir without reading a whole keyspace.
const NEAR_MISS_LIMIT = 100;

export async function readAudit(
  backend: RegistryBackend,
  prefix: string,
  options: AuditOptions,
): Promise<AuditState> {
  const network = await readNetwork(backend, prefix, options);
  const { configKey, subnetsDir } = network.paths;
  const configMissing = network.config.text === undefined;

  const nearMissKeys = configMissing
    ? (await nearConfigKeys(backend, prefix, subnetsDir)).filter((kv) => kv.key !== configKey)
    : [];
  const otherPrefixes =
    configMissing && network.keyCount === 0
      ? await findOtherPrefixes(backend, prefix, PREFIX_HINT_SAMPLE)
      : [];
  const keylessLeases = options.keylessLeases
    ? await readKeylessLeases(backend, network, options.maxInFlight)
    : undefined;
  const records = await readRecords(backend, options.recordsPrefix, prefix);

  return { network, nearMissKeys, otherPrefixes, keylessLeases, records };
}

// Where a misplaced config sits: the prefix key itself, or a key directly in the prefix's dir
// (`<prefix>/Config`, `<prefix>/config/`, `<prefix>/`), never another network's keys.
async function nearConfigKeys(
  backend: RegistryBackend,
  prefix: string,
  subnetsDir: string,
): Promise<StoredText[]> {
  const dir = `${prefix}/`;
  const itself = await backend.readValue(prefix);
  const before = await backend.readRange(dir, subnetsDir, NEAR_MISS_LIMIT);
  const after = await backend.readRange(
    stringPrefixEnd(subnetsDir),
    stringPrefixEnd(dir),
    NEAR_MISS_LIMIT,
  );
  return [...(itself ? [itself] : []), ...before, ...after]
    .filter(({ key }) => !key.slice(dir.length).replace(/\/$/, '').includes('/'))
    .map(({ key, value }) => ({ key, value }));
}

/** The first string after every string that starts with `prefix` (ASCII prefixes). */
function stringPrefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

async function readKeylessLeases(
  backend: RegistryBackend,
  network: NetworkState,
  maxInFlight: number,
): Promise<LeaseRecordState[] | undefined> {
  const all = await backend.listLeases();
  if (!all) return undefined;

  const used = new Set(network.entries.map((entry) => entry.leaseId));
  const unused = all.filter((id) => !used.has(id));
  const usage = await backend.leaseUsage(unused, maxInFlight);
  return [...usage].map(([id, answer]) => ({
    id,
    grantedTtl: answer.grantedTtl,
    keys: answer.keyCount,
  }));
}
