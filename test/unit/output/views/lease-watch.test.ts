// What `leases ls --watch` prints after its table: change lines, NDJSON objects, the resync
// line, problems and the notes for stderr.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Chalk } from 'chalk';

import type { ChangeLabel } from '../../../../src/domain/lease-change.js';
import type { LeaseEntry } from '../../../../src/domain/lease-entry.js';
import { FlanctlError } from '../../../../src/errors.js';
import {
  changeText,
  initialJsonLines,
  noteText,
  problemText,
  resyncText,
} from '../../../../src/output/views/lease-watch.js';
import { leaseJson } from '../../../../src/output/views/leases.js';
import type { LeaseChange } from '../../../../src/registry/lease-watch.js';
import { NOW_MS, entryOf, leaseValue } from '../../support/leases.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });
const TABLE = { format: 'table', style: plain } as const;
const WIDE = { format: 'wide', style: plain } as const;
const JSON_LINES = { format: 'json', style: plain } as const;
const TIME = '2024-01-01T00:00:00Z';

const LEASE = '694d854330fc5110';
const RENEWED = 'ffffffffffffff01';

const lease = entryOf({ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: LEASE, ttl: 86399 });
const renewed = entryOf({
  name: '10.5.1.0-24',
  publicIP: '192.0.2.1',
  leaseId: RENEWED,
  ttl: 86400,
  modRevision: 9,
});
const reservation = entryOf({ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: null });
const moved = entryOf({
  name: '10.5.1.0-24',
  value: leaseValue('192.0.2.9', 'vxlan', '00:00:5e:10:00:09'),
  leaseId: LEASE,
  ttl: 86399,
});
const overdue = entryOf({ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: LEASE, ttl: 60 });

function change(label: ChangeLabel, entry: LeaseEntry, previous?: LeaseEntry): LeaseChange {
  return { label, revision: 9, timeMs: NOW_MS, entry, previous };
}

describe('changeText as a table line', () => {
  test('a new lease: time, label, subnet, public IP, TTL, in fixed widths', () => {
    assert.equal(
      changeText(change('allocated', lease), TABLE),
      `${TIME}   allocated    10.5.1.0/24          192.0.2.1         23h59m59s\n`,
    );
  });

  test('a reservation shows "-" for its TTL', () => {
    assert.equal(
      changeText(change('reserved', reservation, lease), TABLE),
      `${TIME}   reserved     10.5.1.0/24          192.0.2.1         -\n`,
    );
  });

  test('changed names the fields that changed, old and new', () => {
    assert.equal(
      changeText(change('changed', moved, lease), TABLE),
      `${TIME}   changed      10.5.1.0/24          192.0.2.9         23h59m59s   ` +
        'public IP 192.0.2.1 -> 192.0.2.9, VTEP MAC 00:00:5e:10:00:01 -> 00:00:5e:10:00:09\n',
    );
  });

  test('changed without a visible difference says the key was put again', () => {
    assert.match(changeText(change('changed', lease, lease), TABLE), /put again unchanged\n$/);
  });

  test('removed shows no TTL, expired says so', () => {
    assert.equal(
      changeText(change('removed', lease, lease), TABLE),
      `${TIME}   removed      10.5.1.0/24          192.0.2.1         -\n`,
    );
    assert.equal(
      changeText(change('expired', lease, lease), TABLE),
      `${TIME}   expired      10.5.1.0/24          192.0.2.1         expired\n`,
    );
  });

  test('carries the notes of leases ls', () => {
    assert.match(changeText(change('renewed', overdue, lease), TABLE), /1m0s\s+renewal overdue\n$/);
  });

  test('wide lines add the lease id, the revision, the backend and the old lease', () => {
    assert.equal(
      changeText(change('renewed', renewed, lease), WIDE),
      `${TIME}   renewed      10.5.1.0/24          192.0.2.1         24h0m0s     ` +
        `lease=${RENEWED}   rev=9   backend=vxlan   lease was ${LEASE}\n`,
    );
  });

  test('paints the label when colour is on', () => {
    const line = changeText(change('expired', lease, lease), { format: 'table', style: colour });
    assert.ok(line.includes(colour.red('expired   ')), line);
  });

  test('shows control characters from etcd as escapes', () => {
    const odd = entryOf({
      name: '10.5.1.0-24',
      value: '{"PublicIP":"192.0.2.1","BackendType":"vx\\u001blan"}',
      leaseId: null,
    });
    assert.ok(changeText(change('reserved', odd), WIDE).includes('backend=vx\\u001blan'));
  });
});

describe('changeText as NDJSON', () => {
  test('event, time, revision, the lease fields of leases ls --json, and the key before', () => {
    const line = changeText(change('renewed', renewed, lease), JSON_LINES);

    assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'), 'one line');
    assert.deepEqual(JSON.parse(line), {
      event: 'renewed',
      time: '2024-01-01T00:00:00.000Z',
      revision: 9,
      ...leaseJson(renewed),
      previous: leaseJson(lease),
    });
  });

  test('a new key has previous null', () => {
    const object = JSON.parse(changeText(change('allocated', lease), JSON_LINES));
    assert.equal(object.previous, null);
    assert.equal(object.leaseId, LEASE);
  });
});

describe('initialJsonLines', () => {
  test('one initial object per lease shown, then one per problem', () => {
    const problem = {
      key: '/coreos.com/network/subnets/bogus',
      part: 'key' as const,
      reason: 'not a subnet key',
    };
    const lines = initialJsonLines(7, [lease], [problem], NOW_MS).split('\n');

    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.deepEqual(JSON.parse(lines[0]), {
      event: 'initial',
      time: '2024-01-01T00:00:00.000Z',
      revision: 7,
      ...leaseJson(lease),
      previous: null,
    });
    assert.deepEqual(JSON.parse(lines[1]), {
      event: 'problem',
      time: '2024-01-01T00:00:00.000Z',
      revision: 7,
      key: problem.key,
      reason: problem.reason,
    });
  });

  test('nothing for an empty network', () => {
    assert.equal(initialJsonLines(7, [], [], NOW_MS), '');
  });
});

describe('resyncText', () => {
  test('a line saying where etcd compacted and where flanctl listed again', () => {
    assert.equal(
      resyncText(40, 52, NOW_MS, TABLE),
      `${TIME}   resync       etcd compacted its history to revision 40; ` +
        'listed again at revision 52\n',
    );
  });

  test('an NDJSON object', () => {
    assert.deepEqual(JSON.parse(resyncText(40, 52, NOW_MS, JSON_LINES)), {
      event: 'resync',
      time: '2024-01-01T00:00:00.000Z',
      revision: 52,
      compactRevision: 40,
    });
  });
});

describe('problemText', () => {
  const problem = {
    key: '/coreos.com/network/subnets/x',
    part: 'value' as const,
    reason: 'value has no PublicIP',
  };

  test('a note for stderr with tables, as leases ls prints problems', () => {
    assert.deepEqual(problemText(problem, 9, NOW_MS, 'table'), {
      note: 'problem: /coreos.com/network/subnets/x: value has no PublicIP',
    });
  });

  test('an NDJSON object with --json', () => {
    const text = problemText(problem, 9, NOW_MS, 'json');
    assert.deepEqual(JSON.parse(text.stdout ?? ''), {
      event: 'problem',
      time: '2024-01-01T00:00:00.000Z',
      revision: 9,
      key: problem.key,
      reason: problem.reason,
    });
  });
});

describe('noteText', () => {
  const error = new FlanctlError('unreachable', 'etcd at http://127.0.0.1:1 is unavailable');

  test('the connection lost, still down, and back', () => {
    assert.equal(
      noteText({ kind: 'lost', error }, NOW_MS),
      'etcd connection lost, retrying: etcd at http://127.0.0.1:1 is unavailable',
    );
    assert.equal(
      noteText(
        { kind: 'still-down', error, downSinceMs: NOW_MS - 95_000, retryInMs: 5000 },
        NOW_MS,
      ),
      'etcd still unreachable after 1m35s, retrying every 5s: ' +
        'etcd at http://127.0.0.1:1 is unavailable',
    );
    assert.equal(noteText({ kind: 'resumed', fromRevision: 43 }, NOW_MS), 'resumed at revision 43');
  });

  test('a read that is retried, and a deleted key that held no lease', () => {
    assert.equal(
      noteText({ kind: 'retrying', what: `the TTL of lease ${LEASE}`, error, retryInMs: 250 }, 0),
      `cannot read the TTL of lease ${LEASE}, retrying in 250ms: ` +
        'etcd at http://127.0.0.1:1 is unavailable',
    );
    assert.equal(
      noteText({ kind: 'key-deleted', key: '/coreos.com/network/subnets/x', revision: 9 }, 0),
      '/coreos.com/network/subnets/x was deleted at revision 9 (it held no valid lease)',
    );
  });
});
