// applyPlan against an in-memory backend: the journal comes first, every write is guarded, a lost
// race is retried once from a fresh plan, and leases are revoked only when nothing uses them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ABSENT,
  type KeySnapshot,
  type PlannedChange,
  planCreate,
  planRelease,
  planReserve,
  planUnreserve,
} from '../../../src/domain/change-plan.js';
import type { LeaseTtl } from '../../../src/domain/lease-entry.js';
import { FlanctlError } from '../../../src/errors.js';
import { Journal, readJournal } from '../../../src/journal/journal.js';
import { type ApplyContext, applyPlan, settled } from '../../../src/registry/apply.js';
import type {
  KeyGuard,
  KeyWrite,
  LeaseDetails,
  RegistryBackend,
  StoredValue,
  SubnetListing,
  SubnetWatchNotice,
} from '../../../src/registry/backend.js';
import { NOW_MS, SUBNETS_DIR, leaseValue } from '../support/leases.js';

const PREFIX = '/coreos.com/network';
const KEY = `${SUBNETS_DIR}10.5.1.0-24`;
const VALUE = leaseValue('192.0.2.1');
const OLD_LEASE = '694d854330fc5110';
/** flanneld's renewal: a new lease, above 2^53 so a lossy number would show. */
const RENEWED_LEASE = 'ffffffffffffff01';
const COMMAND = ['flanctl', 'reserve', '10.5.1.0/24'];

/** Records every call; write() answers from a script of applied flags (true when it runs out). */
class FakeBackend implements RegistryBackend {
  readonly api = 'v3' as const;
  readonly writes: Array<{ guards: KeyGuard[]; writes: KeyWrite[] }> = [];
  readonly grants: number[] = [];
  readonly revokes: string[] = [];
  /** Lines in the journal file at the moment of each write(). */
  readonly journalLinesAtWrite: number[] = [];
  /** Keys etcd would report on a lease; a lease not listed has none. */
  readonly keysOn = new Map<string, string[]>();
  writeError: Error | undefined;
  revision = 100;
  private granted = 0;

  constructor(
    private readonly applied: boolean[] = [],
    private readonly journalFile?: string,
  ) {}

  async write(guards: KeyGuard[], writes: KeyWrite[]) {
    this.writes.push({ guards, writes });
    if (this.journalFile) this.journalLinesAtWrite.push(linesOf(this.journalFile).length);
    if (this.writeError) throw this.writeError;

    const applied = this.applied.shift() ?? true;
    if (applied) this.revision += 1;
    return { applied, revision: this.revision };
  }

  async grantLease(ttlSeconds: number): Promise<string> {
    this.grants.push(ttlSeconds);
    this.granted += 1;
    return `7fffffffffff00${String(this.granted).padStart(2, '0')}`;
  }

  async revokeIfUnused(leaseId: string) {
    this.revokes.push(leaseId);
    const keys = this.keysOn.get(leaseId) ?? [];
    return { revoked: keys.length === 0, keys };
  }

  readValue(): Promise<StoredValue | undefined> {
    return unexpected('readValue');
  }
  listSubnets(): Promise<SubnetListing> {
    return unexpected('listSubnets');
  }
  leaseTtls(): Promise<Map<string, LeaseTtl>> {
    return unexpected('leaseTtls');
  }
  leaseDetails(): Promise<LeaseDetails> {
    return unexpected('leaseDetails');
  }
  readSubnet(): Promise<never> {
    return unexpected('readSubnet');
  }
  sampleKeys(): Promise<string[]> {
    return unexpected('sampleKeys');
  }
  watchSubnets(): AsyncIterable<SubnetWatchNotice> {
    throw new Error('applyPlan should not call watchSubnets');
  }
  close(): void {}
}

function unexpected(name: string): Promise<never> {
  return Promise.reject(new Error(`applyPlan should not call ${name}`));
}

function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

function snapshot(leaseId: string | null, modRevision: number, ttl = 74737): KeySnapshot {
  return {
    exists: true,
    value: VALUE,
    leaseId,
    ttlSeconds: leaseId ? ttl : null,
    grantedTtlSeconds: leaseId ? 86400 : null,
    modRevision,
  };
}

function target(before: KeySnapshot) {
  return { subnet: '10.5.1.0/24', key: KEY, before };
}

/** A replan that hands out the given plans in turn and counts its calls. */
function replanner(...plans: PlannedChange[]) {
  const replan = async () => {
    replan.calls += 1;
    const next = plans.shift();
    if (!next) throw new Error('replan called more often than the test expected');
    return next;
  };
  replan.calls = 0;
  return replan;
}

let dir: string;
let fileCount = 0;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'flanctl-apply-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function setup(applied: boolean[] = []) {
  fileCount += 1;
  const file = path.join(dir, `journal-${fileCount}`, 'journal.jsonl');
  const journal = Journal.open(file);
  const backend = new FakeBackend(applied, file);
  const context: ApplyContext = { backend, journal, prefix: PREFIX, command: COMMAND };
  return { file, backend, context };
}

describe('applyPlan: a change', () => {
  test('reserve: journals the intent, writes guarded by mod revision, journals applied, revokes', async () => {
    const { file, backend, context } = setup();
    const plan = planReserve(target(snapshot(OLD_LEASE, 5)));
    const replan = replanner();

    const result = await applyPlan(context, plan, replan);

    assert.equal(result.status, 'changed');
    assert.equal(result.plan, plan);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.after, {
      exists: true,
      value: VALUE,
      leaseId: null,
      ttlSeconds: null,
      grantedTtlSeconds: null,
      modRevision: 101,
    });
    assert.deepEqual(result.revocation, { leaseId: OLD_LEASE, revoked: true, keptFor: [] });
    assert.deepEqual(backend.writes, [
      {
        guards: [{ key: KEY, modRevision: 5 }],
        writes: [{ put: { key: KEY, value: VALUE, leaseId: null } }],
      },
    ]);
    assert.deepEqual(backend.grants, []);
    assert.deepEqual(backend.revokes, [OLD_LEASE]);
    assert.equal(replan.calls, 0);

    // The intent was on disk before the write; the applied record came after it.
    assert.deepEqual(backend.journalLinesAtWrite, [1]);
    const records = linesOf(file).map((line) => JSON.parse(line) as { type: string; id: string });
    assert.deepEqual(
      records.map((record) => record.type),
      ['intent', 'applied'],
    );

    const { entries, skippedLines } = readJournal(file);
    assert.equal(skippedLines, 0);
    assert.equal(entries.length, 1);
    const [{ intent, applied }] = entries;
    assert.ok(applied, 'the change is confirmed in the journal');
    assert.equal(intent.id, result.journalId);
    assert.equal(applied.id, result.journalId);
    assert.equal(intent.action, 'reserve');
    assert.equal(intent.subnet, '10.5.1.0/24');
    assert.equal(intent.key, KEY);
    assert.equal(intent.prefix, PREFIX);
    assert.deepEqual(intent.command, COMMAND);
    assert.deepEqual(intent.before, plan.before);
    assert.equal(typeof intent.user, 'string');
    assert.ok(intent.host.length > 0);
    assert.ok(!Number.isNaN(Date.parse(intent.time)));
    assert.equal(applied.revision, 101);
    assert.deepEqual(applied.after, result.after);
  });

  test('unreserve: grants a lease of the planned TTL and puts the key under it', async () => {
    const { file, backend, context } = setup();
    const plan = planUnreserve(target(snapshot(null, 5)), 86400);

    const result = await applyPlan(context, plan, replanner());

    assert.equal(result.status, 'changed');
    assert.deepEqual(backend.grants, [86400]);
    assert.deepEqual(backend.writes, [
      {
        guards: [{ key: KEY, modRevision: 5 }],
        writes: [{ put: { key: KEY, value: VALUE, leaseId: '7fffffffffff0001' } }],
      },
    ]);
    assert.deepEqual(result.after, {
      exists: true,
      value: VALUE,
      leaseId: '7fffffffffff0001',
      ttlSeconds: 86400,
      grantedTtlSeconds: 86400,
      modRevision: 101,
    });
    assert.equal(result.revocation, undefined);
    assert.deepEqual(backend.revokes, []);
    assert.deepEqual(readJournal(file).entries[0].applied?.after, result.after);
  });

  test('release: deletes guarded by mod revision, leaves ABSENT, revokes the old lease', async () => {
    const { file, backend, context } = setup();
    const plan = planRelease(target(snapshot(OLD_LEASE, 7, 1800)), {
      renewMarginSeconds: 3600,
      force: false,
      ignoreNotFound: false,
      nowMs: NOW_MS,
    });

    const result = await applyPlan(context, plan, replanner());

    assert.equal(result.status, 'changed');
    assert.deepEqual(result.after, ABSENT);
    assert.deepEqual(backend.writes, [
      { guards: [{ key: KEY, modRevision: 7 }], writes: [{ delete: { key: KEY } }] },
    ]);
    assert.deepEqual(result.revocation, { leaseId: OLD_LEASE, revoked: true, keptFor: [] });
    const [entry] = readJournal(file).entries;
    assert.deepEqual(entry.intent.before, snapshot(OLD_LEASE, 7, 1800));
    assert.deepEqual(entry.applied?.after, ABSENT);
    assert.equal(entry.applied?.revision, 101);
  });

  test('create: writes only when the key is still absent', async () => {
    const { backend, context } = setup();
    const plan = planCreate(target(ABSENT), VALUE, []);

    const result = await applyPlan(context, plan, replanner());

    assert.equal(result.status, 'changed');
    assert.deepEqual(backend.writes, [
      {
        guards: [{ key: KEY, absent: true }],
        writes: [{ put: { key: KEY, value: VALUE, leaseId: null } }],
      },
    ]);
    assert.equal(result.revocation, undefined);
  });

  test('a lease other keys still use is kept, and the result says which keys', async () => {
    const { backend, context } = setup();
    const other = `${SUBNETS_DIR}10.5.9.0-24`;
    backend.keysOn.set(OLD_LEASE, [other]);

    const result = await applyPlan(
      context,
      planReserve(target(snapshot(OLD_LEASE, 5))),
      replanner(),
    );

    assert.equal(result.status, 'changed');
    assert.deepEqual(result.revocation, { leaseId: OLD_LEASE, revoked: false, keptFor: [other] });
  });
});

describe('applyPlan: lost races', () => {
  test('one lost race: re-reads, plans again and writes against the new revision', async () => {
    const { file, backend, context } = setup([false, true]);
    const first = planReserve(target(snapshot(OLD_LEASE, 5)));
    const second = planReserve(target(snapshot(RENEWED_LEASE, 8, 86400)));
    const replan = replanner(second);

    const result = await applyPlan(context, first, replan);

    assert.equal(result.status, 'changed');
    assert.equal(result.plan, second);
    assert.equal(replan.calls, 1);
    assert.deepEqual(
      backend.writes.map((call) => call.guards),
      [[{ key: KEY, modRevision: 5 }], [{ key: KEY, modRevision: 8 }]],
    );
    // The lease the key lost is the renewed one, not the one first read.
    assert.deepEqual(result.revocation, { leaseId: RENEWED_LEASE, revoked: true, keptFor: [] });
    assert.deepEqual(backend.revokes, [RENEWED_LEASE]);

    const { entries } = readJournal(file);
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0].intent.before, second.before);
    assert.equal(entries[0].intent.id, result.journalId);
  });

  test('two lost races: a conflict (exit 5) naming the key; nothing applied is journaled', async () => {
    const { file, backend, context } = setup([false, false]);
    const first = planReserve(target(snapshot(OLD_LEASE, 5)));
    const second = planReserve(target(snapshot(RENEWED_LEASE, 8, 86400)));
    const third = planReserve(target(snapshot('ffffffffffffff02', 12, 86400)));
    const replan = replanner(second, third);

    const result = await applyPlan(context, first, replan);

    assert.equal(result.status, 'failed');
    assert.equal(result.after, undefined);
    assert.equal(result.revocation, undefined);
    assert.ok(result.error instanceof FlanctlError);
    assert.equal(result.error.kind, 'conflict');
    assert.equal(result.error.exitCode, 5);
    assert.equal(
      result.error.message,
      `${KEY} changed while flanctl wrote it (was mod revision 8, lease ${RENEWED_LEASE}, ` +
        'now mod revision 12, lease ffffffffffffff02); nothing was written',
    );
    assert.equal(result.error.hint, 'run the command again to act on the new state');
    assert.equal(backend.writes.length, 2);
    assert.deepEqual(backend.revokes, []);

    assert.deepEqual(readJournal(file).entries, []);
    const types = linesOf(file).map((line) => (JSON.parse(line) as { type: string }).type);
    assert.deepEqual(types, ['intent', 'intent']);
  });

  test('a conflict on a key that vanished says so', async () => {
    const { context } = setup([false, false]);
    const first = planRelease(target(snapshot(OLD_LEASE, 5, 60)), {
      renewMarginSeconds: 3600,
      force: false,
      ignoreNotFound: false,
      nowMs: NOW_MS,
    });
    const second = { ...first, before: snapshot(null, 8) };
    const third = { ...first, before: ABSENT };

    const result = await applyPlan(context, first, replanner(second, third));

    assert.equal(result.error?.kind, 'conflict');
    assert.equal(
      result.error?.message,
      `${KEY} changed while flanctl wrote it (was mod revision 8, lease none, now no key); ` +
        'nothing was written',
    );
  });

  test('a lost race after which the key needs nothing is unchanged, not a conflict', async () => {
    const { backend, context } = setup([false]);
    const first = planReserve(target(snapshot(OLD_LEASE, 5)));
    const second = planReserve(target(snapshot(null, 8)));

    const result = await applyPlan(context, first, replanner(second));

    assert.equal(result.status, 'unchanged');
    assert.equal(result.plan, second);
    assert.equal(backend.writes.length, 1);
  });
});

describe('applyPlan: leases granted for a write that failed', () => {
  test('unreserve lost its race: the fresh lease is revoked before planning again', async () => {
    const { file, backend, context } = setup([false]);
    const first = planUnreserve(target(snapshot(null, 5)), 86400);
    // flanneld put its own lease on the key meanwhile: nothing left to do.
    const second = planUnreserve(target(snapshot(RENEWED_LEASE, 8, 86400)), 86400);

    const result = await applyPlan(context, first, replanner(second));

    assert.equal(result.status, 'unchanged');
    assert.deepEqual(backend.grants, [86400]);
    assert.deepEqual(backend.revokes, ['7fffffffffff0001']);
    assert.deepEqual(readJournal(file).entries, []);
  });

  test('unreserve lost twice: each granted lease is revoked, and the result is a conflict', async () => {
    const { backend, context } = setup([false, false]);
    const first = planUnreserve(target(snapshot(null, 5)), 3600);
    const second = planUnreserve(target(snapshot(null, 8)), 3600);
    const third = planUnreserve(target(snapshot(null, 11)), 3600);

    const result = await applyPlan(context, first, replanner(second, third));

    assert.equal(result.status, 'failed');
    assert.equal(result.error?.kind, 'conflict');
    assert.deepEqual(backend.grants, [3600, 3600]);
    assert.deepEqual(backend.revokes, ['7fffffffffff0001', '7fffffffffff0002']);
  });

  test('a write that throws still revokes the lease granted for it', async () => {
    const { backend, context } = setup();
    backend.writeError = new FlanctlError('unreachable', 'etcd did not answer in time');
    const plan = planUnreserve(target(snapshot(null, 5)), 86400);

    let outcome: unknown;
    try {
      outcome = await applyPlan(context, plan, replanner());
    } catch (error) {
      outcome = error;
    }

    // The error surfaces, kind kept, saying the write may still land (the key could not be
    // read back here); a lingering keyless 24 h lease is never acceptable.
    assert.ok(outcome instanceof FlanctlError, 'the write error should surface');
    assert.equal(outcome.kind, 'unreachable');
    assert.equal(outcome.cause, backend.writeError);
    assert.match(outcome.message, /may still reach etcd$/);
    assert.deepEqual(backend.grants, [86400]);
    assert.deepEqual(backend.revokes, ['7fffffffffff0001']);
  });
});

describe('applyPlan: plans that need no write', () => {
  const cases: Array<[string, PlannedChange, string, string | undefined]> = [
    ['an unchanged reserve', planReserve(target(snapshot(null, 5))), 'unchanged', undefined],
    [
      'an unchanged unreserve',
      planUnreserve(target(snapshot(OLD_LEASE, 5)), 86400),
      'unchanged',
      undefined,
    ],
    [
      'a refused release (live lease)',
      planRelease(target(snapshot(OLD_LEASE, 5)), {
        renewMarginSeconds: 3600,
        force: false,
        ignoreNotFound: false,
        nowMs: NOW_MS,
      }),
      'failed',
      'problems',
    ],
    ['a refused reserve (no key)', planReserve(target(ABSENT)), 'failed', 'notFound'],
    [
      'a refused reserve (unreadable value)',
      planReserve(target({ ...snapshot(OLD_LEASE, 5), value: KEY })),
      'failed',
      'problems',
    ],
  ];
  for (const [what, plan, status, kind] of cases) {
    test(`${what}: no grant, no write, no revoke, no journal line`, async () => {
      const { file, backend, context } = setup();
      const replan = replanner();

      const result = await applyPlan(context, plan, replan);

      assert.equal(result.status, status);
      assert.equal(result.plan, plan);
      if (kind) {
        assert.ok(result.error instanceof FlanctlError);
        assert.equal(result.error.kind, kind);
        const { verdict } = plan;
        assert.equal(result.error.message, verdict.kind === 'refused' ? verdict.reason : null);
      } else {
        assert.equal(result.error, undefined);
      }
      assert.deepEqual(backend.writes, []);
      assert.deepEqual(backend.grants, []);
      assert.deepEqual(backend.revokes, []);
      assert.equal(replan.calls, 0);
      assert.equal(readFileSync(file, 'utf8'), '');
    });
  }

  test('settled() gives nothing for a change', () => {
    assert.equal(settled(planReserve(target(snapshot(OLD_LEASE, 5)))), undefined);
  });

  test('a refusal keeps its exit code: problems is 3, notFound is 4', () => {
    const live = settled(
      planRelease(target(snapshot(OLD_LEASE, 5)), {
        renewMarginSeconds: 3600,
        force: false,
        ignoreNotFound: false,
        nowMs: NOW_MS,
      }),
    );
    assert.equal(live?.error?.exitCode, 3);
    assert.equal(settled(planReserve(target(ABSENT)))?.error?.exitCode, 4);
  });
});

describe('Journal.open', () => {
  test('creates missing directories and an empty file', () => {
    const file = path.join(dir, 'deep', 'er', 'journal.jsonl');
    const journal = Journal.open(file);
    assert.equal(journal.path, file);
    assert.equal(readFileSync(file, 'utf8'), '');
  });

  test('a path under a regular file is a usage error naming the path', () => {
    const blocker = path.join(dir, 'not-a-directory');
    writeFileSync(blocker, 'x');
    const file = path.join(blocker, 'journal.jsonl');

    assert.throws(
      () => Journal.open(file),
      (error: unknown) => {
        assert.ok(error instanceof FlanctlError);
        assert.equal(error.kind, 'usage');
        assert.equal(error.exitCode, 2);
        assert.match(
          error.message,
          new RegExp(
            `^cannot write the journal ${escapeRegExp(file)}: [A-Z]+; nothing was changed$`,
          ),
        );
        assert.equal(error.hint, 'give a writable file with --journal');
        return true;
      },
    );
  });

  test('ids are unique within one process', () => {
    const journal = Journal.open(path.join(dir, 'ids', 'journal.jsonl'));
    const ids = new Set([journal.newId(), journal.newId(), journal.newId()]);
    assert.equal(ids.size, 3);
    for (const id of ids) assert.match(id, /^\d{8}T\d{6}Z-\d+-\d+$/);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
