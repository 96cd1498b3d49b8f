// Reservation records and the plans that guard reservations with them: recording an existing
// reservation, re-applying one a flanneld re-leased, and the record write each change carries.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ABSENT,
  type PlannedChange,
  type ReapplyRules,
  planRecord,
  planReapply,
  planRelease,
  planReserve,
  planUnreserve,
  snapshotOf,
} from '../../../src/domain/change-plan.js';
import {
  DEFAULT_RECORDS_PREFIX,
  checkRecordsPrefix,
  formatRecord,
  parseRecord,
  recordKey,
} from '../../../src/domain/reservation-record.js';
import { type Records, withRecord } from '../../../src/registry/records.js';
import { GRANTED_TTL, SUBNETS_DIR, leaseValue, storedSubnet } from '../support/leases.js';

const KEY = `${SUBNETS_DIR}10.5.1.0-24`;
const VALUE = leaseValue('192.0.2.1');
const HOUR = 3600;
const NOW = '2024-01-01T00:00:00.000Z';
const RECORD_KEY = '/flanctl/reservations/coreos.com/network/10.5.1.0-24';

function target(leaseId: string | null, ttl?: number, value = VALUE) {
  const stored = storedSubnet({ name: '10.5.1.0-24', value, leaseId, modRevision: 7 });
  const answer = ttl === undefined ? undefined : { ttl, grantedTtl: GRANTED_TTL };
  return { subnet: '10.5.1.0/24', key: KEY, before: snapshotOf(stored, answer) };
}

const RULES: ReapplyRules = {
  renewMarginSeconds: HOUR,
  recordedPublicIP: '192.0.2.1',
  recordedValue: VALUE,
  recreateMissing: true,
};

function records(recorded: boolean): Records {
  const byKey = new Map(
    recorded ? [[KEY, { key: KEY, value: VALUE, publicIP: '192.0.2.1', reservedAt: NOW }]] : [],
  );
  return {
    recordsPrefix: DEFAULT_RECORDS_PREFIX,
    flannelPrefix: '/coreos.com/network',
    byKey,
    unreadable: new Map(),
  };
}

describe('reservation records', () => {
  test('live under the records prefix, then the flannel prefix, then the key name', () => {
    assert.equal(
      recordKey(DEFAULT_RECORDS_PREFIX, '/coreos.com/network', '10.5.1.0-24'),
      RECORD_KEY,
    );
  });

  test('round-trip through their JSON text', () => {
    const record = { key: KEY, value: VALUE, publicIP: '192.0.2.1', reservedAt: NOW };
    assert.deepEqual(parseRecord(formatRecord(record)), { ok: true, record });
  });

  test('unreadable ones say why', () => {
    assert.equal(parseRecord('nope').ok, false);
    assert.equal(parseRecord('{"version":2,"key":"k","value":"v","reservedAt":"t"}').ok, false);
    assert.equal(parseRecord('{"version":1,"key":"k"}').ok, false);
  });

  test('the prefix must be absolute and outside any subnets dir', () => {
    assert.deepEqual(checkRecordsPrefix('/ops/records/'), { ok: true, prefix: '/ops/records' });
    assert.equal(checkRecordsPrefix('ops/records').ok, false);
    assert.equal(checkRecordsPrefix('/').ok, false);
    assert.equal(checkRecordsPrefix('/coreos.com/network/subnets/x').ok, false);
    assert.equal(checkRecordsPrefix('/coreos.com/network/subnets-records').ok, false);
  });
});

describe('planRecord', () => {
  test('changes nothing in the key: the outcome is the record alone', () => {
    const plan = planRecord(target(null));
    assert.equal(plan.action, 'record');
    assert.deepEqual(plan.verdict, { kind: 'change', outcome: { kind: 'record' } });
    assert.equal(plan.leaseToRevoke, null);
  });
});

describe('planReapply', () => {
  const changeOf = (plan: PlannedChange) => (plan.verdict.kind === 'change' ? plan.verdict : null);

  test('a lease below the renew margin, expired or unknown to etcd is detached', () => {
    for (const ttl of [1800, 1, 0, -40, -1]) {
      const plan = planReapply(target('a1', ttl), RULES);
      assert.deepEqual(
        changeOf(plan)?.outcome,
        { kind: 'put', value: VALUE, lease: 'none' },
        `ttl ${ttl}`,
      );
      assert.equal(plan.leaseToRevoke, 'a1');
    }
  });

  test('a lease that is being renewed is left alone, whatever else', () => {
    for (const ttl of [HOUR, 86_000]) {
      const plan = planReapply(target('a1', ttl), RULES);
      assert.equal(plan.verdict.kind, 'unchanged', `ttl ${ttl}`);
      assert.match(plan.verdict.kind === 'unchanged' ? plan.verdict.reason : '', /left alone/);
    }
  });

  test('a key still without a lease needs nothing', () => {
    assert.equal(planReapply(target(null), RULES).verdict.kind, 'unchanged');
  });

  test('a missing key comes back as the recorded reservation, unless told not to', () => {
    const missing = { subnet: '10.5.1.0/24', key: KEY, before: ABSENT };
    assert.deepEqual(changeOf(planReapply(missing, RULES))?.outcome, {
      kind: 'put',
      value: VALUE,
      lease: 'none',
    });
    const detachOnly = planReapply(missing, { ...RULES, recreateMissing: false });
    assert.equal(detachOnly.verdict.kind, 'unchanged');
  });

  test('a missing key that would not hold as a new reservation stays away', () => {
    const missing = { subnet: '10.5.1.0/24', key: KEY, before: ABSENT };
    const plan = planReapply(missing, {
      ...RULES,
      recreateProblems: ['192.0.2.1 holds 10.5.50.0/24 already'],
    });
    assert.equal(plan.verdict.kind, 'refused');
    assert.match(plan.verdict.kind === 'refused' ? plan.verdict.reason : '', /10\.5\.50\.0/);
  });

  test('a key now held by another address is refused', () => {
    const plan = planReapply(target('a1', 60, leaseValue('192.0.2.99')), RULES);
    assert.equal(plan.verdict.kind, 'refused');
    assert.match(plan.verdict.kind === 'refused' ? plan.verdict.reason : '', /192\.0\.2\.99/);
  });

  test('an unreadable value is refused', () => {
    assert.equal(planReapply(target('a1', 60, ''), RULES).verdict.kind, 'refused');
  });
});

describe('withRecord', () => {
  test('reserve and record put the record with the value and host', () => {
    for (const plan of [planReserve(target('a1', 80_000)), planRecord(target(null))]) {
      const withIt = withRecord(plan, records(false), NOW);
      assert.ok(withIt.record && 'put' in withIt.record, plan.action);
      assert.equal(withIt.record.put.key, RECORD_KEY);
      assert.deepEqual(parseRecord(withIt.record.put.value), {
        ok: true,
        record: { key: KEY, value: VALUE, publicIP: '192.0.2.1', reservedAt: NOW },
      });
    }
  });

  test('unreserve and release delete a record that exists, and only then', () => {
    const rules = { renewMarginSeconds: HOUR, force: true, ignoreNotFound: false, nowMs: 0 };
    for (const plan of [planUnreserve(target(null), 86_400), planRelease(target(null), rules)]) {
      assert.deepEqual(withRecord(plan, records(true), NOW).record, {
        delete: { key: RECORD_KEY },
      });
      assert.equal(withRecord(plan, records(false), NOW).record, undefined);
    }
  });

  test('plans that change nothing carry no record write', () => {
    const unchanged = planReserve(target(null));
    assert.equal(withRecord(unchanged, records(false), NOW).record, undefined);
    const reapply = planReapply(target('a1', 60), RULES);
    assert.equal(withRecord(reapply, records(true), NOW).record, undefined);
  });
});
