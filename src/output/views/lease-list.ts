// `leases ls` output: data on stdout, notes and problems for stderr. Pure.
import type { LeaseEntry } from '../../domain/lease-entry.js';
import type { OutputFormat } from '../../flags.js';
import type { NetworkState } from '../../registry/network.js';
import { columnChunks } from '../columns.js';
import type { Style } from '../style.js';
import { TABLE_HEADERS, WIDE_HEADERS, leaseRow, leasesDocumentChunks } from './leases.js';

export interface ListOptions {
  readonly format: OutputFormat;
  readonly style: Style;
  readonly nowMs: number;
  readonly filtered: boolean;
  readonly headers: boolean;
  readonly otherPrefixes: readonly string[];
  /** false under `--no-ttl`: no TimeToLive was asked, so leases show `?` and status unknown. */
  readonly ttlsRead?: boolean;
}

export interface Rendered {
  /** stdout in pieces, to write in order: a large listing is never held as one string. */
  readonly stdout: Iterable<string>;
  /** One line each, for stderr. */
  readonly notes: string[];
}

export function renderLeaseList(
  state: NetworkState,
  shown: readonly LeaseEntry[],
  options: ListOptions,
): Rendered {
  const notes = [...configNotes(state), ...emptyNotes(state, options)];

  if (options.format === 'json') {
    const { prefix } = state.paths;
    const ttlsRead = options.ttlsRead ?? true;
    const document = leasesDocumentChunks(prefix, state.revision, shown, state.problems, ttlsRead);
    return { stdout: withNewline(document), notes };
  }

  for (const problem of state.problems) notes.push(`problem: ${problem.key}: ${problem.reason}`);
  if (shown.length === 0) {
    if (state.entries.length > 0 && options.filtered) notes.push('no leases match the filters');
    return { stdout: [], notes };
  }

  const wide = options.format === 'wide';
  const rows = shown.map((entry) =>
    leaseRow(entry, options.nowMs, options.style, wide, options.ttlsRead ?? true),
  );
  const table = columnChunks(wide ? WIDE_HEADERS : TABLE_HEADERS, rows, options.headers);
  return { stdout: table, notes };
}

function* withNewline(chunks: Iterable<string>): Generator<string> {
  yield* chunks;
  yield '\n';
}

function configNotes(state: NetworkState): string[] {
  const { configKey } = state.paths;
  if (state.config.text === undefined) {
    return state.keyCount > 0 ? [`warning: no network config at ${configKey}`] : [];
  }

  return state.config.problems.map(
    (problem) => `warning: network config ${configKey}: ${problem.message}`,
  );
}

function emptyNotes(state: NetworkState, options: ListOptions): string[] {
  if (state.keyCount > 0) return [];

  const { configKey, subnetsDir } = state.paths;
  const config =
    state.config.text === undefined
      ? `no network config at ${configKey} either`
      : `the network config ${configKey} exists`;
  const notes = [
    `no leases under ${subnetsDir}; ${config}. ` +
      'flannel installs using --kube-subnet-mgr keep no leases in etcd at all',
  ];
  if (options.otherPrefixes.length > 0) {
    notes.push(
      `a flannel config exists under: ${options.otherPrefixes.join(', ')} ` +
        '(select one with --prefix or FLANNELD_ETCD_PREFIX)',
    );
  }

  return notes;
}
