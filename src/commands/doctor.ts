import { Flags } from '@oclif/core';

import { FlanctlCommand } from '../base-command.js';
import {
  type Finding,
  FINDING_CODES,
  type FindingCode,
  countFindings,
  diagnose,
  parseCodeList,
} from '../domain/doctor.js';
import {
  type EnvFinding,
  checkSubnetEnv,
  crossCheckWithEtcd,
  readSubnetEnv,
} from '../domain/subnet-env.js';
import { readEnvFile } from '../env-file.js';
import { FlanctlError, usageError } from '../errors.js';
import {
  ipv4Flag,
  jsonFlag,
  recordsPrefix,
  recordsPrefixFlag,
  renewMarginFlag,
  renewMarginSeconds,
} from '../flags.js';
import { doctorDocument, doctorText } from '../output/views/doctor.js';
import { styleFor } from '../output/style.js';
import { type AuditState, readAudit } from '../registry/audit.js';
import { envViewOf } from '../registry/network.js';

export default class Doctor extends FlanctlCommand {
  static override summary = 'Audit the whole flannel network: config, keys, leases, capacity';

  static override description =
    "Reads the config, every subnet key, their lease TTLs, the cluster's lease list and " +
    "flanctl's reservation records once, then reports findings with a stable code, the key " +
    'they concern and a command that fixes them where one exists. Exits 3 when any finding ' +
    'is an error, 0 otherwise.';

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json --skip keyless-lease',
    '<%= config.bin %> <%= command.id %> --env /run/flannel/subnet.env --public-ip 192.0.2.83',
  ];

  static override flags = {
    json: jsonFlag,
    only: Flags.string({ description: 'report only these codes, comma-separated' }),
    skip: Flags.string({ description: 'leave out these codes, comma-separated' }),
    'renew-margin': renewMarginFlag,
    'capacity-warn': Flags.integer({
      min: 1,
      max: 100,
      default: 80,
      description: 'warn when this percentage of the subnets is used',
    }),
    env: Flags.string({ description: "also check this node's subnet.env against etcd" }),
    'public-ip': Flags.string({ description: "this node's public IP, with --env" }),
    v2: Flags.boolean({
      description: "also look for the config in etcd's v2 store (flannel before 0.17)",
    }),
    'reservations-prefix': recordsPrefixFlag,
    'max-in-flight': Flags.integer({
      min: 1,
      max: 1024,
      default: 64,
      description: 'concurrent TimeToLive calls',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    const wanted = codeFilter(flags.only, flags.skip);
    const margin = renewMarginSeconds(flags['renew-margin']);
    const publicIP = ipv4Flag('--public-ip', flags['public-ip']);
    if (publicIP !== undefined && flags.env === undefined) {
      throw usageError('--public-ip needs --env: it names the host of that subnet.env');
    }

    const envFile = flags.env === undefined ? undefined : await readEnvFile(flags.env);
    const settings = this.connectionSettings(flags);
    const backend = await this.registry(settings);
    const audit = await readAudit(backend, settings.prefix.value, {
      maxInFlight: flags['max-in-flight'],
      renewMarginSeconds: margin,
      recordsPrefix: recordsPrefix(flags['reservations-prefix']),
    });
    const { network } = audit;
    const v2Config = flags.v2 ? await backend.readV2Value(network.paths.configKey) : undefined;

    const findings = [
      ...diagnose({
        prefix: settings.prefix.value,
        configKey: network.paths.configKey,
        configText: network.config.text,
        config: network.config.config,
        configProblems: network.config.problems,
        v2Config,
        nearMissKeys: audit.nearMissKeys,
        otherPrefixes: audit.otherPrefixes,
        entries: network.entries,
        problems: network.problems,
        keylessLeases: audit.keylessLeases,
        records: audit.records,
        badRecords: audit.badRecords,
        renewMarginSeconds: margin,
        capacityWarnPercent: flags['capacity-warn'],
        nowMs: Date.now(),
      }),
      ...(envFile ? envFindings(envFile, audit, publicIP) : []),
    ].filter((item) => wanted(item.code));

    const summary = {
      prefix: settings.prefix.value,
      revision: network.revision,
      keys: network.keyCount,
      ...countFindings(findings),
    };
    this.writeOut(
      flags.json
        ? `${doctorDocument(findings, summary)}\n`
        : doctorText(findings, summary, styleFor(process.stdout, process.env)),
    );
    if (summary.errors > 0) {
      throw new FlanctlError(
        'problems',
        `${summary.errors} error${summary.errors === 1 ? '' : 's'} found (listed above)`,
      );
    }
  }
}

function codeFilter(only: string | undefined, skip: string | undefined) {
  const parse = (flag: string, text: string | undefined): Set<FindingCode> | undefined => {
    if (text === undefined) return undefined;

    const { codes, unknown } = parseCodeList(text);
    if (unknown.length > 0 || codes.length === 0) {
      const bad = unknown.length > 0 ? unknown.join(',') : JSON.stringify(text);
      throw usageError(
        `${flag} ${bad}: unknown finding code; expected ${FINDING_CODES.join(', ')}`,
      );
    }

    return new Set(codes);
  };

  const onlyCodes = parse('--only', only);
  const skipCodes = parse('--skip', skip);
  return (code: FindingCode) =>
    (onlyCodes === undefined || onlyCodes.has(code)) && !skipCodes?.has(code);
}

function envFindings(
  file: { path: string; text: string },
  audit: AuditState,
  publicIP: string | undefined,
): Finding[] {
  const env = readSubnetEnv(file.text);
  const view = envViewOf(audit.network, publicIP);
  const all: EnvFinding[] = [
    ...env.findings,
    ...checkSubnetEnv(env, { backend: view.config?.backendType }),
    ...crossCheckWithEtcd(env, view),
  ];
  return all.map((item) => ({
    severity: item.severity,
    code: 'subnet-env',
    subject: item.line === null ? file.path : `${file.path}:${item.line}`,
    message: item.message,
    fix: null,
  }));
}
