// What the changing commands print: the --dry-run plan, a result line per subnet with the undo
// command, the --json document, and the journal listing of `restore --list`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ABSENT,
  type KeySnapshot,
  type PlannedChange,
  planCreate,
  planRelease,
  planReserve,
  planRestore,
  planUnreserve,
} from '../../../../src/domain/change-plan.js';
import { FlanctlError } from '../../../../src/errors.js';
import type { JournalEntry } from '../../../../src/journal/journal.js';
import {
  journalListing,
  planText,
  resultLines,
  resultsDocument,
} from '../../../../src/output/views/changes.js';
import type { ChangeResult } from '../../../../src/registry/apply.js';
import { NOW_MS, SUBNETS_DIR, leaseValue } from '../../support/leases.js';

const BIN = 'flanctl';
const KEY = `${SUBNETS_DIR}10.5.1.0-24`;
const VALUE = leaseValue('192.0.2.1');
const LEASE = '694d854330fc5110';
const GRANTED = 'ffffffffffffff01';
const ENTRY = '20240101T000000Z-4711-1';
const RULES = { renewMarginSeconds: 3600, force: false, ignoreNotFound: false, nowMs: NOW_MS };

function state(leaseId: string | null, modRevision: number, ttl: number | null = 74737) {
  return {
    exists: true,
    value: VALUE,
    leaseId,
    ttlSeconds: leaseId ? ttl : null,
    grantedTtlSeconds: leaseId && ttl !== null ? 86400 : null,
    modRevision,
  };
}

function target(before: KeySnapshot, subnet = '10.5.1.0/24', key = KEY) {
  return { subnet, key, before };
}

function changed(
  plan: PlannedChange,
  after: KeySnapshot,
  extra: Partial<ChangeResult> = {},
): ChangeResult {
  return { plan, status: 'changed', after, journalId: ENTRY, ...extra };
}

const reservePlan = planReserve(target(state(LEASE, 5)));
const unreservePlan = planUnreserve(target(state(null, 5)), 86400);
const releasePlan = planRelease(target(state(LEASE, 5, 1800)), RULES);
const createPlan = planCreate(
  target(ABSENT, '10.5.7.0/24', `${SUBNETS_DIR}10.5.7.0-24`),
  leaseValue('192.0.2.17'),
  [],
);
const restorePutPlan = planRestore(target(ABSENT), state(LEASE, 5), ABSENT, false);
const restoreDeletePlan = planRestore(target(state(null, 9)), ABSENT, state(null, 9), false);

describe('planText', () => {
  test('reserve: put without a lease, then revoke the old one', () => {
    assert.equal(
      planText(reservePlan),
      `would reserve 10.5.1.0/24: put ${KEY} with no etcd lease ` +
        `(now lease ${LEASE}, 20h45m37s left); ` +
        `then revoke lease ${LEASE} if no other key uses it`,
    );
  });

  test('unreserve: put under a new lease of the planned TTL', () => {
    assert.equal(
      planText(unreservePlan),
      `would unreserve 10.5.1.0/24: put ${KEY} under a new etcd lease of 24h0m0s (now no etcd lease)`,
    );
  });

  test('release: delete, then revoke', () => {
    assert.equal(
      planText(releasePlan),
      `would release 10.5.1.0/24: delete ${KEY} (now lease ${LEASE}, 30m0s left); ` +
        `then revoke lease ${LEASE} if no other key uses it`,
    );
  });

  test('release of a reservation with --force: nothing to revoke', () => {
    const plan = planRelease(target(state(null, 5)), { ...RULES, force: true });
    assert.equal(planText(plan), `would release 10.5.1.0/24: delete ${KEY} (now no etcd lease)`);
  });

  test('a lease whose TTL is unknown is named without time left', () => {
    const plan = planRelease(target(state(LEASE, 5, null)), RULES);
    assert.equal(
      planText(plan),
      `would release 10.5.1.0/24: delete ${KEY} (now lease ${LEASE}); ` +
        `then revoke lease ${LEASE} if no other key uses it`,
    );
  });

  test('create: a new key with no lease', () => {
    assert.equal(
      planText(createPlan),
      `would create 10.5.7.0/24: put ${SUBNETS_DIR}10.5.7.0-24 with no etcd lease (now no key)`,
    );
  });

  test('restore: a deleted lease comes back under a new lease with its recorded TTL', () => {
    assert.equal(
      planText(restorePutPlan),
      `would restore 10.5.1.0/24: put ${KEY} under a new etcd lease of 20h45m37s (now no key)`,
    );
  });

  test('restore: a created key is deleted again', () => {
    assert.equal(
      planText(restoreDeletePlan),
      `would restore 10.5.1.0/24: delete ${KEY} (now no etcd lease)`,
    );
  });

  test('unchanged: the reason and that there is nothing to do', () => {
    assert.equal(
      planText(planReserve(target(state(null, 5)))),
      '10.5.1.0/24: already a reservation; nothing to do',
    );
    assert.equal(
      planText(planUnreserve(target(state(GRANTED, 5)), 86400)),
      `10.5.1.0/24: already has an etcd lease (${GRANTED}); nothing to do`,
    );
  });

  test('refused: the reason', () => {
    assert.equal(planText(planReserve(target(ABSENT))), `10.5.1.0/24: refused: no key ${KEY}`);
    assert.equal(
      planText(planRelease(target(state(null, 5)), RULES)),
      '10.5.1.0/24: refused: is a reservation, pinned on purpose; --force releases it',
    );
  });
});

describe('resultLines', () => {
  const reserved = { ...state(null, 101) };

  test('reserve, old lease revoked: what was done, the holder, the revocation and the undo', () => {
    const result = changed(reservePlan, reserved, {
      revocation: { leaseId: LEASE, revoked: true, keptFor: [] },
    });
    assert.deepEqual(resultLines(result, BIN), [
      `reserved 10.5.1.0/24 (192.0.2.1): ${KEY} now has no etcd lease ` +
        `(was lease ${LEASE}, 20h45m37s left)`,
      `  revoked lease ${LEASE}: no other key used it`,
      `  undo: flanctl unreserve 10.5.1.0/24   (or flanctl restore --entry ${ENTRY})`,
    ]);
  });

  test('reserve, old lease still used by other keys: kept, naming them', () => {
    const others = [`${SUBNETS_DIR}10.5.9.0-24`, `${SUBNETS_DIR}10.5.10.0-24`];
    const result = changed(reservePlan, reserved, {
      revocation: { leaseId: LEASE, revoked: false, keptFor: others },
    });
    assert.equal(
      resultLines(result, BIN)[1],
      `  kept lease ${LEASE}: still used by ${others[0]}, ${others[1]}`,
    );
  });

  test('reserve, old lease gone already', () => {
    const result = changed(reservePlan, reserved, {
      revocation: { leaseId: LEASE, revoked: false, keptFor: [] },
    });
    assert.equal(resultLines(result, BIN)[1], `  lease ${LEASE} was gone already`);
  });

  test('unreserve: the new lease and its TTL; undone by reserve', () => {
    const result = changed(unreservePlan, { ...state(GRANTED, 101, 86400) });
    assert.deepEqual(resultLines(result, 'flanctl-dev'), [
      `unreserved 10.5.1.0/24 (192.0.2.1): ${KEY} now has lease ${GRANTED}, 24h0m0s left ` +
        '(was no etcd lease)',
      `  undo: flanctl-dev reserve 10.5.1.0/24   (or flanctl-dev restore --entry ${ENTRY})`,
    ]);
  });

  test('release: deleted, with the lease and time it had; undone by restore', () => {
    const result = changed(releasePlan, ABSENT, {
      revocation: { leaseId: LEASE, revoked: true, keptFor: [] },
    });
    assert.deepEqual(resultLines(result, BIN), [
      `released 10.5.1.0/24 (192.0.2.1): ${KEY} deleted (was lease ${LEASE}, 30m0s left)`,
      `  revoked lease ${LEASE}: no other key used it`,
      `  undo: flanctl restore --entry ${ENTRY}`,
    ]);
  });

  test('release of a key flannel cannot read: no holder', () => {
    const plan = planRelease(target({ ...state(LEASE, 5, 60), value: 'garbage' }), RULES);
    const result = changed(plan, ABSENT, {
      revocation: { leaseId: LEASE, revoked: true, keptFor: [] },
    });
    assert.equal(
      resultLines(result, BIN)[0],
      `released 10.5.1.0/24: ${KEY} deleted (was lease ${LEASE}, 1m0s left)`,
    );
  });

  test('pre-assign: reserved, the holder from the new value; undone by restore', () => {
    const after = {
      ...state(null, 101),
      value: leaseValue('192.0.2.17'),
    };
    assert.deepEqual(resultLines(changed(createPlan, after), BIN), [
      `reserved 10.5.7.0/24 (192.0.2.17): ${SUBNETS_DIR}10.5.7.0-24 now has no etcd lease ` +
        '(was no key)',
      `  undo: flanctl restore --entry ${ENTRY}`,
    ]);
  });

  test('restore: restored; undone by restoring its own entry', () => {
    const result = changed(restorePutPlan, state(GRANTED, 101, 74737));
    assert.deepEqual(resultLines(result, BIN), [
      `restored 10.5.1.0/24 (192.0.2.1): ${KEY} now has lease ${GRANTED}, 20h45m37s left ` +
        '(was no key)',
      `  undo: flanctl restore --entry ${ENTRY}`,
    ]);
  });

  test('restore that deleted a key, with its lease revoked', () => {
    const plan = planRestore(target(state(GRANTED, 9, 500)), ABSENT, state(GRANTED, 9, 500), false);
    const result = changed(plan, ABSENT, {
      revocation: { leaseId: GRANTED, revoked: true, keptFor: [] },
    });
    assert.deepEqual(resultLines(result, BIN), [
      `restored 10.5.1.0/24 (192.0.2.1): ${KEY} deleted (was lease ${GRANTED}, 8m20s left)`,
      `  revoked lease ${GRANTED}: no other key used it`,
      `  undo: flanctl restore --entry ${ENTRY}`,
    ]);
  });

  test('unchanged: one line with the reason', () => {
    const plan = planReserve(target(state(null, 5)));
    assert.deepEqual(resultLines({ plan, status: 'unchanged' }, BIN), [
      '10.5.1.0/24: already a reservation; nothing to do',
    ]);
  });

  test('planned (--dry-run): the plan text', () => {
    assert.deepEqual(resultLines({ plan: reservePlan, status: 'planned' }, BIN), [
      planText(reservePlan),
    ]);
  });

  test('failed: nothing on stdout (the error goes to stderr)', () => {
    const plan = planReserve(target(ABSENT));
    const error = new FlanctlError('notFound', `no key ${KEY}`);
    assert.deepEqual(resultLines({ plan, status: 'failed', error }, BIN), []);
  });

  test('control characters from a key name never reach the terminal', () => {
    // --overdue and --public-ip select keys flannel cannot parse, named as stored.
    const name = 'evil\u001b[2J\nname';
    const plan = planRelease(target(state(LEASE, 5, 60), name, `${SUBNETS_DIR}${name}`), RULES);
    const lines = [
      planText(plan),
      ...resultLines(
        changed(plan, ABSENT, { revocation: { leaseId: LEASE, revoked: true, keptFor: [] } }),
        BIN,
      ),
    ];
    for (const line of lines) {
      assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/, JSON.stringify(line));
    }
  });
});

describe('resultsDocument', () => {
  test('one result per subnet with subnet, action, ok, before, after and error', () => {
    const refused = planRelease(target(state(LEASE, 5)), RULES);
    const refusal = new FlanctlError(
      'problems',
      refused.verdict.kind === 'refused' ? refused.verdict.reason : '',
    );
    const revocation = { leaseId: LEASE, revoked: true, keptFor: [] };
    const results: ChangeResult[] = [
      changed(reservePlan, state(null, 101), { revocation }),
      { plan: planReserve(target(state(null, 5))), status: 'unchanged' },
      { plan: refused, status: 'failed', error: refusal },
    ];

    const document = JSON.parse(resultsDocument(results, false, '/tmp/journal.jsonl'));

    assert.deepEqual(document, {
      dryRun: false,
      journal: '/tmp/journal.jsonl',
      results: [
        {
          subnet: '10.5.1.0/24',
          key: KEY,
          action: 'reserve',
          ok: true,
          status: 'changed',
          before: state(LEASE, 5),
          after: state(null, 101),
          plan: null,
          journalId: ENTRY,
          journalError: null,
          revokedLease: revocation,
          error: null,
        },
        {
          subnet: '10.5.1.0/24',
          key: KEY,
          action: 'reserve',
          ok: true,
          status: 'unchanged',
          before: state(null, 5),
          after: null,
          plan: null,
          journalId: null,
          journalError: null,
          revokedLease: null,
          error: null,
        },
        {
          subnet: '10.5.1.0/24',
          key: KEY,
          action: 'release',
          ok: false,
          status: 'failed',
          before: state(LEASE, 5),
          after: null,
          plan: null,
          journalId: null,
          journalError: null,
          revokedLease: null,
          error: { kind: 'problems', exitCode: 3, message: refusal.message },
        },
      ],
    });
  });

  test('--dry-run: planned results carry the plan text and no journal', () => {
    const document = JSON.parse(
      resultsDocument([{ plan: unreservePlan, status: 'planned' }], true, null),
    );
    assert.equal(document.dryRun, true);
    assert.equal(document.journal, null);
    assert.equal(document.results[0].ok, true);
    assert.equal(document.results[0].status, 'planned');
    assert.equal(document.results[0].plan, planText(unreservePlan));
    assert.equal(document.results[0].after, null);
  });

  test('a conflict reports exit code 5', () => {
    const error = new FlanctlError('conflict', `${KEY} changed while flanctl wrote it`);
    const document = JSON.parse(
      resultsDocument([{ plan: reservePlan, status: 'failed', error }], false, '/j'),
    );
    assert.deepEqual(document.results[0].error, {
      kind: 'conflict',
      exitCode: 5,
      message: error.message,
    });
  });

  test('lease ids above 2^53 stay exact hex strings', () => {
    const text = resultsDocument([changed(unreservePlan, state(GRANTED, 101, 86400))], false, '/j');
    assert.ok(text.includes(`"leaseId":"${GRANTED}"`));
  });
});

describe('journalListing', () => {
  const entries: JournalEntry[] = [
    {
      intent: {
        type: 'intent',
        id: '20240101T000000Z-4711-1',
        time: '2024-01-01T00:00:00.000Z',
        user: 'ops',
        host: 'bastion',
        command: ['flanctl', 'reserve', '10.5.1.0/24'],
        prefix: '/coreos.com/network',
        action: 'reserve',
        subnet: '10.5.1.0/24',
        key: KEY,
        before: state(LEASE, 5),
      },
      applied: {
        type: 'applied',
        id: '20240101T000000Z-4711-1',
        time: '2024-01-01T00:00:00.100Z',
        revision: 101,
        after: state(null, 101),
      },
    },
    {
      intent: {
        type: 'intent',
        id: '20240101T001500Z-4712-1',
        time: '2024-01-01T00:15:00.000Z',
        user: 'root',
        host: 'node-17.example',
        command: ['flanctl', 'release', '10.5.12.0/24', '--yes'],
        prefix: '/coreos.com/network',
        action: 'release',
        subnet: '10.5.12.0/24',
        key: `${SUBNETS_DIR}10.5.12.0-24`,
        before: state(GRANTED, 40, 1800),
      },
      applied: {
        type: 'applied',
        id: '20240101T001500Z-4712-1',
        time: '2024-01-01T00:15:00.200Z',
        revision: 150,
        after: ABSENT,
      },
    },
  ];

  test('text: one aligned row per change, oldest first, with its status', () => {
    const unconfirmed: JournalEntry = { intent: { ...entries[1].intent, id: 'x-1' } };
    assert.equal(
      journalListing([...entries, unconfirmed], false),
      [
        'ENTRY                     TIME                       ACTION    SUBNET         STATUS        BY',
        '20240101T000000Z-4711-1   2024-01-01T00:00:00.000Z   reserve   10.5.1.0/24    applied       ops@bastion',
        '20240101T001500Z-4712-1   2024-01-01T00:15:00.000Z   release   10.5.12.0/24   applied       root@node-17.example',
        'x-1                       2024-01-01T00:15:00.000Z   release   10.5.12.0/24   unconfirmed   root@node-17.example',
        '',
      ].join('\n'),
    );
  });

  test('text: an empty journal is the header only', () => {
    assert.equal(journalListing([], false), 'ENTRY   TIME   ACTION   SUBNET   STATUS   BY\n');
  });

  test('JSON: each entry with who, what, before, and the revision and state it left', () => {
    const text = journalListing(entries, true);
    assert.ok(text.endsWith('}\n'));
    const document = JSON.parse(text) as { entries: Array<Record<string, unknown>> };
    assert.equal(document.entries.length, 2);
    const [first, second] = document.entries;
    for (const field of [
      'id',
      'time',
      'user',
      'host',
      'command',
      'prefix',
      'action',
      'subnet',
      'key',
      'before',
    ]) {
      assert.deepEqual(
        first[field],
        (entries[0].intent as unknown as Record<string, unknown>)[field],
      );
    }
    assert.equal(first.revision, 101);
    assert.equal(first.status, 'applied');
    assert.deepEqual(first.after, state(null, 101));
    assert.equal(second.id, '20240101T001500Z-4712-1');
    assert.equal(second.revision, 150);
    assert.deepEqual(second.after, ABSENT);
  });

  test('JSON: an empty journal lists no entries', () => {
    assert.deepEqual(JSON.parse(journalListing([], true)), { entries: [] });
  });
});
