import { Args } from '@oclif/core';

import { FlanctlCommand } from '../../base-command.js';
import { formatCidr } from '../../domain/cidr.js';
import { parseSubnetSelector } from '../../domain/subnet-key.js';
import { notFoundError, usageError } from '../../errors.js';
import { jsonFlag, renewMarginFlag, renewMarginSeconds } from '../../flags.js';
import { detailDocument, detailText } from '../../output/views/lease-detail.js';
import { describeSelectorKey, lookupLeases } from '../../registry/lookup.js';
import { networkPaths } from '../../registry/network.js';

export default class LeasesShow extends FlanctlCommand {
  static override summary = 'Show everything about one subnet lease or reservation';

  static override args = {
    subnet: Args.string({
      required: true,
      description: 'e.g. 10.5.1.0/24, 10.5.1.0-24, the full key, or an address inside the subnet',
    }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %> 10.5.34.0/24',
    '<%= config.bin %> <%= command.id %> 10.5.34.17',
    '<%= config.bin %> <%= command.id %> /coreos.com/network/subnets/10.5.34.0-24 --json',
  ];

  static override flags = { json: jsonFlag, 'renew-margin': renewMarginFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(LeasesShow);
    const margin = renewMarginSeconds(flags['renew-margin']);
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);
    const parsed = parseSubnetSelector(args.subnet, paths.subnetsDir);
    if (!parsed.ok) throw usageError(parsed.reason);

    const { selector } = parsed;
    if (selector.kind === 'cidr' && selector.normalisedFrom) {
      this.infoLine(`${selector.normalisedFrom} names the subnet ${formatCidr(selector.cidr)}`);
    }

    const result = await lookupLeases(await this.registry(settings), paths, selector, margin);
    if (result.details.length === 0 && result.broken.length === 0) {
      const subnetLen = result.config.config?.ipv4?.subnetLen;
      const otherLength =
        selector.kind === 'cidr' &&
        selector.cidr.family === 4 &&
        subnetLen !== undefined &&
        selector.cidr.prefixLength !== subnetLen;
      throw notFoundError(
        `no lease for ${args.subnet.trim()}: looked up ${describeSelectorKey(selector, paths)}`,
        otherLength ? `this network uses /${subnetLen} subnets` : undefined,
      );
    }

    if (flags.json) {
      this.writeOut(`${detailDocument(paths.prefix, result)}\n`);
      return;
    }

    for (const { stored, reason } of result.broken) {
      this.infoLine(`problem: ${stored.key}: ${reason}`);
    }

    this.writeOut(detailText(result, Date.now()));
  }
}
