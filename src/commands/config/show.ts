import { FlanctlCommand } from '../../base-command.js';
import { parseSubnetKeyName } from '../../domain/subnet-key.js';
import { type Holding, layoutPlan, usageTotals } from '../../domain/address-usage.js';
import { FlanctlError, notFoundError } from '../../errors.js';
import { jsonFlag } from '../../flags.js';
import { type ConfigReport, configDocument, configText } from '../../output/views/config.js';
import {
  PREFIX_HINT_SAMPLE,
  findOtherPrefixes,
  networkPaths,
  readConfig,
} from '../../registry/network.js';

export default class ConfigShow extends FlanctlCommand {
  static override summary = "Show the network config as stored and with flannel's defaults applied";

  static override description =
    'Prints <prefix>/config, the effective SubnetLen/SubnetMin/SubnetMax flanneld derives from ' +
    'it, how many subnets fit and how many are used. Exits 3 when the config has problems.';

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --prefix /kube-centos/network --json',
  ];

  static override flags = { json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(ConfigShow);
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);

    const backend = await this.registry(settings);
    const state = await readConfig(backend, paths);
    if (state.text === undefined) {
      const others = await findOtherPrefixes(backend, paths.prefix, PREFIX_HINT_SAMPLE);
      throw notFoundError(
        `no network config at ${paths.configKey}`,
        others.length > 0
          ? `a flannel config exists under ${others.join(', ')} (use --prefix)`
          : undefined,
      );
    }

    const listing = await backend.listSubnets(paths.subnetsDir);
    const keys = listing.subnets.flatMap((stored) => {
      const parsed = parseSubnetKeyName(stored.name);
      return parsed.ok ? [{ key: parsed.key, reserved: stored.leaseId === null }] : [];
    });
    const plans = [state.config?.ipv4, state.config?.ipv6].flatMap((plan) => {
      if (!plan) return [];
      const holdings: Holding[] = keys.map(({ key, reserved }) => ({
        subnet: plan.family === 4 ? key.ipv4 : key.ipv6,
        holder: reserved ? 'reservation' : 'lease',
      }));
      return [{ plan, usage: usageTotals(layoutPlan(plan, holdings)) }];
    });

    const report: ConfigReport = { key: paths.configKey, state, plans };
    this.writeOut(flags.json ? `${configDocument(report)}\n` : configText(report));
    if (state.problems.length > 0) {
      const count = state.problems.length;
      throw new FlanctlError(
        'problems',
        `the config at ${paths.configKey} has ${count} problem${count === 1 ? '' : 's'} (listed above)`,
      );
    }
  }
}
