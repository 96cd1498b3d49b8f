import { Args, Flags } from '@oclif/core';

import type { BaseFlags } from '../base-command.js';
import { ChangeCommand, changeFlags } from '../change-command.js';
import {
  ABSENT,
  type PlannedChange,
  planCreate,
  planRecord,
  planReserve,
  preassignProblems,
} from '../domain/change-plan.js';
import { type Cidr, formatCidr } from '../domain/cidr.js';
import { isJsonObject, parseJson } from '../domain/go-json.js';
import { parseLeaseValue } from '../domain/lease-attrs.js';
import type { NetworkConfig } from '../domain/network-config.js';
import { notFoundError, usageError } from '../errors.js';
import {
  ipv4Flag,
  recordsPrefix,
  recordsPrefixFlag,
  renewMarginFlag,
  renewMarginSeconds,
} from '../flags.js';
import { Journal, journalPath, redactedCommand } from '../journal/journal.js';
import { guardJson, guardText } from '../output/views/guard.js';
import { applyOrReport, settled } from '../registry/apply.js';
import { guardReservations } from '../registry/guard.js';
import { heldSubnets, reapplyPlans } from '../registry/reapply.js';
import type { SubnetListing } from '../registry/backend.js';
import { type ConfigState, networkPaths, readConfig } from '../registry/network.js';
import { type Records, readRecords, refreshRecord, withRecord } from '../registry/records.js';
import { type Target, selectTargets } from '../registry/targets.js';

type ReapplyFlags = BaseFlags & {
  'dry-run': boolean;
  json: boolean;
  journal?: string;
  'reservations-prefix'?: string;
  'renew-margin'?: string;
};

export default class Reserve extends ChangeCommand {
  static override summary = 'Turn leases into reservations: the same key and value, no etcd lease';

  static override description =
    'Each key is re-put without its lease in one transaction guarded by its mod revision; the ' +
    'old lease is revoked once no key uses it. With --public-ip and a subnet that has no key, ' +
    'creates a reservation for a host that has no lease yet.';

  static override strict = false;

  static override args = {
    subnet: Args.string({ description: 'subnets to reserve (10.5.1.0/24, a key, or - for stdin)' }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %> 10.5.1.0/24',
    '<%= config.bin %> <%= command.id %> --public-ip 192.0.2.17 --dry-run',
    '<%= config.bin %> <%= command.id %> 10.5.7.0/24 --public-ip 192.0.2.17 --backend vxlan',
    'cat subnets.txt | <%= config.bin %> <%= command.id %> - --json',
  ];

  static override flags = {
    ...changeFlags,
    'public-ip': Flags.string({
      description: 'the host: reserve what it holds, or pre-assign the named subnet to it',
    }),
    backend: Flags.string({
      description: 'BackendType of a pre-assigned subnet [default: config]',
    }),
    'backend-data': Flags.string({ description: 'BackendData JSON of a pre-assigned subnet' }),
    'reservations-prefix': recordsPrefixFlag,
    reapply: Flags.boolean({
      description:
        'detach leases nobody renews from recorded reservations, and put back recorded keys ' +
        'that are gone (all recorded ones unless subnets are named)',
      exclusive: ['public-ip', 'backend', 'backend-data'],
    }),
    watch: Flags.boolean({
      description:
        "keep running: detach each recorded reservation's lease as soon as it is not renewed " +
        'in time (Ctrl-C or SIGTERM stops)',
      exclusive: ['reapply', 'public-ip', 'backend', 'backend-data'],
    }),
    'renew-margin': renewMarginFlag,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Reserve);
    const inputs = await this.subnetInputs(argv as string[]);
    if (flags.reapply) return this.reapply(inputs, flags);
    if (flags.watch) return this.guard(inputs, flags);
    if (flags['renew-margin'] !== undefined) {
      throw usageError('--renew-margin only applies with --reapply or --watch');
    }

    const publicIP = checkedPublicIp(flags['public-ip'], inputs);
    const preassignValue = publicIP && inputs.length > 0 ? newValue(publicIP, flags) : undefined;
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);

    const backend = await this.registry(settings);
    const config = await readConfig(backend, paths);
    const records = await readRecords(
      backend,
      recordsPrefix(flags['reservations-prefix']),
      paths.prefix,
    );
    const named = inputs.length > 0;
    const now = new Date().toISOString();
    const plan = (target: Target) =>
      withRecord(planFor(target, publicIP, named, records), records, now);
    const selection = await selectTargets(backend, paths, {
      inputs,
      publicIP: inputs.length === 0 ? publicIP : undefined,
    });
    for (const note of selection.notes) this.infoLine(note);

    const plans: PlannedChange[] = selection.items.map((item) => {
      if ('target' in item) return plan(item.target);

      const { selector, key } = item.unmatched;
      if (preassignValue && selector.kind === 'cidr' && selector.cidr.family === 4) {
        const created = preassignPlan(selector.cidr, key, publicIP as string, {
          value: preassignValue(config),
          config: config.problems.length === 0 ? config.config : undefined,
          listing: selection.listing,
        });
        return withRecord(created, records, now);
      }

      return this.notFoundPlan('reserve', item.unmatched, config.config?.ipv4?.subnetLen);
    });
    // The IP rule looks at keys that exist; within one call a host gets one new subnet too.
    const creates = plans.filter(
      (plan) => plan.action === 'create' && plan.verdict.kind === 'change',
    );
    for (const extra of creates.slice(1)) {
      const index = plans.indexOf(extra);
      plans[index] = {
        ...extra,
        verdict: {
          kind: 'refused',
          exit: 'problems',
          reason: `${publicIP} gets ${creates[0].subnet} in this call already; a host holds one subnet`,
        },
      };
    }

    if (!preassignValue && (flags.backend !== undefined || flags['backend-data'] !== undefined)) {
      this.warnLine('--backend and --backend-data only apply when pre-assigning a new subnet');
    }

    if (plans.length === 0) {
      throw notFoundError(`no subnet under ${paths.subnetsDir} is held by ${publicIP}`);
    }

    await this.runChanges({
      backend,
      plans,
      replan: async (target) => {
        await refreshRecord(backend, records, target.key);
        return plan(target);
      },
      flags,
    });
    this.warnAboutFlannelV3(plans, flags['dry-run']);
  }

  private async reapply(inputs: string[], flags: ReapplyFlags): Promise<void> {
    const margin = renewMarginSeconds(flags['renew-margin']);
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);

    const backend = await this.registry(settings);
    const records = await readRecords(
      backend,
      recordsPrefix(flags['reservations-prefix']),
      paths.prefix,
    );
    const { plans, notes, replan } = await reapplyPlans(backend, paths, records, inputs, {
      renewMarginSeconds: margin,
      recreateMissing: true,
    });
    for (const note of notes) this.infoLine(note);
    if (plans.length === 0) {
      this.infoLine(`no recorded reservation under ${paths.prefix}; nothing to do`);
      return;
    }

    await this.runChanges({ backend, plans, replan, flags });
  }

  private async guard(inputs: string[], flags: ReapplyFlags): Promise<void> {
    if (inputs.length > 0) {
      throw usageError(
        `reserve --watch guards every recorded reservation; name no subnet (got ${inputs[0]})`,
      );
    }

    const margin = renewMarginSeconds(flags['renew-margin']);
    const records = recordsPrefix(flags['reservations-prefix']);
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());

    const backend = await this.registry(settings);
    const dryRun = flags['dry-run'];
    const journal = dryRun ? undefined : Journal.open(journalPath(flags.journal, process.env));
    const context = {
      backend,
      prefix: paths.prefix,
      command: redactedCommand([this.config.bin, ...process.argv.slice(2)]),
      undoFlags: this.undoContext(journal?.path ?? null),
    };
    const apply = async (plan: PlannedChange, replan: () => Promise<PlannedChange>) =>
      journal
        ? applyOrReport({ ...context, journal }, plan, replan)
        : (settled(plan) ?? { plan, status: 'planned' as const });

    const options = {
      renewMarginSeconds: margin,
      recordsPrefix: records,
      signal: stop.signal,
      apply,
    };
    await guardReservations(backend, paths, options, (output) => {
      const nowMs = Date.now();
      if (flags.json) {
        const line = guardJson(output, nowMs);
        if (line !== undefined) this.writeOut(`${line}\n`);
        if (output.kind !== 'note') return;
      }

      const resultText =
        output.kind === 'result' ? this.resultsText([output.result], journal?.path ?? null) : '';
      const text = guardText(output, nowMs, {
        prefix: paths.prefix,
        marginSeconds: margin,
        resultText,
      });
      if (text.note !== undefined) this.infoLine(text.note);
      if (text.stdout !== undefined && !flags.json) this.writeOut(text.stdout);
      if (output.kind === 'result' && output.result.error) {
        this.errorLine(`${output.result.plan.subnet}: ${output.result.error.message}`);
      }
    });
  }

  // flanneld with etcd v3 decides "reservation" from a zero expiry that etcd never reports.
  private warnAboutFlannelV3(plans: PlannedChange[], dryRun: boolean): void {
    if (dryRun || !plans.some((plan) => plan.verdict.kind === 'change')) return;

    this.warnLine(
      'flanneld versions that use etcd v3 turn a reservation back into a 24h lease when they ' +
        'restart, and a running flanneld probably does so within seconds (flannel issue 1329). ' +
        `The reservation is recorded: \`${this.config.bin} doctor\` reports such a lease, and ` +
        `\`${this.config.bin} reserve --reapply\` (or \`reserve --watch\`) detaches it once ` +
        'its host stops renewing',
    );
  }
}

/**
 * With subnets named and --public-ip, a subnet held by another host is refused. A reservation
 * flanctl has no record of gets one, and the key is left as it is.
 */
function planFor(
  target: Target,
  publicIP: string | undefined,
  named: boolean,
  records: Records,
): PlannedChange {
  const reserved = planReserve(target);
  const plan =
    reserved.verdict.kind === 'unchanged' &&
    target.before.leaseId === null &&
    !records.byKey.has(target.key)
      ? planRecord(target)
      : reserved;
  const holder = parseLeaseValue(target.before.value ?? '');
  if (!named || !publicIP || !holder.ok || holder.attrs.publicIP === publicIP) return plan;

  return {
    ...plan,
    verdict: {
      kind: 'refused',
      exit: 'problems',
      reason: `is held by ${holder.attrs.publicIP}, not ${publicIP}`,
    },
    leaseToRevoke: null,
  };
}

function checkedPublicIp(text: string | undefined, inputs: string[]): string | undefined {
  if (text === undefined) {
    if (inputs.length === 0) throw usageError('name a subnet, - for stdin, or --public-ip IP');
    return undefined;
  }

  return ipv4Flag('--public-ip', text);
}

/** The LeaseAttrs value flanneld would find for a pre-assigned host. */
function newValue(
  publicIP: string,
  flags: { backend?: string; 'backend-data'?: string },
): (config: ConfigState) => string {
  let backendData: unknown = null;
  if (flags['backend-data'] !== undefined) {
    const parsed = parseJson(flags['backend-data']);
    if (!parsed.ok || !isJsonObject(parsed.value)) {
      throw usageError(
        `--backend-data ${JSON.stringify(flags['backend-data'])} is not a JSON object`,
      );
    }

    backendData = parsed.value;
  }

  return (config) =>
    JSON.stringify({
      PublicIP: publicIP,
      PublicIPv6: null,
      BackendType: flags.backend ?? config.config?.backendType ?? 'udp',
      BackendData: backendData,
    });
}

/** A new reservation for a host that has no lease yet, refused when it would not hold. */
function preassignPlan(
  subnet: Cidr,
  key: string,
  publicIP: string,
  context: { value: string; config?: NetworkConfig; listing: SubnetListing },
): PlannedChange {
  const held = heldSubnets(context.listing);
  const target = { subnet: formatCidr(subnet), key, before: ABSENT };
  return planCreate(
    target,
    context.value,
    preassignProblems(subnet, publicIP, context.config, held),
  );
}
