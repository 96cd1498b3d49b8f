// The journal: every key's prior state, appended before flanctl changes it, so `restore` can
// put it back. One JSON line per record, each written with a single append so that concurrent
// flanctl processes never interleave inside a line.
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
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

/** A change: what the key was before and, once confirmed, what flanctl left. */
export interface JournalEntry {
  readonly intent: IntentRecord;
  /** Undefined when etcd failed during the change: it may or may not have been applied. */
  readonly applied?: AppliedRecord;
}

/** `--journal`, else $XDG_STATE_HOME/flanctl/journal.jsonl, else ~/.local/state/flanctl/…. */
export function journalPath(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag === '') throw usageError('--journal is empty; expected a file path');
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
      // A record torn by a full disk must not swallow the next one: end it with a newline.
      appendFileSync(file, endsInTornLine(file) ? '\n' : '', { mode: 0o600 });
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

  /** Appends before a change; a record that cannot be written stops the change. */
  appendOrRefuse(record: JournalRecord): void {
    const failure = this.tryAppend(record);
    if (failure) {
      throw usageError(`cannot write the journal ${this.path}: ${failure}; nothing was changed`);
    }
  }

  /** Appends after a change; returns why it failed instead of throwing. */
  tryAppend(record: JournalRecord): string | undefined {
    try {
      this.append(record);
      return undefined;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
  }
}

function endsInTornLine(file: string): boolean {
  if (!existsSync(file)) return false;

  const size = statSync(file).size;
  if (size === 0) return false;

  const last = Buffer.alloc(1);
  const descriptor = openSync(file, 'r');
  try {
    readSync(descriptor, last, 0, 1, size - 1);
  } finally {
    closeSync(descriptor);
  }

  return last[0] !== 0x0a;
}

/** The command line as the journal records it: passwords replaced by `***`. */
export function redactedCommand(argv: readonly string[]): string[] {
  return argv.map((word, index) => {
    const previous = argv[index - 1];
    if (previous === '--password') return '***';
    if (word.startsWith('--password=')) return '--password=***';
    if (previous === '--user' && word.includes(':')) return `${word.split(':')[0]}:***`;
    if (word.startsWith('--user=') && word.includes(':')) return `${word.split(':')[0]}:***`;
    return word;
  });
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

/**
 * Applied changes in file order, and changes never confirmed (an intent without its applied
 * record: a lost race, which wrote nothing, or an etcd failure, which may have).
 */
export function readJournal(file: string): {
  entries: JournalEntry[];
  unconfirmed: JournalEntry[];
  skippedLines: number;
} {
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

  const confirmed = new Set(entries.map((entry) => entry.intent.id));
  const unconfirmed = [...intents.values()]
    .filter((intent) => !confirmed.has(intent.id))
    .map((intent) => ({ intent }));
  return { entries, unconfirmed, skippedLines };
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
