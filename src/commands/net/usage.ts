import { Flags } from '@oclif/core';

import { FlanctlCommand } from '../../base-command.js';
import { MAP_CELL_LIMIT, familyUsage, holdingsOf } from '../../domain/address-usage.js';
import { formatCidr } from '../../domain/cidr.js';
import { DEFAULT_RENEW_MARGIN_SECONDS } from '../../domain/lease-entry.js';
import { type AddressPlan, planCapacity } from '../../domain/network-config.js';
import { FlanctlError, usageError } from '../../errors.js';
import { DEFAULT_MAX_IN_FLIGHT, jsonFlag } from '../../flags.js';
import {
  JSON_FREE_RANGE_LIMIT,
  type UsageReport,
  usageDocument,
  usageNotes,
  usageText,
} from '../../output/views/net-usage.js';
import { styleFor } from '../../output/style.js';
import type { RegistryBackend } from '../../registry/backend.js';
import {
  type ConfigState,
  type NetworkPaths,
  type NetworkState,
  PREFIX_HINT_SAMPLE,
  findOtherPrefixes,
  networkPaths,
  readConfig,
  readNetwork,
} from '../../registry/network.js';

const FAMILIES = ['ipv4', 'ipv6'] as const;

export default class NetUsage extends FlanctlCommand {
  static override summary = 'Show how much of the network is used and which ranges are free';

  static override description =
    'Per address family: the subnets flanneld may hand out (SubnetMin to SubnetMax), how many ' +
    'keys hold one, how many are reservations, how many are free, and the free ones merged ' +
    'into CIDR blocks. --map draws one cell per subnet. Exits 3 when the config is missing ' +
    'or has problems.';

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --map --family ipv4',
    '<%= config.bin %> <%= command.id %> --prefix /kube-centos/network --json',
  ];

  static override flags = {
    json: jsonFlag,
    map: Flags.boolean({
      default: false,
      description: `draw one cell per subnet (reads lease TTLs; at most ${MAP_CELL_LIMIT} per family)`,
    }),
    family: Flags.string({ options: [...FAMILIES], description: 'only this address family' }),
    'max-in-flight': Flags.integer({
      min: 1,
      max: 1024,
      default: DEFAULT_MAX_IN_FLIGHT,
      description: 'concurrent TimeToLive calls (with --map)',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(NetUsage);
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);
    const backend = await this.registry(settings);

    // Refuse early: a config without plans, or a map too big to draw, needs no listing or TTLs.
    selectPlans(await readConfigOrFail(backend, paths), paths.configKey, flags);

    const state = await readNetwork(backend, paths.prefix, {
      maxInFlight: flags['max-in-flight'],
      renewMarginSeconds: DEFAULT_RENEW_MARGIN_SECONDS,
      withTtls: flags.map,
    });
    const plans = selectPlans(state.config, paths.configKey, flags);
    const report = usageReport(state, plans, flags.map);

    for (const line of usageNotes(report)) this.infoLine(line);
    const style = styleFor(process.stdout, process.env);
    this.writeOut(flags.json ? usageDocument(report) : usageText(report, style));
    if (state.config.problems.length > 0) throw configError(state.config, paths.configKey);
  }
}

/** The config, or exit 4 naming the key (and prefixes that hold one) when it is missing. */
async function readConfigOrFail(
  backend: RegistryBackend,
  paths: NetworkPaths,
): Promise<ConfigState> {
  const config = await readConfig(backend, paths);
  if (config.text !== undefined) return config;

  const others = await findOtherPrefixes(backend, paths.prefix, PREFIX_HINT_SAMPLE);
  throw new FlanctlError(
    'notFound',
    missingConfigMessage(paths.configKey),
    others.length > 0
      ? `a flannel config exists under ${others.join(', ')} (use --prefix)`
      : undefined,
  );
}

function usageReport(state: NetworkState, plans: AddressPlan[], map: boolean): UsageReport {
  return {
    prefix: state.paths.prefix,
    revision: state.revision,
    configKey: state.paths.configKey,
    configProblems: state.config.problems,
    leaseStatuses: map,
    families: plans.map((plan) =>
      familyUsage(plan, holdingsOf(state.entries, plan.family, map), {
        freeBlockLimit: JSON_FREE_RANGE_LIMIT,
        map,
      }),
    ),
    problems: state.problems,
  };
}

/**
 * The plans to report on. Throws (exit 3) when the config gives none, and (exit 2) when the
 * chosen family is not configured or its map would be too large to draw.
 */
function selectPlans(
  config: ConfigState,
  configKey: string,
  flags: { family?: string; map: boolean },
): AddressPlan[] {
  const all = [config.config?.ipv4, config.config?.ipv6].flatMap((plan) => (plan ? [plan] : []));
  if (all.length === 0) throw configError(config, configKey);

  const plans = flags.family ? all.filter((plan) => `ipv${plan.family}` === flags.family) : all;
  if (plans.length === 0) {
    if (config.problems.length > 0) throw configError(config, configKey);
    const family = flags.family === 'ipv6' ? 'IPv6' : 'IPv4';
    throw usageError(
      `--family ${flags.family}: the network config at ${configKey} has no ${family} network`,
    );
  }

  const tooLarge = flags.map
    ? plans.find((plan) => planCapacity(plan) > BigInt(MAP_CELL_LIMIT))
    : undefined;
  if (tooLarge) {
    const others = all.filter((plan) => plan !== tooLarge);
    throw usageError(
      `--map draws one cell per subnet: IPv${tooLarge.family} ${formatCidr(tooLarge.network)} ` +
        `has ${planCapacity(tooLarge)} subnets of /${tooLarge.subnetLen}, ` +
        `above the limit of ${MAP_CELL_LIMIT}`,
      others.length > 0 && !flags.family
        ? `draw the other family alone with --family ipv${others[0].family}, or leave out --map`
        : 'leave out --map; the free ranges show the layout',
    );
  }

  return plans;
}

function missingConfigMessage(configKey: string): string {
  return `no network config at ${configKey}; capacity cannot be known without it`;
}

function configError(config: ConfigState, configKey: string): FlanctlError {
  if (config.text === undefined)
    return new FlanctlError('notFound', missingConfigMessage(configKey));

  const messages = config.problems.map((problem) => problem.message);
  if (messages.length === 0) messages.push('it defines no address family');
  return new FlanctlError('problems', `network config ${configKey}: ${messages.join('; ')}`);
}
