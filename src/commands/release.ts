import { Args, Flags } from '@oclif/core';

import { ChangeCommand, changeFlags, confirmFlags } from '../change-command.js';
import { ABSENT, planRelease } from '../domain/change-plan.js';
import { notFoundError, usageError } from '../errors.js';
import {
  renewMarginFlag,
  renewMarginSeconds,
  ipv4Flag,
  recordsPrefix,
  recordsPrefixFlag,
} from '../flags.js';
import { networkPaths, readConfig } from '../registry/network.js';
import { readRecords, refreshRecord, withRecord } from '../registry/records.js';
import { type Target, selectTargets } from '../registry/targets.js';

export default class Release extends ChangeCommand {
  static override summary = 'Free subnets: delete their keys and revoke their unused etcd leases';

  static override description =
    "A lease with more TTL left than flanneld's renew margin belongs to a host that is " +
    'probably alive (its flanneld exits when its key vanishes) and is refused, as is a ' +
    'reservation, unless --force. Shows the plan and asks first; off a terminal, needs --yes.';

  static override strict = false;

  static override args = {
    subnet: Args.string({ description: 'subnets to release (10.5.1.0/24, a key, or - for stdin)' }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %> 10.5.2.0/24',
    '<%= config.bin %> <%= command.id %> --overdue --dry-run',
    '<%= config.bin %> <%= command.id %> --public-ip 192.0.2.21 --yes',
    '<%= config.bin %> <%= command.id %> 10.5.3.0/24 --force --yes',
  ];

  static override flags = {
    ...changeFlags,
    ...confirmFlags,
    'public-ip': Flags.string({ description: 'release what this host holds' }),
    overdue: Flags.boolean({ description: 'release every lease below the renew margin' }),
    force: Flags.boolean({ description: 'also release live leases and reservations' }),
    'ignore-not-found': Flags.boolean({ description: 'a subnet without a key is not an error' }),
    'renew-margin': renewMarginFlag,
    'reservations-prefix': recordsPrefixFlag,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Release);
    const inputs = await this.subnetInputs(argv as string[]);
    const publicIP = ipv4Flag('--public-ip', flags['public-ip']);
    if (inputs.length === 0 && publicIP === undefined && !flags.overdue) {
      throw usageError('name a subnet, - for stdin, --public-ip IP or --overdue');
    }

    const margin = renewMarginSeconds(flags['renew-margin']);
    const rules = {
      renewMarginSeconds: margin,
      force: flags.force,
      ignoreNotFound: flags['ignore-not-found'],
      nowMs: Date.now(),
    };
    const settings = this.connectionSettings(flags);
    const paths = networkPaths(settings.prefix.value);

    const backend = await this.registry(settings);
    const subnetLen = (await readConfig(backend, paths)).config?.ipv4?.subnetLen;
    const records = await readRecords(
      backend,
      recordsPrefix(flags['reservations-prefix']),
      paths.prefix,
    );
    const now = new Date().toISOString();
    const selection = await selectTargets(backend, paths, {
      inputs,
      publicIP,
      overdueMarginSeconds: flags.overdue ? margin : undefined,
    });
    for (const note of selection.notes) this.infoLine(note);
    if (flags.force) this.warnLine('--force: live leases and reservations are released too');

    const plan = (target: Target) => withRecord(planRelease(target, rules), records, now);
    const plans = selection.items.map((item) => {
      if ('target' in item) return plan(item.target);

      const { unmatched } = item;
      return flags['ignore-not-found']
        ? planRelease({ subnet: unmatched.input.trim(), key: unmatched.key, before: ABSENT }, rules)
        : this.notFoundPlan('release', unmatched, subnetLen);
    });
    if (plans.length === 0) {
      if (publicIP !== undefined && inputs.length === 0) {
        throw notFoundError(`no subnet under ${paths.subnetsDir} is held by ${publicIP}`);
      }

      this.infoLine(`no lease under ${paths.subnetsDir} is below the renew margin; nothing to do`);
      return;
    }

    await this.runChanges({
      backend,
      plans,
      replan: async (target) => {
        await refreshRecord(backend, records, target.key);
        return plan(target);
      },
      flags,
      confirm: { yes: flags.yes, question: `Release ${countOf(plans)}?` },
    });
  }
}

function countOf(plans: Array<{ verdict: { kind: string } }>): string {
  const count = plans.filter((plan) => plan.verdict.kind === 'change').length;
  return count === 1 ? '1 subnet' : `${count} subnets`;
}
