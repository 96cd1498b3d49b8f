import { Flags } from '@oclif/core';

import { FlanctlCommand } from '../../base-command.js';
import { parseIp } from '../../domain/cidr.js';
import {
  type LeaseFilter,
  SORT_KEYS,
  type SortKey,
  filterLeases,
  sortLeases,
} from '../../domain/lease-filter.js';
import { usageError } from '../../errors.js';
import {
  DEFAULT_MAX_IN_FLIGHT,
  durationSeconds,
  outputFlags,
  outputFormat,
  renewMarginFlag,
  renewMarginSeconds,
} from '../../flags.js';
import { renderLeaseList } from '../../output/views/lease-list.js';
import { styleFor } from '../../output/style.js';
import { PREFIX_HINT_SAMPLE, findOtherPrefixes, readNetwork } from '../../registry/network.js';

export default class LeasesLs extends FlanctlCommand {
  static override summary = 'List every subnet lease and reservation with its remaining TTL';

  static override description =
    'Reads all keys under <prefix>/subnets/ at one revision, then asks etcd for the remaining ' +
    'TTL of each distinct lease concurrently. A key without an etcd lease is a reservation. ' +
    'With --watch it then follows the changes from that revision with an etcd watch and prints ' +
    'one labelled line per change, until SIGINT or SIGTERM.';

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> -o wide --sort ttl',
    '<%= config.bin %> <%= command.id %> --expiring-within 2h --json',
    '<%= config.bin %> <%= command.id %> --prefix /kube-centos/network --public-ip 192.0.2.21',
    '<%= config.bin %> <%= command.id %> --watch --json | jq -c \'select(.event != "initial")\'',
    '<%= config.bin %> <%= command.id %> --no-ttl --json',
  ];

  static override flags = {
    ...outputFlags,
    reservations: Flags.boolean({ description: 'only reservations', exclusive: ['leases'] }),
    leases: Flags.boolean({ description: 'only leases (keys with an etcd lease)' }),
    'expiring-within': Flags.string({
      description: 'only leases with at most this much TTL left, e.g. 2h (expired ones too)',
    }),
    'public-ip': Flags.string({ description: 'only subnets held by this host address' }),
    backend: Flags.string({ description: 'only this backend type, e.g. vxlan' }),
    sort: Flags.string({ options: [...SORT_KEYS], default: 'subnet', description: 'row order' }),
    'max-in-flight': Flags.integer({
      min: 1,
      max: 1024,
      default: DEFAULT_MAX_IN_FLIGHT,
      description: 'concurrent TimeToLive calls',
    }),
    'renew-margin': renewMarginFlag,
    'no-headers': Flags.boolean({ description: 'omit the header line of the table' }),
    watch: Flags.boolean({
      description: 'then print one line per change until interrupted (NDJSON with --json)',
    }),
    'no-ttl': Flags.boolean({
      description: 'skip the TimeToLive calls: TYPE is still shown, TTL and EXPIRES show ?',
      exclusive: ['expiring-within', 'watch'],
    }),
  };

  private readonly stopWatching = new AbortController();

  async run(): Promise<void> {
    const { flags } = await this.parse(LeasesLs);
    const filter = leaseFilter(flags);
    const margin = renewMarginSeconds(flags['renew-margin']);
    const withTtls = ttlsWanted(flags);
    if (flags.watch) {
      checkWatchFlags(flags);
      this.stopOnSignals();
    }
    const settings = this.connectionSettings(flags);

    const backend = await this.registry(settings);
    const read = { maxInFlight: flags['max-in-flight'], renewMarginSeconds: margin, withTtls };
    const state = await readNetwork(backend, settings.prefix.value, read);
    const otherPrefixes =
      state.keyCount === 0 && state.config.text === undefined
        ? await findOtherPrefixes(backend, settings.prefix.value, PREFIX_HINT_SAMPLE)
        : [];

    const shown = sortLeases(filterLeases(state.entries, filter), flags.sort as SortKey);
    const listOptions = {
      format: outputFormat(flags),
      style: styleFor(process.stdout, process.env),
      nowMs: Date.now(),
      filtered: Object.values(filter).some((value) => value !== undefined),
      headers: !flags['no-headers'],
      otherPrefixes,
      ttlsRead: withTtls,
    };
    // The watch modules are loaded only for --watch: a plain listing starts faster without them.
    const watch = flags.watch ? await import('../../leases-watch-run.js') : undefined;
    const render = watch ? watch.renderWatchStart : renderLeaseList;
    const rendered = render(state, shown, listOptions);
    for (const line of rendered.notes) this.infoLine(line);
    for (const chunk of rendered.stdout) this.writeOut(chunk);

    if (!watch) return;
    const options = { ...read, signal: this.stopWatching.signal };
    const printer = {
      writeOut: (text: string) => this.writeOut(text),
      infoLine: (text: string) => this.infoLine(text),
    };
    await watch.followAndPrint(backend, state, options, { filter, lines: listOptions }, printer);
  }

  /** `--watch` ends on SIGINT and SIGTERM, and the command then exits 0. */
  private stopOnSignals(): void {
    // Once only: a second Ctrl-C ends the process at once, should stopping ever hang.
    const stop = () => this.stopWatching.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
}

// Changes come in the order etcd made them, and a remaining TTL changes by the second.
function checkWatchFlags(flags: { sort: string; 'expiring-within'?: string }): void {
  if (flags.sort !== 'subnet') {
    throw usageError(
      `--sort ${flags.sort} cannot be used with --watch, which prints changes as etcd makes them`,
    );
  }

  if (flags['expiring-within'] !== undefined) {
    throw usageError(
      '--expiring-within cannot be used with --watch, whose remaining TTLs keep changing',
      'watch with --leases, and list with --expiring-within separately',
    );
  }
}

// A key's type comes from its lease id, so everything but the TTL order works without TTLs.
function ttlsWanted(flags: { 'no-ttl': boolean; sort: string }): boolean {
  if (flags['no-ttl'] && flags.sort === 'ttl') {
    throw usageError('--sort ttl needs the remaining TTLs; drop --no-ttl or sort by another key');
  }

  return !flags['no-ttl'];
}

function leaseFilter(flags: {
  reservations: boolean;
  leases: boolean;
  'expiring-within'?: string;
  'public-ip'?: string;
  backend?: string;
}): LeaseFilter {
  const publicIP = flags['public-ip'];
  if (publicIP !== undefined && !parseIp(publicIP)) {
    throw usageError(`--public-ip ${JSON.stringify(publicIP)} is not an IP address`);
  }

  const within = flags['expiring-within'];
  return {
    type: flags.reservations ? 'reservation' : flags.leases ? 'lease' : undefined,
    expiringWithinSeconds:
      within === undefined ? undefined : durationSeconds('--expiring-within', within),
    publicIP,
    backend: flags.backend,
  };
}
