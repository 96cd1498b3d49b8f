import { Flags } from '@oclif/core';

import { ChangeCommand, changeFlags, confirmFlags } from '../change-command.js';
import {
  type Finding,
  FINDING_CODES,
  type FindingCode,
  type Commands,
  countFindings,
  diagnose,
  parseCodeList,
  shellWord,
} from '../domain/doctor/index.js';
import {
  type EnvFinding,
  checkSubnetEnv,
  crossCheckWithEtcd,
  readSubnetEnv,
} from '../domain/subnet-env.js';
import { readEnvFile } from '../env-file.js';
import { FlanctlError, usageError } from '../errors.js';
import {
  DEFAULT_MAX_IN_FLIGHT,
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
import { reapplyPlans } from '../registry/reapply.js';
import { recordKeyFor } from '../registry/records.js';
import type { ConnectionSettings } from '../etcd/settings.js';
import { resultsDocument } from '../output/views/changes.js';

export default class Doctor extends ChangeCommand {
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
    ...changeFlags,
    ...confirmFlags,
    json: jsonFlag,
    fix: Flags.boolean({
      description:
        'apply the safe fixes: detach leases nobody renews from recorded reservations ' +
        '(journaled and guarded like reserve; see them first with --dry-run)',
    }),
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
      default: DEFAULT_MAX_IN_FLIGHT,
      description: 'concurrent TimeToLive calls',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    if ((flags['dry-run'] || flags.yes) && !flags.fix) {
      throw usageError('--dry-run and --yes only apply with --fix');
    }

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
      keylessLeases: wanted('keyless-lease'),
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
        records: audit.records.byKey,
        badRecords: audit.records.unreadable,
        renewMarginSeconds: margin,
        capacityWarnPercent: flags['capacity-warn'],
        nowMs: Date.now(),
        commands: this.fixCommands(),
        recordKeyOf: (key) => recordKeyFor(audit.records, key),
      }),
      ...(envFile ? envFindings(envFile, audit, publicIP) : []),
    ].filter((item) => wanted(item.code));

    const summary = {
      prefix: settings.prefix.value,
      revision: network.revision,
      keys: network.keyCount,
      ...countFindings(findings),
    };
    // People see the findings before they are asked to confirm the fixes.
    if (!flags.json) {
      this.writeOut(doctorText(findings, summary, styleFor(process.stdout, process.env)));
    }

    const fixes = flags.fix ? await this.fixDrift(findings, audit, margin, flags) : undefined;
    if (flags.json) {
      const fixDocument = fixes
        ? JSON.parse(resultsDocument(fixes.results, flags['dry-run'] === true, fixes.journal))
        : undefined;
      this.writeOut(`${doctorDocument(findings, summary, fixDocument)}\n`);
    } else if (fixes) {
      this.writeOut(this.resultsText(fixes.results, fixes.journal));
    }

    const fixed = new Set(
      (fixes?.results ?? [])
        .filter((result) => result.status === 'changed')
        .map((result) => result.plan.key),
    );
    if (fixes) this.failOnFirstError(fixes.results);
    const remaining = findings.filter(
      (item) =>
        item.severity === 'error' &&
        !(item.code === 'reservation-drift' && fixed.has(item.subject)),
    ).length;
    if (remaining > 0) {
      const what = fixed.size > 0 ? 'remain' : 'found';
      throw new FlanctlError(
        'problems',
        `${remaining} error${remaining === 1 ? '' : 's'} ${what} (listed above)`,
      );
    }
  }

  /** How fixes start: with the endpoints and prefix this run used unless they are defaults. */
  private fixCommands(): Commands {
    const settings = this.resolvedSettings as ConnectionSettings;
    const endpoints = settings.endpoints.value.join(',');
    const custom = (setting: { source: string }) => setting.source !== 'default';
    const flanctl = [this.config.bin];
    const etcdctl = ['etcdctl'];
    if (custom(settings.endpoints)) {
      flanctl.push(`--endpoints ${shellWord(endpoints)}`);
      etcdctl.push(`--endpoints=${shellWord(endpoints)}`);
    }

    const flanctlOnCluster = flanctl.join(' ');
    if (custom(settings.prefix)) flanctl.push(`--prefix ${shellWord(settings.prefix.value)}`);
    return { flanctl: flanctl.join(' '), flanctlOnCluster, etcdctl: etcdctl.join(' ') };
  }

  /** Detaches the leases nobody renews from recorded reservations; nothing else is touched. */
  private async fixDrift(
    findings: readonly Finding[],
    audit: AuditState,
    margin: number,
    flags: { 'dry-run': boolean; json: boolean; journal?: string; yes: boolean },
  ) {
    const keys = findings
      .filter((item) => item.code === 'reservation-drift' && item.severity === 'error')
      .map((item) => item.subject)
      .filter((key) => audit.records.byKey.has(key));
    if (keys.length === 0) return { results: [], journal: null };

    const backend = await this.registry(this.resolvedSettings as ConnectionSettings);
    const { plans, replan } = await reapplyPlans(
      backend,
      audit.network.paths,
      audit.records,
      keys,
      { renewMarginSeconds: margin, recreateMissing: false },
    );
    const count = plans.filter((plan) => plan.verdict.kind === 'change').length;
    return this.applyChanges({
      backend,
      plans,
      replan,
      flags,
      confirm: {
        yes: flags.yes,
        question: `Detach the dying lease${count === 1 ? '' : 's'} of ${count} recorded reservation${count === 1 ? '' : 's'}?`,
      },
    });
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
