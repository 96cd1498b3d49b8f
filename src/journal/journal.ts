// The journal: every key's prior state, appended before flanctl changes it, so `restore` can
// put it back. One JSON line per record, each written with a single append so that concurrent
// flanctl processes never interleave inside a line.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import path from 'node:path';

import type { ChangeAction, KeySnapshot } from '../domain/change-plan.js';
import { usageError } from '../errors.js';

export interface IntentRecord {
  readonly type: 'intent';
  readonly id: string;
  readonly time: string;
  readonly user: string;
  readonly host: string;
  readonly command: string[];
  readonly prefix: string;
  readonly action: ChangeAction;
  readonly subnet: string;
  readonly key: string;
  readonly before: KeySnapshot;
}

export interface AppliedRecord {
  readonly type: 'applied';
  readonly id: string;
  readonly time: string;
  readonly revision: number;
  readonly after: KeySnapshot;
}

export type JournalRecord = IntentRecord | AppliedRecord;

/** A change that reached etcd: what the key was before and what flanctl left. */
export interface JournalEntry {
  readonly intent: IntentRecord;
  readonly applied: AppliedRecord;
}

/** `--journal`, else $XDG_STATE_HOME/flanctl/journal.jsonl, else ~/.local/state/flanctl/…. */
export function journalPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return path.resolve(flag);

  const stateHome = env.XDG_STATE_HOME || path.join(homedir(), '.local', 'state');
  return path.join(stateHome, 'flanctl', 'journal.jsonl');
}

export class Journal {
  private sequence = 0;

  private constructor(readonly path: string) {}

  /** Opens the journal for appending; a journal that cannot be written stops the change. */
  static open(file: string): Journal {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw usageError(
        `cannot write the journal ${file}: ${reason}; nothing was changed`,
        'give a writable file with --journal',
      );
    }

    return new Journal(file);
  }

  newId(): string {
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    this.sequence += 1;
    return `${stamp}-${process.pid}-${this.sequence}`;
  }

  append(record: JournalRecord): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

export function whoAndWhere(): { user: string; host: string } {
  let user = process.env.USER ?? '';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }

  return { user, host: hostname() };
}

/** Applied changes in file order; records of changes that never reached etcd are skipped. */
export function readJournal(file: string): { entries: JournalEntry[]; skippedLines: number } {
  if (!existsSync(file)) {
    throw usageError(
      `no journal at ${file}`,
      'flanctl writes one with every change; see --journal',
    );
  }

  const intents = new Map<string, IntentRecord>();
  const entries: JournalEntry[] = [];
  let skippedLines = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;

    const record = parseRecord(line);
    if (!record) skippedLines += 1;
    else if (record.type === 'intent') intents.set(record.id, record);
    else {
      const intent = intents.get(record.id);
      if (intent) entries.push({ intent, applied: record });
    }
  }

  return { entries, skippedLines };
}

function parseRecord(line: string): JournalRecord | undefined {
  try {
    const record = JSON.parse(line) as JournalRecord;
    const known = record.type === 'intent' || record.type === 'applied';
    return known && typeof record.id === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}
