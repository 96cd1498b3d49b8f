// For the tests of the changing commands (reserve, unreserve, release, restore). Where their runs
// keep their journals, in one of two ways: a JournalSandbox gives a whole test file a temp dir
// and a HOME of its own; a GroupFactory gives each group of tests a prefix in the shared etcd
// and a temp dir of its own. And what the runs leave to check: the --json results document, the
// records of the journal, and the exact bytes written.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type CliResult, runCli } from './cli.js';
import { nonBlankLines, parseJsonDocument } from './cli-output.js';
import { type KeyState, keysUnder } from './kv-inspect.js';
import {
  type SeedEntry,
  CONFIG_10_5,
  loadCaseState,
  seedCaseAt,
  seedState,
  testPrefix,
  vxlanAttrs,
} from './seed.js';

/** A key as a change found or left it, in the results document and in the journal. */
export interface Snapshot {
  exists: boolean;
  value: string | null;
  leaseId: string | null;
  ttlSeconds: number | null;
  grantedTtlSeconds: number | null;
  modRevision: number | null;
}

export interface ResultJson {
  subnet: string;
  key: string;
  action: string;
  ok: boolean;
  status: string;
  before: Snapshot;
  after: Snapshot | null;
  plan: string | null;
  journalId: string | null;
  revokedLease: { leaseId: string; revoked: boolean; keptFor: string[] } | null;
  error: { kind: string; exitCode: number; message: string } | null;
}

export interface ResultsDocument {
  dryRun: boolean;
  journal: string | null;
  results: ResultJson[];
}

/** One line of a journal: an intent before a write, or the applied record after it. */
export interface JournalRecord {
  type: string;
  id: string;
  time: string;
  action?: string;
  subnet?: string;
  prefix?: string;
  key?: string;
  user?: string;
  host?: string;
  command?: string[];
  before?: Snapshot;
  after?: Snapshot;
  [field: string]: unknown;
}

/** stdout as the results document, which must hold a results array. */
export function parseResultsDocument(result: CliResult): ResultsDocument {
  const document = parseJsonDocument<ResultsDocument>(result.stdout);
  assert.ok(Array.isArray(document.results), `no results array: ${result.stdout}`);
  return document;
}

/** Every record of the journal `file`, oldest first; none when there is no file. */
export function readJournal(file: string): JournalRecord[] {
  if (!fs.existsSync(file)) return [];
  return nonBlankLines(fs.readFileSync(file, 'utf8')).map(
    (line) => JSON.parse(line) as JournalRecord,
  );
}

export function assertSameBytes(actual: Buffer, expected: string, what: string): void {
  assert.ok(
    actual.equals(Buffer.from(expected, 'utf8')),
    `${what}: value ${JSON.stringify(actual.toString('utf8'))} is not byte-identical to ` +
      JSON.stringify(expected),
  );
}

/** How often each outcome of a repeated race came up, e.g. "4x first try, 2x conflict (exit 5)". */
export function summariseOutcomes(outcomes: string[]): string {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  return [...counts].map(([outcome, count]) => `${count}x ${outcome}`).join(', ');
}

// A temp dir for the journals of one test file, with a HOME of its own inside: every run names
// its journal, and a run that fell back to the default journal would write under that HOME,
// where remove() looks.
export interface JournaledRunOptions {
  /** The journal file; the sandbox's default journal when absent. */
  journal?: string;
  /** Give the journal through FLANCTL_JOURNAL instead of --journal. */
  journalFromEnv?: boolean;
  stdin?: string;
  /** More environment for the run (FLANCTL_* settings). */
  env?: Record<string, string | undefined>;
}

export class JournalSandbox {
  readonly dir: string;
  readonly home: string;

  constructor(label: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `flanctl-${label}-test-`));
    this.home = path.join(this.dir, 'home');
    fs.mkdirSync(this.home);
  }

  journal(name: string): string {
    return path.join(this.dir, `${name}.jsonl`);
  }

  /** Runs `flanctl COMMAND ARGS` against `endpoint` and `prefix` with a journal in the sandbox. */
  run(
    endpoint: string,
    command: string,
    prefix: string,
    args: string[],
    options: JournaledRunOptions = {},
  ): Promise<CliResult> {
    const journal = options.journal ?? this.journal('default');
    const journalArgs = options.journalFromEnv ? [] : ['--journal', journal];
    return runCli([command, ...args, '--endpoints', endpoint, '--prefix', prefix, ...journalArgs], {
      stdin: options.stdin,
      // A changing command must never fall back to the home directory's journal.
      env: {
        ...options.env,
        HOME: this.home,
        XDG_STATE_HOME: undefined,
        FLANCTL_JOURNAL: options.journalFromEnv ? journal : undefined,
      },
    });
  }

  /** Deletes the sandbox; fails if any run created the default journal dir under its HOME. */
  remove(): void {
    const defaultJournalDir = path.join(this.home, '.local', 'state', 'flanctl');
    const touched = fs.existsSync(defaultJournalDir);
    fs.rmSync(this.dir, { recursive: true, force: true });
    assert.equal(touched, false, `${defaultJournalDir} was created`);
  }
}

// Groups of tests that share one etcd: each group seeds a prefix of its own and keeps its journal
// and XDG_STATE_HOME in a temp dir of its own.
export interface Group {
  endpoint: string;
  prefix: string;
  subnetsDir: string;
  dir: string;
  journal: string;
  stateHome: string;
}

export interface GroupRunOptions {
  /** The journal file; the group's journal when absent, no --journal at all when false. */
  journal?: string | false;
  env?: Record<string, string>;
  stdin?: string;
}

/** Makes the groups of one test file: prefixes /t-TAG-N-NAME/coreos.com/network, dirs in root. */
export class GroupFactory {
  private count = 0;

  constructor(
    private readonly tag: string,
    private readonly endpoint: string,
    private readonly root: string,
  ) {}

  create(name: string): Group {
    this.count += 1;
    const dir = fs.mkdtempSync(path.join(this.root, `${name}-`));
    const prefix = testPrefix(this.tag, String(this.count), name);
    return {
      endpoint: this.endpoint,
      prefix,
      subnetsDir: `${prefix}/subnets/`,
      dir,
      journal: path.join(dir, 'j.jsonl'),
      stateHome: path.join(dir, 'state'),
    };
  }

  /** A group with the network config and the keys `build` names; it sees the group's names. */
  async seeded(name: string, build: (group: Group) => SeedEntry[] = () => []): Promise<Group> {
    const group = this.create(name);
    const entries = [
      { key: `${group.prefix}/config`, value: CONFIG_10_5, ttl: null },
      ...build(group),
    ];
    await seedState(this.endpoint, entries);
    return group;
  }

  /** A group holding the state of the field case `caseId`. */
  async fromCase(caseId: string): Promise<Group> {
    const group = this.create(caseId.toLowerCase());
    await seedCaseAt(this.endpoint, group.prefix, loadCaseState(caseId));
    return group;
  }
}

// XDG_STATE_HOME points into the group's temp dir, so even a journal flag that went missing
// could never write into the home directory.
export function flanctlIn(
  group: Group,
  args: string[],
  options: GroupRunOptions = {},
): Promise<CliResult> {
  const journal = options.journal === false ? [] : ['--journal', options.journal ?? group.journal];
  return runCli([...args, '--endpoints', group.endpoint, '--prefix', group.prefix, ...journal], {
    env: { XDG_STATE_HOME: group.stateHome, ...options.env },
    stdin: options.stdin,
  });
}

/**
 * One subnet key as flanneld writes it: `name` such as 10.5.1.0-24, `ttl` null for a
 * reservation, `lease` a hex id the test chooses (a fresh one when absent).
 */
export function subnetIn(
  group: Group,
  name: string,
  publicIP: string,
  ttl: number | null,
  lease?: string,
): SeedEntry {
  const mac = `00:00:5e:10:${name.split('.')[2].padStart(2, '0').slice(-2)}:01`;
  const entry: SeedEntry = { key: group.subnetsDir + name, value: vxlanAttrs(publicIP, mac), ttl };
  if (lease !== undefined) entry.lease = lease;
  return entry;
}

/** Every key of the group's network, config included, in key order. */
export function groupKeys(group: Group): Promise<KeyState[]> {
  return keysUnder(group.endpoint, `${group.prefix}/`);
}
