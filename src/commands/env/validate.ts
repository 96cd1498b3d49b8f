import { Args, Flags } from '@oclif/core';

import { type BaseFlags, FlanctlCommand } from '../../base-command.js';
import {
  type EnvFinding,
  type EtcdView,
  checkSubnetEnv,
  crossCheckWithEtcd,
  readSubnetEnv,
} from '../../domain/subnet-env.js';
import { FlanctlError } from '../../errors.js';
import { renewMarginSeconds, ipv4Flag } from '../../flags.js';
import { findingLines, findingsDocument } from '../../output/views/env.js';
import { envViewOf, readNetwork } from '../../registry/network.js';
import { DEFAULT_ENV_PATHS, readEnvFile } from '../../env-file.js';

export default class EnvValidate extends FlanctlCommand {
  static override summary = 'Check a subnet.env file for both of its readers, and against etcd';

  static override description =
    'The flannel CNI plugin reads the file without quotes, export or trimming; flanneld reads ' +
    'it with a dotenv parser. Each finding names the reader it breaks. Exits 3 on errors (and ' +
    'on warnings with --strict), 2 when the file is missing.';

  static override args = {
    path: Args.string({
      description: `the file, or - for stdin [default: ${DEFAULT_ENV_PATHS.join(', else ')}]`,
    }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> ./subnet.env --backend vxlan --iface-mtu 1500',
    '<%= config.bin %> <%= command.id %> --etcd --public-ip 192.0.2.83 --json',
  ];

  static override flags = {
    json: Flags.boolean({ description: 'print one JSON document' }),
    strict: Flags.boolean({ description: 'treat warnings as errors' }),
    etcd: Flags.boolean({ description: 'also compare with the network config and leases in etcd' }),
    'public-ip': Flags.string({ description: "this host's public IP, for the etcd comparison" }),
    backend: Flags.string({ description: 'backend type for the MTU check [default: from etcd]' }),
    'iface-mtu': Flags.integer({ min: 68, max: 65535, description: "the host interface's MTU" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(EnvValidate);
    ipv4Flag('--public-ip', flags['public-ip']);

    const { path, text } = await readEnvFile(args.path);
    const env = readSubnetEnv(text);
    const etcd = flags.etcd ? await this.etcdView(flags) : undefined;
    const backend = flags.backend ?? etcd?.config?.backendType;
    const findings = [
      ...env.findings,
      ...checkSubnetEnv(env, { backend, ifaceMtu: flags['iface-mtu'] }),
      ...(etcd ? crossCheckWithEtcd(env, etcd) : []),
    ].map((item) => strictly(item, flags.strict));

    this.writeOut(
      flags.json ? `${findingsDocument(path, env, findings)}\n` : findingLines(path, findings),
    );
    if (findings.some((item) => item.severity === 'error')) {
      throw new FlanctlError('problems', `${path} has problems (listed above)`);
    }
  }

  private async etcdView(flags: BaseFlags & { 'public-ip'?: string }): Promise<EtcdView> {
    const settings = this.connectionSettings(flags);
    const state = await readNetwork(await this.registry(settings), settings.prefix.value, {
      maxInFlight: 64,
      renewMarginSeconds: renewMarginSeconds(undefined),
    });
    return envViewOf(state, flags['public-ip']);
  }
}

function strictly(item: EnvFinding, strict: boolean): EnvFinding {
  return strict && item.severity === 'warning' ? { ...item, severity: 'error' } : item;
}
