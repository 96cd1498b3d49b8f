import { Args, Flags } from '@oclif/core';

import { ChangeCommand, changeFlags, confirmFlags } from '../change-command.js';
import { type KeySnapshot, type PlannedChange, planRestore } from '../domain/change-plan.js';
import { parseDurationMs } from '../domain/duration.js';
import { usageError } from '../errors.js';
import { type JournalEntry, journalPath, readJournal } from '../journal/journal.js';
import { journalListing } from '../output/views/changes.js';
import { rereadTarget } from '../registry/targets.js';

export default class Restore extends ChangeCommand {
  static override summary = 'Put keys back as the journal recorded them before a change';

  static override description =
    'Without --entry or --since, undoes the most recent change in the journal. Leases come ' +
    'back as new etcd leases with the remaining TTL that was recorded. A key that changed ' +
    'after the journal entry is refused unless --force. Shows the plan and asks first.';

  static override args = {
    journal: Args.string({ description: 'journal to read [default: the one --journal names]' }),
  };

  static override examples = [
    '<%= config.bin %> <%= command.id %> --list',
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --entry 20261204T171730Z-4711-1 --yes',
    '<%= config.bin %> <%= command.id %> --since 30m',
  ];

  static override flags = {
    ...changeFlags,
    ...confirmFlags,
    entry: Flags.string({ description: 'journal entry id to undo', multiple: true }),
    since: Flags.string({
      description: 'undo every change since this time (ISO 8601, or a duration ago like 2h)',
      exclusive: ['entry'],
    }),
    list: Flags.boolean({ description: 'list the journal entries and change nothing' }),
    force: Flags.boolean({ description: 'overwrite keys that changed after the entry' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Restore);
    const file = args.journal ?? journalPath(flags.journal, process.env);
    const { entries, unconfirmed, skippedLines } = readJournal(file);
    if (skippedLines > 0) this.warnLine(`${file}: ${skippedLines} unreadable lines skipped`);
    if (flags.list) {
      const all = [...entries, ...unconfirmed].sort((a, b) =>
        a.intent.time.localeCompare(b.intent.time),
      );
      this.writeOut(journalListing(all, flags.json));
      return;
    }

    const chosen = chooseEntries(entries, unconfirmed, flags.entry, flags.since, file);
    const settings = this.connectionSettings(flags);
    const backend = await this.registry(settings);
    const plans: PlannedChange[] = [];
    for (const change of collapseByKey(chosen)) {
      const target = await rereadTarget(backend, change);
      plans.push(planRestore(target, change.recorded, change.expected, flags.force));
    }

    if (flags.force) this.warnLine('--force: keys that changed after their entry are overwritten');
    const replanFor = new Map(collapseByKey(chosen).map((change) => [change.key, change]));
    await this.runChanges({
      backend,
      plans,
      replan: (target) => {
        const change = replanFor.get(target.key);
        return planRestore(target, change!.recorded, change!.expected, flags.force);
      },
      // Its own records go to the journal it read, unless --journal names another.
      flags: { ...flags, journal: flags.journal ?? args.journal },
      confirm: { yes: flags.yes, question: `Restore ${plans.length} key(s)?` },
    });
  }
}

function chooseEntries(
  entries: JournalEntry[],
  unconfirmed: JournalEntry[],
  ids: string[] | undefined,
  since: string | undefined,
  file: string,
): JournalEntry[] {
  if (entries.length === 0) throw usageError(`the journal ${file} records no applied change`);

  // An unconfirmed entry is only restored when named, and then only with --force.
  if (ids && ids.length > 0) {
    const known = [...entries, ...unconfirmed];
    const unknown = ids.find((id) => !known.some((entry) => entry.intent.id === id));
    if (unknown) throw usageError(`no entry ${unknown} in ${file}; see --list`);
    return known
      .filter((entry) => ids.includes(entry.intent.id))
      .sort((a, b) => a.intent.time.localeCompare(b.intent.time));
  }

  if (since !== undefined) {
    const sinceMs = parseSince(since);
    const recent = entries.filter((entry) => Date.parse(entry.intent.time) >= sinceMs);
    if (recent.length === 0)
      throw usageError(`no change in ${file} since ${new Date(sinceMs).toISOString()}`);
    return recent;
  }

  return [entries[entries.length - 1]];
}

function parseSince(text: string): number {
  const ago = parseDurationMs(text);
  if (ago !== undefined) return Date.now() - ago;

  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw usageError(`--since ${JSON.stringify(text)} is not a time; expected ISO 8601 or e.g. 2h`);
  }

  return time;
}

interface KeyChange {
  readonly key: string;
  readonly subnet: string;
  readonly prefix: string;
  /** The state before the oldest chosen change of this key: what restore puts back. */
  readonly recorded: JournalEntry['intent']['before'];
  /** The state the newest chosen change left (null: never confirmed): what the key must be. */
  readonly expected: KeySnapshot | null;
}

// Several chosen changes of one key undo as one: back to before the oldest, guarded by the
// state the newest left.
function collapseByKey(entries: JournalEntry[]): KeyChange[] {
  const byKey = new Map<string, KeyChange>();
  for (const { intent, applied } of entries) {
    const known = byKey.get(intent.key);
    byKey.set(intent.key, {
      key: intent.key,
      subnet: intent.subnet,
      prefix: intent.prefix,
      recorded: known?.recorded ?? intent.before,
      expected: applied?.after ?? null,
    });
  }

  return [...byKey.values()].reverse();
}
