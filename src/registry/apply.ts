// Carries out planned changes: journal first, then one transaction guarded by the key's mod
// revision as read (or its absence), then the old lease is revoked once no key uses it.
import { ABSENT, type KeySnapshot, type PlannedChange } from '../domain/change-plan.js';
import { FlanctlError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import { whoAndWhere } from '../journal/journal.js';
import type { KeyGuard, KeyWrite, RegistryBackend } from './backend.js';

export interface Revocation {
  readonly leaseId: string;
  readonly revoked: boolean;
  /** Keys still attached, which is why the lease was kept. */
  readonly keptFor: string[];
  /** Why the revoke call failed; the lease then expires on its own. */
  readonly failure?: string;
}

export interface ChangeResult {
  /** The plan that was carried out (after a re-read, the second one). */
  readonly plan: PlannedChange;
  readonly status: 'changed' | 'unchanged' | 'planned' | 'failed';
  readonly after?: KeySnapshot;
  readonly journalId?: string;
  readonly revocation?: Revocation;
  readonly error?: FlanctlError;
  /** Why the journal could not record the result; the change itself was made. */
  readonly journalFailure?: string;
}

export interface ApplyContext {
  readonly backend: RegistryBackend;
  readonly journal: Journal;
  readonly prefix: string;
  readonly command: string[];
  /** Flags a restore needs to reach the same cluster, prefix and journal (`--prefix /x`). */
  readonly undoFlags?: string;
}

/**
 * Applies a plan. When the key changed between read and write (flanneld renewed it), `replan`
 * reads it again and the new plan gets one more try; a second change is a conflict.
 */
export async function applyPlan(
  context: ApplyContext,
  first: PlannedChange,
  replan: () => Promise<PlannedChange>,
): Promise<ChangeResult> {
  let plan = first;
  for (let attempt = 1; ; attempt++) {
    const early = settled(plan);
    if (early) return early;

    const outcome = await writeOnce(context, plan);
    if (outcome) return outcome;

    const again = await replan();
    if (attempt === 2) return { plan: again, status: 'failed', error: conflict(plan, again) };
    plan = again;
  }
}

/**
 * applyPlan, with a failure (etcd went away mid-run) turned into that subnet's result, so that
 * it does not hide what was done to the others.
 */
export async function applyOrReport(
  context: ApplyContext,
  plan: PlannedChange,
  replan: () => Promise<PlannedChange>,
): Promise<ChangeResult> {
  try {
    return await applyPlan(context, plan, replan);
  } catch (error) {
    const failure =
      error instanceof FlanctlError
        ? error
        : new FlanctlError('unexpected', (error as Error).message, undefined, { cause: error });
    return { plan, status: 'failed', error: failure };
  }
}

/** Plans that need no write: done already, or refused. */
export function settled(plan: PlannedChange): ChangeResult | undefined {
  const { verdict } = plan;
  if (verdict.kind === 'unchanged') return { plan, status: 'unchanged' };
  if (verdict.kind === 'refused') {
    return { plan, status: 'failed', error: new FlanctlError(verdict.exit, verdict.reason) };
  }

  return undefined;
}

async function writeOnce(
  context: ApplyContext,
  plan: PlannedChange,
): Promise<ChangeResult | undefined> {
  if (plan.verdict.kind !== 'change') return undefined;

  const { backend, journal } = context;
  const { outcome, newLeaseTtlSeconds } = plan.verdict;
  const id = journal.newId();
  journal.appendOrRefuse({
    type: 'intent',
    id,
    time: new Date().toISOString(),
    ...whoAndWhere(),
    command: context.command,
    prefix: context.prefix,
    action: plan.action,
    subnet: plan.subnet,
    key: plan.key,
    before: plan.before,
  });

  const newLease =
    outcome.kind === 'put' && outcome.lease === 'new'
      ? await backend.grantLease(newLeaseTtlSeconds ?? 0)
      : null;
  const guard: KeyGuard = plan.before.exists
    ? { key: plan.key, modRevision: plan.before.modRevision ?? 0 }
    : { key: plan.key, absent: true };
  const write: KeyWrite | undefined =
    outcome.kind === 'delete'
      ? { delete: { key: plan.key } }
      : outcome.kind === 'put'
        ? { put: { key: plan.key, value: outcome.value, leaseId: newLease } }
        : undefined;
  const writes: KeyWrite[] = write ? [write] : [];
  if (plan.record) writes.push(recordWrite(plan.record));

  let revision: number;
  try {
    const result = await backend.write([guard], writes);
    if (!result.applied) {
      // The granted lease would otherwise linger, keyless, for its whole TTL.
      if (newLease) await backend.revokeIfUnused(newLease);
      return undefined;
    }

    revision = result.revision;
  } catch (error) {
    // A timed-out call may still have been applied: look before calling it a failure.
    const landed = write
      ? await landedRevision(backend, plan.key, write).catch(() => undefined)
      : undefined;
    if (landed === undefined) {
      if (newLease) await backend.revokeIfUnused(newLease).catch(() => undefined);
      throw mayHaveLanded(error, id, context.undoFlags ?? '');
    }

    revision = landed;
  }

  const after: KeySnapshot =
    outcome.kind === 'delete'
      ? ABSENT
      : outcome.kind === 'record'
        ? plan.before
        : {
            exists: true,
            value: outcome.value,
            leaseId: newLease,
            ttlSeconds: newLease ? (newLeaseTtlSeconds ?? null) : null,
            grantedTtlSeconds: newLease ? (newLeaseTtlSeconds ?? null) : null,
            modRevision: revision,
          };
  const journalFailure = journal.tryAppend({
    type: 'applied',
    id,
    time: new Date().toISOString(),
    revision,
    after,
  });

  const revocation = plan.leaseToRevoke
    ? { leaseId: plan.leaseToRevoke, ...(await revoke(backend, plan.leaseToRevoke)) }
    : undefined;
  return { plan, status: 'changed', after, journalId: id, revocation, journalFailure };
}

function recordWrite(record: NonNullable<PlannedChange['record']>): KeyWrite {
  return 'put' in record
    ? { put: { key: record.put.key, value: record.put.value, leaseId: null } }
    : { delete: { key: record.delete.key } };
}

/** The key's mod revision when it is as the write would leave it (0 for a delete), else undefined. */
async function landedRevision(
  backend: RegistryBackend,
  key: string,
  write: KeyWrite,
): Promise<number | undefined> {
  const stored = await backend.readSubnet(key, key.slice(0, key.lastIndexOf('/') + 1));
  if ('delete' in write) return stored ? undefined : 0;

  const landed = stored?.value === write.put.value && stored.leaseId === write.put.leaseId;
  return landed ? stored.modRevision : undefined;
}

function mayHaveLanded(error: unknown, journalId: string, undoFlags: string): FlanctlError {
  const cause = error instanceof FlanctlError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new FlanctlError(
    cause?.kind ?? 'unexpected',
    `${message}; the change may still reach etcd`,
    `check the key; journal entry ${journalId} records it as it was ` +
      `(restore it with: flanctl restore --entry ${journalId} --force` +
      `${undoFlags === '' ? '' : ` ${undoFlags}`})`,
    { cause: error },
  );
}

// The change is made and journaled by now: a failed revoke is reported, not thrown, so the
// result and its undo line are still shown.
async function revoke(backend: RegistryBackend, leaseId: string) {
  try {
    const { revoked, keys } = await backend.revokeIfUnused(leaseId);
    return { revoked, keptFor: keys };
  } catch (error) {
    return { revoked: false, keptFor: [], failure: (error as Error).message };
  }
}

function conflict(tried: PlannedChange, now: PlannedChange): FlanctlError {
  const describe = (state: KeySnapshot) =>
    state.exists ? `mod revision ${state.modRevision}, lease ${state.leaseId ?? 'none'}` : 'no key';
  return new FlanctlError(
    'conflict',
    `${tried.key} changed while flanctl wrote it (was ${describe(tried.before)}, ` +
      `now ${describe(now.before)}); nothing was written`,
    'run the command again to act on the new state',
  );
}
