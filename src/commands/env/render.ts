import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { Args, Flags } from '@oclif/core';

import { FlanctlCommand } from '../../base-command.js';
import { parseSubnetSelector } from '../../domain/subnet-key.js';
import { defaultMtu, renderSubnetEnv } from '../../domain/subnet-env.js';
import { FlanctlError, notFoundError, usageError } from '../../errors.js';
import { renewMarginSeconds } from '../../flags.js';
import { describeSelectorKey, lookupLeases } from '../../registry/lookup.js';
import { networkPaths } from '../../registry/network.js';

export default class EnvRender extends FlanctlCommand {
  static override summary = 'Print the subnet.env flanneld would write for a lease';

  static override description =
    'Rebuilds a lost /run/flannel/subnet.env from the lease in etcd and the network config ' +
    '(both families when dual-stack). --output-file writes it atomically (temp file + rename).';

  static override args = {
    subnet: Args.string({ required: true, description: 'the lease, e.g. 10.5.34.0/24' }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %> 10.5.34.0/24',
    '<%= config.bin %> <%= command.id %> 10.5.34.0/24 --mtu 1450 --ipmasq',
    '<%= config.bin %> <%= command.id %> 10.5.34.0/24 --output-file /run/flannel/subnet.env --force',
  ];

  static override flags = {
    mtu: Flags.integer({
      min: 68,
      max: 65535,
      description: 'FLANNEL_MTU [default: from the backend]',
    }),
    ipmasq: Flags.boolean({ description: 'FLANNEL_IPMASQ=true (flanneld --ip-masq)' }),
    'output-file': Flags.string({ description: 'write the file here instead of stdout' }),
    force: Flags.boolean({ description: 'overwrite an existing --output-file' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(EnvRender);
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);
    const parsed = parseSubnetSelector(args.subnet, paths.subnetsDir);
    if (!parsed.ok) throw usageError(parsed.reason);

    const backend = await this.registry(settings);
    const result = await lookupLeases(
      backend,
      paths,
      parsed.selector,
      renewMarginSeconds(undefined),
    );
    if (result.config.text === undefined) {
      throw notFoundError(`no network config at ${paths.configKey}`);
    }

    const config = result.config.problems.length === 0 ? result.config.config : undefined;
    if (!config) {
      throw new FlanctlError(
        'problems',
        `the network config at ${paths.configKey} has problems`,
        'see flanctl config show',
      );
    }

    const lease = result.details[0]?.entry;
    if (!lease || result.details.length > 1) {
      throw notFoundError(
        `no single lease for ${args.subnet}: looked up ${describeSelectorKey(parsed.selector, paths)}`,
      );
    }

    const mtu = flags.mtu ?? defaultMtu(config.backendType);
    if (mtu === undefined) {
      throw usageError(`the MTU of backend ${config.backendType} is not known; give --mtu`);
    }

    const text = renderSubnetEnv(lease.subnet, config, { mtu, ipMasq: flags.ipmasq === true });
    if (flags['output-file'] === undefined) {
      this.writeOut(text);
      return;
    }

    writeAtomically(flags['output-file'], text, flags.force);
    this.infoLine(`wrote ${flags['output-file']} for ${lease.key}`);
  }
}

/** Temp file in the same directory, then rename: readers never see half a file. */
function writeAtomically(file: string, text: string, force: boolean): void {
  if (existsSync(file) && !force) {
    throw new FlanctlError(
      'problems',
      `${file} exists; nothing was written`,
      'add --force to overwrite it',
    );
  }

  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o644 });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw usageError(`cannot write ${file}: ${reason}`);
  }
}
