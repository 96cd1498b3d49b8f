import { Args, Flags } from '@oclif/core';

import { ChangeCommand, changeFlags } from '../change-command.js';
import {
  FLANNEL_LEASE_TTL_SECONDS,
  type PlannedChange,
  planUnreserve,
} from '../domain/change-plan.js';
import { usageError } from '../errors.js';
import { durationSeconds, recordsPrefix, recordsPrefixFlag } from '../flags.js';
import { networkPaths, readConfig } from '../registry/network.js';
import { type Records, readRecords, refreshRecord, withRecord } from '../registry/records.js';
import { type Target, selectTargets } from '../registry/targets.js';

// etcd refuses shorter leases (its minimum TTL), and flannel's own lease is a day.
const MIN_TTL_SECONDS = 5;
const MAX_TTL_SECONDS = 7 * 86_400;

export default class Unreserve extends ChangeCommand {
  static override summary = 'Turn reservations back into leases under a fresh etcd lease';

  static override description =
    'Each key is re-put with the same value under a new etcd lease (flannel grants 24h), in one ' +
    'transaction guarded by its mod revision; a lease granted for a write that fails is revoked.';

  static override strict = false;

  static override args = {
    subnet: Args.string({
      description: 'subnets to unreserve (10.5.1.0/24, a key, or - for stdin)',
    }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %> 10.5.2.0/24',
    '<%= config.bin %> <%= command.id %> 10.5.2.0/24 --ttl 2h --dry-run',
  ];

  static override flags = {
    ...changeFlags,
    ttl: Flags.string({ description: 'TTL of the new etcd lease [default: 24h]' }),
    'reservations-prefix': recordsPrefixFlag,
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Unreserve);
    const inputs = await this.subnetInputs(argv as string[]);
    if (inputs.length === 0) throw usageError('name a subnet to unreserve, or - for stdin');
    const ttl = leaseTtl(flags.ttl);
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
    const selection = await selectTargets(backend, paths, { inputs });
    for (const note of selection.notes) this.infoLine(note);

    const plan = (target: Target) => withRecord(unreservePlan(target, ttl, records), records, now);
    const plans = selection.items.map((item) =>
      'target' in item
        ? plan(item.target)
        : this.notFoundPlan('unreserve', item.unmatched, subnetLen),
    );
    await this.runChanges({
      backend,
      plans,
      replan: async (target) => {
        await refreshRecord(backend, records, target.key);
        return plan(target);
      },
      flags,
    });
  }
}

function leaseTtl(text: string | undefined): number {
  if (text === undefined) return FLANNEL_LEASE_TTL_SECONDS;

  const seconds = durationSeconds('--ttl', text);
  if (seconds < MIN_TTL_SECONDS || seconds > MAX_TTL_SECONDS) {
    throw usageError(`--ttl ${text} is out of range; expected 5s to 168h`);
  }

  return seconds;
}

/**
 * A key flanneld re-leased needs no new lease, but its reservation record must still go, or the
 * guard would keep pinning a subnet the operator gave back.
 */
function unreservePlan(target: Target, ttl: number, records: Records): PlannedChange {
  const plan = planUnreserve(target, ttl);
  const leased = target.before.exists && target.before.leaseId !== null;
  if (plan.verdict.kind !== 'unchanged' || !leased || !records.byKey.has(target.key)) return plan;

  return { ...plan, verdict: { kind: 'change', outcome: { kind: 'record' } } };
}
