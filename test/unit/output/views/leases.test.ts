// Rows and the --json document for `leases ls` / `leases show`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Chalk } from 'chalk';

import type { LeaseEntry } from '../../../../src/domain/lease-entry.js';
import { parseNetworkConfig } from '../../../../src/domain/network-config.js';
import { type Cell, type Row, renderColumns } from '../../../../src/output/columns.js';
import {
  TABLE_HEADERS,
  WIDE_HEADERS,
  expiresText,
  leaseJson,
  leaseRow,
  leasesDocument,
  leasesDocumentChunks,
  notesFor,
  ttlText,
} from '../../../../src/output/views/leases.js';
import { NOW_MS, SUBNETS_DIR, entriesOf, entryOf, interpret } from '../../support/leases.js';

const plain = new Chalk({ level: 0 });
const colour = new Chalk({ level: 1 });

function texts(row: Row): string[] {
  return row.map((cell) => (typeof cell === 'string' ? cell : cell.text));
}

/** The paint function of one narrow-row cell, rendered with colour on. */
function paintOf(entry: LeaseEntry, index: number): Cell['paint'] {
  const cell = leaseRow(entry, NOW_MS, colour, false)[index];
  return typeof cell === 'string' ? undefined : cell.paint;
}

const C01 = entriesOf([
  { name: '10.5.52.0-24', publicIP: '192.0.2.52', leaseId: '694d854330fc5110', ttl: 74737 },
  { name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: null },
  { name: '10.5.9.0-24', publicIP: '192.0.2.9', leaseId: '694d854330fc5111', ttl: 50000 },
]);
const [reservation, , lease] = C01;

const overdue = entryOf({ name: '10.5.12.0-24', leaseId: '694d854330fc5130', ttl: 1800 });
const expired = entryOf({
  name: '10.5.40.0-24',
  publicIP: '192.0.2.40',
  leaseId: '093a64a83ac42057',
  ttl: -68272,
});
const missing = entryOf({ name: '10.5.42.0-24', leaseId: '093a64a83ac42059', ttl: -1 });
const dual = entryOf({
  name: '10.5.34.0-24&fc00:0:0:22::-64',
  value:
    '{"PublicIP":"192.0.2.34","PublicIPv6":"2001:db8::34","BackendType":"vxlan",' +
    '"BackendData":{"VNI":1,"VtepMAC":"00:00:5e:10:00:34"},' +
    '"BackendV6Data":{"VNI":1,"VtepMAC":"00:00:5e:10:00:35"}}',
  leaseId: 'ffffffffffffff01',
  ttl: 80000,
  modRevision: 42,
});

describe('headers', () => {
  test('name the narrow columns', () => {
    assert.deepEqual(TABLE_HEADERS, [
      'SUBNET',
      'PUBLIC IP',
      'BACKEND',
      'TYPE',
      'TTL',
      'EXPIRES',
      'NOTES',
    ]);
  });

  test('name the wide columns', () => {
    assert.deepEqual(WIDE_HEADERS, [
      'SUBNET',
      'IPV6 SUBNET',
      'PUBLIC IP',
      'BACKEND',
      'TYPE',
      'TTL',
      'EXPIRES',
      'VTEP MAC',
      'LEASE ID',
      'GRANTED TTL',
      'MOD REV',
      'NOTES',
    ]);
  });
});

describe('ttlText', () => {
  test('shows "-" for a reservation, never 0, -1 or expired (C01)', () => {
    assert.equal(ttlText(reservation, NOW_MS), '-');
  });

  test('shows remaining time Go-style', () => {
    assert.equal(ttlText(lease, NOW_MS), '20h45m37s');
    assert.equal(ttlText(C01[1], NOW_MS), '13h53m20s');
    assert.equal(ttlText(overdue, NOW_MS), '30m0s');
  });

  test('counts down to the time it is printed, in step with EXPIRES', () => {
    assert.equal(ttlText(overdue, NOW_MS + 15_000), '29m45s');
    assert.equal(expiresText(overdue, NOW_MS + 15_000), 'in 29m45s');
  });

  test('shows "expired" instead of a negative duration (C05)', () => {
    assert.equal(ttlText(expired, NOW_MS), 'expired');
  });

  test('shows "missing" for a lease etcd no longer knows (C05)', () => {
    assert.equal(ttlText(missing, NOW_MS), 'missing');
  });
});

describe('expiresText', () => {
  test('says "never" for a reservation', () => {
    assert.equal(expiresText(reservation, NOW_MS), 'never');
  });

  test('says how long until a lease expires', () => {
    assert.equal(expiresText(lease, NOW_MS), 'in 20h45m37s');
  });

  test('counts from the given now, not from when the entry was read', () => {
    assert.equal(expiresText(lease, NOW_MS + 37_000), 'in 20h45m0s');
  });

  test('says how long ago an expired lease ran out (C05)', () => {
    assert.equal(expiresText(expired, NOW_MS), '18h57m52s ago');
  });

  test('shows "-" when the expiry is unknown', () => {
    assert.equal(expiresText(missing, NOW_MS), '-');
  });
});

describe('notesFor', () => {
  test('has no notes for a healthy lease or a reservation', () => {
    assert.deepEqual(notesFor(lease), []);
    assert.deepEqual(notesFor(reservation), []);
  });

  test('marks each status that needs attention', () => {
    assert.deepEqual(notesFor(overdue), ['renewal overdue']);
    assert.deepEqual(notesFor(expired), ['expired but key kept']);
    assert.deepEqual(notesFor(missing), ['lease missing']);
  });

  test('marks entries that do not fit the config, next to their status (C33)', () => {
    const { config } = parseNetworkConfig('{"Network":"10.5.0.0/16","SubnetLen":25}');
    const seed = { name: '10.5.10.0-24', leaseId: '694d854330000200', ttl: 1800 };
    const entry = entryOf(seed, { config });
    assert.deepEqual(notesFor(entry), ['renewal overdue', 'incompatible with config']);
  });
});

describe('leaseRow', () => {
  test('fills the narrow columns for a lease', () => {
    assert.deepEqual(texts(leaseRow(lease, NOW_MS, plain, false)), [
      '10.5.52.0/24',
      '192.0.2.52',
      'vxlan',
      'lease',
      '20h45m37s',
      'in 20h45m37s',
      '',
    ]);
  });

  test('fills the narrow columns for a reservation', () => {
    assert.deepEqual(texts(leaseRow(reservation, NOW_MS, plain, false)), [
      '10.5.1.0/24',
      '192.0.2.1',
      'vxlan',
      'reservation',
      '-',
      'never',
      '',
    ]);
  });

  test('shows "-" for a value without a backend type', () => {
    const bare = entryOf({ name: '10.5.7.0-24', value: '{"PublicIP":"192.0.2.7"}', leaseId: null });
    assert.equal(texts(leaseRow(bare, NOW_MS, plain, false))[2], '-');
  });

  test('fills the wide columns, lease id in hex even above 2^53', () => {
    assert.deepEqual(texts(leaseRow(dual, NOW_MS, plain, true)), [
      '10.5.34.0/24',
      'fc00:0:0:22::/64',
      '192.0.2.34',
      'vxlan',
      'lease',
      '22h13m20s',
      'in 22h13m20s',
      '00:00:5e:10:00:34',
      'ffffffffffffff01',
      '24h0m0s',
      '42',
      '',
    ]);
  });

  test('leaves the IPv6 and MAC cells empty and shows "-" for a reservation lease id', () => {
    const row = texts(
      leaseRow(
        entryOf({ name: '10.5.7.0-24', value: '{"PublicIP":"192.0.2.7"}', leaseId: null }),
        NOW_MS,
        plain,
        true,
      ),
    );
    assert.deepEqual(row, [
      '10.5.7.0/24',
      '',
      '192.0.2.7',
      '-',
      'reservation',
      '-',
      'never',
      '',
      '-',
      '-',
      '5',
      '',
    ]);
  });

  test('has one cell per header in both layouts', () => {
    for (const entry of [lease, reservation, overdue, expired, missing, dual]) {
      assert.equal(leaseRow(entry, NOW_MS, plain, false).length, TABLE_HEADERS.length);
      assert.equal(leaseRow(entry, NOW_MS, plain, true).length, WIDE_HEADERS.length);
    }
  });

  test('adds no escape codes when colour is off', () => {
    for (const entry of [reservation, overdue, expired, missing]) {
      const output = renderColumns(TABLE_HEADERS, [leaseRow(entry, NOW_MS, plain, false)]);
      assert.ok(!output.includes('\u001b'), output);
    }
  });

  test('paints the TTL of an overdue lease yellow and of expired or missing ones red', () => {
    const ttlPaint = (entry: LeaseEntry) => paintOf(entry, 4);
    assert.equal(ttlPaint(overdue)?.('x'), colour.yellow('x'));
    assert.equal(ttlPaint(expired)?.('x'), colour.red('x'));
    assert.equal(ttlPaint(missing)?.('x'), colour.red('x'));
    assert.equal(ttlPaint(lease), undefined);
  });

  test('paints the type of a reservation cyan', () => {
    const typePaint = (entry: LeaseEntry) => paintOf(entry, 3);
    assert.equal(typePaint(reservation)?.('x'), colour.cyan('x'));
    assert.equal(typePaint(lease), undefined);
  });
});

describe('the C01 table', () => {
  test('renders three rows in subnet order with TTLs as Go durations', () => {
    const rows = C01.map((entry) => leaseRow(entry, NOW_MS, plain, false));
    assert.equal(
      renderColumns(TABLE_HEADERS, rows),
      [
        'SUBNET         PUBLIC IP    BACKEND   TYPE          TTL         EXPIRES        NOTES',
        '10.5.1.0/24    192.0.2.1    vxlan     reservation   -           never',
        '10.5.9.0/24    192.0.2.9    vxlan     lease         13h53m20s   in 13h53m20s',
        '10.5.52.0/24   192.0.2.52   vxlan     lease         20h45m37s   in 20h45m37s',
        '',
      ].join('\n'),
    );
  });
});

describe('leaseJson', () => {
  test('gives a lease in the documented shape', () => {
    assert.deepEqual(leaseJson(lease), {
      key: `${SUBNETS_DIR}10.5.52.0-24`,
      subnet: '10.5.52.0/24',
      ipv6Subnet: null,
      publicIP: '192.0.2.52',
      publicIPv6: null,
      backendType: 'vxlan',
      backendData: { VNI: 1, VtepMAC: '00:00:5e:10:00:01' },
      type: 'lease',
      status: 'active',
      leaseId: '694d854330fc5110',
      ttlSeconds: 74737,
      grantedTtlSeconds: 86400,
      expiresAt: '2024-01-01T20:45:37.000Z',
      createRevision: 2,
      modRevision: 5,
      configMisfits: [],
    });
  });

  test('gives a reservation null lease id, TTL and expiry (C01)', () => {
    const json = leaseJson(reservation);
    assert.equal(json.type, 'reservation');
    assert.equal(json.status, 'reservation');
    assert.equal(json.leaseId, null);
    assert.equal(json.ttlSeconds, null);
    assert.equal(json.grantedTtlSeconds, null);
    assert.equal(json.expiresAt, null);
  });

  test('keeps raw negative TTLs and a status for expired and missing leases (C05)', () => {
    assert.equal(leaseJson(expired).ttlSeconds, -68272);
    assert.equal(leaseJson(expired).status, 'expired');
    assert.equal(leaseJson(expired).expiresAt, '2023-12-31T05:02:08.000Z');
    assert.equal(leaseJson(missing).ttlSeconds, -1);
    assert.equal(leaseJson(missing).status, 'lease-missing');
    assert.equal(leaseJson(missing).expiresAt, null);
  });

  test('gives the IPv6 subnet and address of a dual-stack lease', () => {
    const json = leaseJson(dual);
    assert.equal(json.ipv6Subnet, 'fc00:0:0:22::/64');
    assert.equal(json.publicIPv6, '2001:db8::34');
    assert.equal(json.leaseId, 'ffffffffffffff01');
  });
});

describe('leasesDocument', () => {
  const { entries, problems } = interpret([
    { name: '10.5.1.0-24', leaseId: 'ffffffffffffff01', ttl: 80000 },
    { name: '10.5.2.0-24', value: 'not json', leaseId: null },
    { name: '10.5.35.0-24&FC00:0:0:23::-64', leaseId: null },
  ]);
  const text = leasesDocument('/coreos.com/network', 1234, entries, problems);

  test('is one line of JSON', () => {
    assert.ok(!text.includes('\n'));
    assert.doesNotThrow(() => JSON.parse(text));
  });

  test('has prefix, revision, leases and problems at the top level', () => {
    const document = JSON.parse(text);
    assert.deepEqual(Object.keys(document), ['prefix', 'revision', 'leases', 'problems']);
    assert.equal(document.prefix, '/coreos.com/network');
    assert.equal(document.revision, 1234);
    assert.deepEqual(document.leases, entries.map(leaseJson));
  });

  test('lists every problem with its key and reason only', () => {
    const document = JSON.parse(text);
    assert.equal(document.problems.length, 2);
    assert.deepEqual(
      document.problems.map((problem: { key: string }) => problem.key),
      [`${SUBNETS_DIR}10.5.2.0-24`, `${SUBNETS_DIR}10.5.35.0-24&FC00:0:0:23::-64`],
    );
    for (const problem of document.problems) {
      assert.deepEqual(Object.keys(problem), ['key', 'reason']);
    }
  });

  test('writes a 64-bit lease id as a hex string, never as a number', () => {
    assert.ok(text.includes('"leaseId":"ffffffffffffff01"'), text);
  });

  test('is empty but complete for an empty prefix', () => {
    assert.equal(
      leasesDocument('/coreos.com/network', 7, [], []),
      '{"prefix":"/coreos.com/network","revision":7,"leases":[],"problems":[]}',
    );
  });
});

describe('without TTLs (leases ls --no-ttl)', () => {
  // What readNetwork gives when it skips TimeToLive: a lease with no answer.
  const unread = entryOf({
    name: '10.5.7.0-24',
    publicIP: '192.0.2.7',
    leaseId: '694d854330fc5170',
  });
  const { config } = parseNetworkConfig('{"Network":"10.5.0.0/16"}');
  const misfit = entryOf({ name: '10.6.0.0-24', leaseId: '694d854330fc5171' }, { config });

  test('a lease shows ? for TTL and expiry, unpainted, and no lease-missing note', () => {
    const row = leaseRow(unread, NOW_MS, colour, false, false);

    assert.deepEqual(texts(row), ['10.5.7.0/24', '192.0.2.7', 'vxlan', 'lease', '?', '?', '']);
    assert.equal((row[4] as Cell).paint, undefined);
  });

  test('a reservation and a config misfit read as with TTLs', () => {
    assert.deepEqual(
      texts(leaseRow(reservation, NOW_MS, plain, false, false)),
      texts(leaseRow(reservation, NOW_MS, plain, false)),
    );
    assert.equal(
      texts(leaseRow(misfit, NOW_MS, plain, false, false))[6],
      'incompatible with config',
    );
  });

  test('the wide row keeps the lease id', () => {
    const row = texts(leaseRow(unread, NOW_MS, plain, true, false));

    assert.equal(row.length, WIDE_HEADERS.length);
    assert.equal(row[WIDE_HEADERS.indexOf('LEASE ID')], '694d854330fc5170');
    assert.equal(row[WIDE_HEADERS.indexOf('TTL')], '?');
  });

  test('the document says ttlsSkipped and gives leases, not reservations, status unknown', () => {
    const document = JSON.parse(leasesDocument('/p', 3, [reservation, unread], [], false));

    assert.deepEqual(Object.keys(document), [
      'prefix',
      'revision',
      'ttlsSkipped',
      'leases',
      'problems',
    ]);
    assert.equal(document.ttlsSkipped, true);
    assert.deepEqual(
      document.leases.map((json: { status: string }) => json.status),
      ['reservation', 'unknown'],
    );
    assert.deepEqual(document.leases[1], { ...leaseJson(unread), status: 'unknown' });
  });
});

describe('leasesDocumentChunks', () => {
  const seeds = Array.from({ length: 2500 }, (_, index) => ({
    name: `10.${index >> 8}.${index & 0xff}.0-24`,
    leaseId: index % 20 === 10 ? null : (0x694d854330000000n + BigInt(index)).toString(16),
    ttl: 80000,
  }));
  const { entries, problems } = interpret([...seeds, { name: 'bad', leaseId: null }]);
  const chunks = [...leasesDocumentChunks('/coreos.com/network', 99, entries, problems)];

  test('joined, they are JSON.stringify of the whole document', () => {
    const whole = {
      prefix: '/coreos.com/network',
      revision: 99,
      leases: entries.map(leaseJson),
      problems: problems.map((problem) => ({ key: problem.key, reason: problem.reason })),
    };

    assert.equal(chunks.join(''), JSON.stringify(whole));
  });

  test('hold at most 1,000 leases each', () => {
    assert.equal(chunks.length, 3);
    for (const chunk of chunks) assert.ok((chunk.match(/"subnet":/g) ?? []).length <= 1000);
  });
});
