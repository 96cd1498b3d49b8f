// What every command that changes etcd shares: --dry-run, --json, the journal, confirmation,
// per-subnet results, and the exit code of the first failure.
import { Errors, Flags } from '@oclif/core';

import { FlanctlCommand } from './base-command.js';
import { ABSENT, type PlannedChange } from './domain/change-plan.js';
import { formatCidr } from './domain/cidr.js';
import { FlanctlError, usageError } from './errors.js';
import { Journal, journalPath, redactedCommand } from './journal/journal.js';
import { planText, resultLines, resultsDocument } from './output/views/changes.js';
import { readStdin } from './stdin.js';
import { type ChangeResult, applyOrReport, settled } from './registry/apply.js';
import type { RegistryBackend } from './registry/backend.js';
import { type Target, type Unmatched, rereadTarget } from './registry/targets.js';

export const changeFlags = {
  'dry-run': Flags.boolean({ description: 'print the exact plan and change nothing' }),
  json: Flags.boolean({ description: 'print one JSON document with a result per subnet' }),
  journal: Flags.string({
    description:
      'journal file for undo [default: $XDG_STATE_HOME/flanctl/journal.jsonl, ' +
      'else ~/.local/state/flanctl/journal.jsonl]',
    env: 'FLANCTL_JOURNAL',
  }),
};

export const confirmFlags = {
  yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation' }),
};

export interface ChangeRun {
  readonly backend: RegistryBackend;
  readonly plans: PlannedChange[];
  /** Plans one key again from a fresh read, after flanneld changed it underneath. */
  readonly replan: (target: Target) => PlannedChange | Promise<PlannedChange>;
  readonly flags: { 'dry-run': boolean; json: boolean; journal?: string };
  /** Asks before writing (release, restore); undefined for commands that need no consent. */
  readonly confirm?: { yes: boolean; question: string };
}

export abstract class ChangeCommand extends FlanctlCommand {
  /** Subnet arguments, with `-` replaced by the lines of stdin. */
  protected async subnetInputs(argv: readonly string[]): Promise<string[]> {
    if (!argv.includes('-')) return [...argv];

    const lines = (await readStdin())
      .split('\n')
      .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
      .filter((line) => line !== '');
    if (lines.length === 0) throw usageError('- was given but stdin holds no subnet');
    return argv.flatMap((input) => (input === '-' ? lines : [input]));
  }

  /** A not-found result for a typed subnet that matched no key. */
  protected notFoundPlan(
    action: PlannedChange['action'],
    unmatched: Unmatched,
    subnetLen?: number,
  ): PlannedChange {
    const { selector } = unmatched;
    const otherLength =
      selector.kind === 'cidr' &&
      subnetLen !== undefined &&
      selector.cidr.prefixLength !== subnetLen;
    const hint = otherLength ? ` (this network uses /${subnetLen} subnets)` : '';
    const subnet = selector.kind === 'cidr' ? formatCidr(selector.cidr) : unmatched.input.trim();
    return {
      action,
      subnet,
      key: unmatched.key,
      before: ABSENT,
      verdict: {
        kind: 'refused',
        exit: 'notFound',
        reason: `no key ${unmatched.key}${hint}`,
      },
      leaseToRevoke: null,
    };
  }

  protected async runChanges(run: ChangeRun): Promise<void> {
    const { results, journal } = await this.applyChanges(run);
    this.report(results, run.flags['dry-run'] === true, journal, run.flags.json);
  }

  /** Carries the plans out (or only plans them, with --dry-run); reports nothing. */
  protected async applyChanges(
    run: ChangeRun,
  ): Promise<{ results: ChangeResult[]; journal: string | null }> {
    const { flags, plans } = run;
    const dryRun = flags['dry-run'] === true;
    const changing = plans.filter((plan) => plan.verdict.kind === 'change');

    let journal: Journal | undefined;
    let results: ChangeResult[];
    if (dryRun || changing.length === 0) {
      results = plans.map((plan) => settled(plan) ?? { plan, status: 'planned' });
    } else {
      if (run.confirm) await this.confirmChanges(changing, run.confirm);
      journal = Journal.open(journalPath(flags.journal, process.env));
      results = [];
      let lostEtcd: FlanctlError | undefined;
      for (const plan of plans) {
        // Once etcd is gone, the rest are reported as not tried rather than each failing alike.
        if (lostEtcd && plan.verdict.kind === 'change') {
          const error = new FlanctlError('unreachable', `not tried: ${lostEtcd.message}`);
          results.push({ plan, status: 'failed', error });
          continue;
        }

        const context = {
          backend: run.backend,
          journal,
          // The key's own network prefix, so a restore across prefixes journals each right.
          prefix: plan.key.slice(0, plan.key.lastIndexOf('/subnets/')),
          command: redactedCommand([this.config.bin, ...process.argv.slice(2)]),
          undoFlags: this.undoContext(journal.path),
        };
        const reread = async () => await run.replan(await rereadTarget(run.backend, plan));
        const result = await applyOrReport(context, plan, reread);
        if (result.error?.kind === 'unreachable') lostEtcd = result.error;
        results.push(result);
      }
    }

    return { results, journal: journal?.path ?? null };
  }

  private async confirmChanges(
    changing: PlannedChange[],
    consent: { yes: boolean; question: string },
  ): Promise<void> {
    if (consent.yes) return;

    if (!process.stdin.isTTY) {
      throw usageError(
        `${consent.question.replace(/\?$/, '')}: confirmation needed and stdin is not a terminal; ` +
          'nothing was changed',
        'pass --yes (see the plan first with --dry-run)',
      );
    }

    for (const plan of changing) process.stderr.write(`  ${planText(plan)}\n`);
    // The prompt library is only loaded when a person is asked something.
    const { confirm } = await import('@inquirer/prompts');
    const agreed = await confirm(
      { message: consent.question, default: false },
      { output: process.stderr },
    ).catch((error: unknown) => {
      // Ctrl-C at the prompt is a no, not a failure.
      if (error instanceof Error && error.name === 'ExitPromptError') return false;
      throw error;
    });
    if (!agreed) throw new FlanctlError('problems', 'not confirmed; nothing was changed');
  }

  /** The flags an undo command needs to act where this one did. */
  protected undoContext(journal: string | null): string {
    const settings = this.resolvedSettings;
    const words: string[] = [];
    if (settings?.endpoints.source === 'flag') {
      words.push(`--endpoints ${settings.endpoints.value.join(',')}`);
    }

    if (settings?.prefix.source === 'flag') words.push(`--prefix ${settings.prefix.value}`);
    if (journal && journal !== journalPath(undefined, process.env))
      words.push(`--journal ${journal}`);
    return words.join(' ');
  }

  protected report(
    results: ChangeResult[],
    dryRun: boolean,
    journal: string | null,
    json: boolean,
  ): void {
    if (json) {
      this.writeOut(`${resultsDocument(results, dryRun, journal)}\n`);
    } else {
      this.writeOut(this.resultsText(results, journal));
    }

    this.failOnFirstError(results);
  }

  protected resultsText(results: ChangeResult[], journal: string | null): string {
    const context = this.undoContext(journal);
    const lines = results.flatMap((result) => resultLines(result, this.config.bin, context));
    return lines.length > 0 ? `${lines.join('\n')}\n` : '';
  }

  /** Names each failure on stderr; the first one decides the exit code. */
  protected failOnFirstError(results: ChangeResult[]): void {
    const failures = results.flatMap((result) => (result.error ? [result] : []));
    for (const { plan, error } of failures) {
      this.errorLine(`${plan.subnet}: ${error?.message}`, error?.hint);
    }

    // The first failure decides the exit code, after everything else was done and shown.
    if (failures[0]?.error) throw new Errors.ExitError(failures[0].error.exitCode);
  }
}
