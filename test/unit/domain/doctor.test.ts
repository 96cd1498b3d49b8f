import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  type DoctorInput,
  type Finding,
  FINDING_CODES,
  countFindings,
  diagnose,
  parseCodeList,
  shellWord,
} from '../../../src/domain/doctor/index.js';
import { parseNetworkConfig } from '../../../src/domain/network-config.js';
import type { ReservationRecord } from '../../../src/domain/reservation-record.js';
import { type LeaseSeed, NOW_MS, SUBNETS_DIR, interpret } from '../support/leases.js';

const CONFIG_KEY = '/coreos.com/network/config';
const CONFIG_16 = '{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}';
const HOUR = 3600;

interface Scenario {
  readonly config?: string;
  readonly seeds?: LeaseSeed[];
  readonly records?: ReservationRecord[];
  readonly input?: Partial<DoctorInput>;
}

/** Every seed gets its own VtepMAC unless it names one, so only intended MACs collide. */
function seeded(seeds: readonly LeaseSeed[]): LeaseSeed[] {
  return seeds.map((seed, index) => ({
    vtepMac: `00:00:5e:10:01:${index.toString(16).padStart(2, '0')}`,
    ...seed,
  }));
}

function run(scenario: Scenario): Finding[] {
  const configText = 'config' in scenario ? scenario.config : CONFIG_16;
  const parsed = configText === undefined ? undefined : parseNetworkConfig(configText);
  const config = parsed && parsed.problems.length === 0 ? parsed.config : undefined;
  const renewMarginSeconds = scenario.input?.renewMarginSeconds ?? HOUR;
  const { entries, problems } = interpret(seeded(scenario.seeds ?? []), {
    config,
    renewMarginSeconds,
  });
  return diagnose({
    prefix: '/coreos.com/network',
    configKey: CONFIG_KEY,
    configText,
    config: parsed?.config,
    configProblems: parsed?.problems ?? [],
    nearMissKeys: [],
    otherPrefixes: [],
    entries,
    problems,
    records: new Map((scenario.records ?? []).map((record) => [record.key, record])),
    badRecords: new Map(),
    renewMarginSeconds,
    capacityWarnPercent: 80,
    nowMs: NOW_MS,
    ...scenario.input,
  });
}

function withCode(findings: Finding[], code: string): Finding[] {
  return findings.filter((item) => item.code === code);
}

function only(findings: Finding[], code: string): Finding {
  const matching = withCode(findings, code);
  assert.equal(matching.length, 1, `one ${code} finding expected, got ${JSON.stringify(findings)}`);
  return matching[0];
}

function codesOf(findings: Finding[]): string[] {
  return findings.filter((item) => item.code !== 'capacity').map((item) => item.code);
}

function record(name: string, publicIP: string): ReservationRecord {
  return {
    key: `${SUBNETS_DIR}${name}`,
    value: '{}',
    publicIP,
    reservedAt: '2024-01-01T00:00:00.000Z',
  };
}

describe('doctor: a healthy network', () => {
  it('reports nothing but an info line on capacity', () => {
    const findings = run({
      seeds: [
        { name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: 'a1', ttl: 80000 },
        { name: '10.5.2.0-24', publicIP: '192.0.2.2', leaseId: 'a2', ttl: 70000 },
      ],
    });

    assert.deepEqual(codesOf(findings), []);
    const capacity = only(findings, 'capacity');
    assert.equal(capacity.severity, 'info');
    assert.match(capacity.message, /2 of 255 subnets used \(0 reserved\), 253 free/);
    assert.deepEqual(countFindings(findings), { errors: 0, warnings: 0, infos: 1 });
  });
});

describe('doctor: config', () => {
  it('a missing config is an error that explains the v2 store (C17)', () => {
    const finding = only(run({ config: undefined }), 'config-missing');
    assert.equal(finding.severity, 'error');
    assert.equal(finding.subject, CONFIG_KEY);
    assert.match(finding.message, /v2 API \(etcdctl set\/mk, ETCDCTL_API=2\)/);
    assert.match(finding.message, /Did you create your config using etcdv3 API\?/);
  });

  it('names a backslash-escaped config at the prefix itself and shows it corrected (C15)', () => {
    const finding = only(
      run({
        config: undefined,
        input: {
          nearMissKeys: [
            { key: '/coreos.com/network', value: '{\\"Network\\": \\"10.100.0.0/16\\"}' },
          ],
        },
      }),
      'config-missing',
    );
    assert.match(finding.message, /\/coreos\.com\/network holds what looks like a network config/);
    assert.match(finding.message, /corrected: \{"Network": "10\.100\.0\.0\/16"\}/);
    assert.equal(finding.fix, `etcdctl put ${CONFIG_KEY} '{"Network": "10.100.0.0/16"}'`);
  });

  it('names a valid config at a near-miss path and ignores unrelated values', () => {
    const finding = only(
      run({
        config: undefined,
        input: {
          nearMissKeys: [
            { key: '/coreos.com/network/Config', value: CONFIG_16 },
            { key: '/coreos.com/network/owner', value: 'team-a' },
          ],
        },
      }),
      'config-missing',
    );
    assert.match(finding.message, /\/coreos\.com\/network\/Config holds a network config/);
    assert.doesNotMatch(finding.message, /owner/);
  });

  it('points at other prefixes that hold a config', () => {
    const finding = only(
      run({ config: undefined, input: { otherPrefixes: ['/kube-centos/network'] } }),
      'config-missing',
    );
    assert.match(finding.message, /a config exists under \/kube-centos\/network: wrong --prefix\?/);
    assert.equal(finding.fix, 'flanctl --prefix /kube-centos/network doctor');
  });

  it('reports each broken rule as config-invalid naming the field and value (C14)', () => {
    const findings = run({
      config:
        '{"Network":"10.10.178.0/24","SubnetLen":26,"SubnetMin":"10.10.178.200",' +
        '"SubnetMax":"10.10.178.253","Backend":{"Type":"udp","Port":7890}}',
    });
    const invalid = withCode(findings, 'config-invalid');
    assert.equal(invalid.length, 2);
    assert.ok(invalid.every((item) => item.severity === 'error'));
    assert.match(invalid[0].message, /SubnetMin 10\.10\.178\.200 .*10\.10\.178\.192/);
    assert.match(invalid[1].message, /SubnetMax 10\.10\.178\.253 .*10\.10\.178\.192/);
    assert.deepEqual(withCode(findings, 'capacity'), [], 'no capacity from an unusable config');
  });

  it('reads field names case-insensitively, as flanneld does', () => {
    const findings = run({ config: '{"network":"10.5.0.0/16","backend":{"type":"vxlan"}}' });
    assert.deepEqual(withCode(findings, 'config-invalid'), []);
  });

  it('compares with the v2 store only when it was read', () => {
    const v2Only = run({
      config: undefined,
      input: { v2Config: { enabled: true, text: CONFIG_16 } },
    });
    const mismatch = only(v2Only, 'config-api-mismatch');
    assert.equal(mismatch.severity, 'error');
    assert.equal(mismatch.fix, `ETCDCTL_API=3 etcdctl put ${CONFIG_KEY} '${CONFIG_16}'`);

    const v3Only = only(run({ input: { v2Config: { enabled: true } } }), 'config-api-mismatch');
    assert.equal(v3Only.severity, 'warning');

    const disabled = only(run({ input: { v2Config: { enabled: false } } }), 'config-api-mismatch');
    assert.equal(disabled.severity, 'info');

    const both = run({ input: { v2Config: { enabled: true, text: CONFIG_16 } } });
    assert.deepEqual(withCode(both, 'config-api-mismatch'), []);
    assert.deepEqual(withCode(run({}), 'config-api-mismatch'), []);
  });
});

describe('doctor: keys and values', () => {
  it('an uppercase IPv6 half is a malformed key, quoted for the shell in the fix (C09)', () => {
    const name = '10.5.35.0-24&FC00:0:0:23::-64';
    const finding = only(run({ seeds: [{ name, leaseId: 'a1', ttl: 80000 }] }), 'malformed-key');
    assert.equal(finding.severity, 'warning');
    assert.equal(finding.fix, `flanctl release '${SUBNETS_DIR}${name}' --force`);
  });

  it('empty values and the key-path-as-value are malformed values (errors)', () => {
    const findings = run({
      seeds: [
        { name: '10.5.1.0-24', value: '', leaseId: null },
        { name: '10.5.2.0-24', value: `${SUBNETS_DIR}10.5.2.0-24`, leaseId: null },
        { name: '10.5.3.0-24', value: 'not json', leaseId: 'a3', ttl: 80000 },
      ],
    });
    const malformed = withCode(findings, 'malformed-value');
    assert.equal(malformed.length, 3);
    assert.ok(malformed.every((item) => item.severity === 'error'));
    assert.match(malformed[0].message, /empty value/);
    assert.match(malformed[1].message, /etcdctl put KEY \$\(etcdctl get KEY\)/);
  });

  it('reports each misfit under its own code; only a missing IPv6 half is a warning', () => {
    const findings = run({
      config: '{"Network":"10.5.0.0/16","SubnetLen":25,"Backend":{"Type":"vxlan"}}',
      seeds: [
        { name: '10.5.10.0-24', leaseId: 'a1', ttl: 80000 },
        { name: '10.6.1.0-24', leaseId: null },
        { name: '10.5.12.0-25', leaseId: 'a2', ttl: 80000 },
        { name: '10.5.0.0-25', leaseId: 'a3', ttl: 80000 },
      ],
    });
    assert.equal(only(findings, 'wrong-subnet-len').subject, `${SUBNETS_DIR}10.5.10.0-24`);
    assert.equal(only(findings, 'outside-network').subject, `${SUBNETS_DIR}10.6.1.0-24`);
    assert.equal(only(findings, 'outside-range').subject, `${SUBNETS_DIR}10.5.0.0-25`);
    assert.ok(withCode(findings, 'outside-range').every((item) => item.severity === 'error'));
    assert.match(only(findings, 'outside-network').message, /reservations included/);

    const dual = run({
      config:
        '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48",' +
        '"Backend":{"Type":"vxlan"}}',
      seeds: [{ name: '10.5.36.0-24', leaseId: 'a1', ttl: 80000 }],
    });
    assert.equal(only(dual, 'missing-ipv6').severity, 'warning');
  });
});

describe('doctor: relations between keys', () => {
  it('finds overlapping subnets, also when one contains several others', () => {
    const findings = run({
      seeds: [
        { name: '10.5.0.0-22', leaseId: 'a1', ttl: 80000, publicIP: '192.0.2.1' },
        { name: '10.5.1.0-24', leaseId: 'a2', ttl: 80000, publicIP: '192.0.2.2' },
        { name: '10.5.3.0-24', leaseId: 'a3', ttl: 80000, publicIP: '192.0.2.3' },
        { name: '10.5.4.0-24', leaseId: 'a4', ttl: 80000, publicIP: '192.0.2.4' },
      ],
    });
    const overlaps = withCode(findings, 'overlap');
    assert.deepEqual(
      overlaps.map((item) => item.subject),
      [`${SUBNETS_DIR}10.5.1.0-24`, `${SUBNETS_DIR}10.5.3.0-24`],
    );
    assert.ok(overlaps.every((item) => item.severity === 'error'));
    assert.match(overlaps[1].message, /overlaps 10\.5\.0\.0\/22/);
  });

  it('one PublicIP with two subnets: warns and suggests releasing the stale one (C12)', () => {
    const findings = run({
      seeds: [
        { name: '10.16.55.0-24', publicIP: '192.0.2.21', leaseId: 'a1', ttl: 1800 },
        { name: '10.16.16.0-24', publicIP: '192.0.2.22', leaseId: 'a2', ttl: 71000 },
        {
          name: '10.16.14.0-24',
          publicIP: '192.0.2.21',
          leaseId: 'a4',
          ttl: 73000,
          modRevision: 9,
        },
      ],
      config: '{"Network":"10.16.0.0/16","Backend":{"Type":"vxlan"}}',
    });
    const finding = only(findings, 'duplicate-public-ip');
    assert.equal(finding.subject, '192.0.2.21');
    assert.match(
      finding.message,
      /10\.16\.14\.0\/24 \(20h16m40s left\), 10\.16\.55\.0\/24 \(30m0s left/,
    );
    assert.equal(finding.fix, 'flanctl release 10.16.55.0/24', 'no --force for a dying lease');
    assert.deepEqual(codesOf(findings), ['duplicate-public-ip', 'lease-overdue']);
  });

  it('keeps the lease renewed last; a live lease or a reservation needs --force', () => {
    const withReservation = only(
      run({
        seeds: [
          { name: '10.5.1.0-24', publicIP: '192.0.2.9', leaseId: null, modRevision: 9 },
          { name: '10.5.2.0-24', publicIP: '192.0.2.9', leaseId: 'a2', ttl: 86000 },
        ],
      }),
      'duplicate-public-ip',
    );
    assert.equal(withReservation.fix, 'flanctl release 10.5.1.0/24 --force');

    // Two answers a second apart are a tie: the key written last decides.
    const seeds = (firstRevision: number) => [
      {
        name: '10.5.1.0-24',
        publicIP: '192.0.2.9',
        leaseId: 'a1',
        ttl: 86000,
        modRevision: firstRevision,
      },
      { name: '10.5.2.0-24', publicIP: '192.0.2.9', leaseId: 'a2', ttl: 85999, modRevision: 8 },
    ];
    assert.equal(
      only(run({ seeds: seeds(9) }), 'duplicate-public-ip').fix,
      'flanctl release 10.5.2.0/24 --force',
    );
    assert.equal(
      only(run({ seeds: seeds(7) }), 'duplicate-public-ip').fix,
      'flanctl release 10.5.1.0/24 --force',
    );
  });

  it('keeps a key that fits the config over a later one that does not', () => {
    const finding = only(
      run({
        seeds: [
          { name: '10.5.1.0-24', publicIP: '192.0.2.9', leaseId: 'a1', ttl: 86000 },
          { name: '10.6.2.0-24', publicIP: '192.0.2.9', leaseId: null, modRevision: 9 },
        ],
      }),
      'duplicate-public-ip',
    );
    assert.equal(finding.fix, 'flanctl release 10.6.2.0/24 --force');
  });

  it('fixes name the cluster and prefix doctor looked at', () => {
    const finding = only(
      run({
        seeds: [
          { name: '10.5.1.0-24', publicIP: '192.0.2.9', leaseId: 'a1', ttl: 1800 },
          { name: '10.5.2.0-24', publicIP: '192.0.2.9', leaseId: 'a2', ttl: 86000, modRevision: 9 },
        ],
        input: {
          commands: {
            flanctl: 'flanctl --endpoints http://e:1 --prefix /x',
            flanctlOnCluster: 'flanctl --endpoints http://e:1',
            etcdctl: 'etcdctl --endpoints=http://e:1',
          },
        },
      }),
      'duplicate-public-ip',
    );
    assert.equal(finding.fix, 'flanctl --endpoints http://e:1 --prefix /x release 10.5.1.0/24');
  });

  it('a VtepMAC on two addresses is a guess about one re-addressed host (C13)', () => {
    const mac7 = '00:00:5e:10:00:07';
    const mac3 = '00:00:5e:10:00:03';
    const findings = run({
      seeds: [
        { name: '10.5.7.0-24', publicIP: '192.0.2.10', vtepMac: mac7, leaseId: 'a1', ttl: 70000 },
        {
          name: '10.5.9.0-24',
          publicIP: '192.0.2.77',
          vtepMac: mac7,
          leaseId: 'a2',
          ttl: 86000,
          modRevision: 9,
        },
        { name: '10.5.3.0-24', publicIP: '192.0.2.30', vtepMac: mac3, leaseId: null },
        { name: '10.5.4.0-24', publicIP: '192.0.2.31', vtepMac: mac3, leaseId: 'a3', ttl: 85000 },
      ],
    });
    const macs = withCode(findings, 'duplicate-vtep-mac');
    assert.equal(macs.length, 2);
    assert.ok(macs.every((item) => item.severity === 'warning'));
    assert.ok(macs.every((item) => /a guess/.test(item.message)));

    const moved = macs.find((item) => item.subject.endsWith('10.5.7.0-24'));
    assert.match(moved?.message ?? '', /19h26m40s left\) and peers keep a route to 192\.0\.2\.10/);
    assert.equal(moved?.fix, 'flanctl release 10.5.7.0/24 --force');

    const reservation = macs.find((item) => item.subject.endsWith('10.5.3.0-24'));
    assert.match(reservation?.message ?? '', /now holds lease 10\.5\.4\.0\/24 at 192\.0\.2\.31/);
    assert.equal(
      reservation?.fix,
      'flanctl release 10.5.3.0/24 --force && flanctl reserve 10.5.4.0/24',
    );
    assert.equal(countFindings(findings).errors, 0);
  });

  it('keys sharing one etcd lease', () => {
    const finding = only(
      run({
        seeds: [
          { name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: 'beef', ttl: 80000 },
          { name: '10.5.2.0-24', publicIP: '192.0.2.2', leaseId: 'beef', ttl: 80000 },
        ],
      }),
      'shared-lease',
    );
    assert.equal(finding.subject, 'beef');
    assert.match(finding.message, /10\.5\.1\.0\/24, 10\.5\.2\.0\/24/);
    assert.equal(finding.fix, null);
  });
});

describe('doctor: leases', () => {
  it('overdue, expired and missing leases are warnings with a command (C04, C05)', () => {
    const findings = run({
      seeds: [
        { name: '10.5.12.0-24', publicIP: '192.0.2.12', leaseId: 'a1', ttl: 1800 },
        { name: '10.5.40.0-24', publicIP: '192.0.2.40', leaseId: 'a2', ttl: -68272 },
        { name: '10.5.42.0-24', publicIP: '192.0.2.42', leaseId: 'a3', ttl: -1 },
        { name: '10.5.13.0-24', publicIP: '192.0.2.13', leaseId: 'a4', ttl: 80000 },
      ],
    });
    const overdue = only(findings, 'lease-overdue');
    assert.match(overdue.message, /10\.5\.12\.0\/24 \(192\.0\.2\.12\) has 30m0s left/);
    assert.match(overdue.message, /less than 1h0m0s/);
    assert.equal(overdue.fix, 'flanctl reserve 10.5.12.0/24');

    const expired = only(findings, 'lease-expired');
    assert.match(expired.message, /expired 18h57m52s ago but etcd kept the key/);
    assert.equal(expired.fix, 'flanctl release 10.5.40.0/24');

    const missing = only(findings, 'lease-missing');
    assert.match(missing.message, /lease a3, which etcd no longer has/);
    assert.equal(countFindings(findings).errors, 0);
  });

  it('follows the renew margin it is given', () => {
    const seeds = [{ name: '10.5.12.0-24', leaseId: 'a1', ttl: 1800 }];
    const findings = run({ seeds, input: { renewMarginSeconds: 20 * 60 } });
    assert.deepEqual(withCode(findings, 'lease-overdue'), []);
  });

  it("counts keyless leases granted like flanneld's as one info, and ignores others", () => {
    const findings = run({
      input: {
        keylessLeases: [
          { id: 'b1', grantedTtl: 86400, keys: 0 },
          { id: 'b2', grantedTtl: 86400, keys: 0 },
          { id: 'b3', grantedTtl: 60, keys: 0 },
          { id: 'b4', grantedTtl: 86400, keys: 1 },
        ],
      },
    });
    const keyless = only(findings, 'keyless-lease');
    assert.equal(keyless.severity, 'info');
    assert.equal(keyless.subject, '2 leases');
    assert.equal(keyless.fix, null);
    assert.deepEqual(withCode(run({ input: { keylessLeases: [] } }), 'keyless-lease'), []);
  });
});

describe('doctor: capacity', () => {
  const fullSlash22 = [
    { name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: 'a1', ttl: 36000 },
    { name: '10.5.2.0-24', publicIP: '192.0.2.2', leaseId: 'a2', ttl: 36500 },
    { name: '10.5.3.0-24', publicIP: '192.0.2.3', leaseId: null },
  ];
  const slash22 = '{"Network":"10.5.0.0/22","Backend":{"Type":"vxlan"}}';

  it("no free subnet is an error naming flanneld's failure (C08)", () => {
    const finding = only(run({ config: slash22, seeds: fullSlash22 }), 'capacity');
    assert.equal(finding.severity, 'error');
    assert.match(finding.message, /3 of 3 subnets used \(1 reserved\), 0 free/);
    assert.match(finding.message, /out of subnets/);
    assert.match(finding.message, /first block 10\.5\.0\.0\/24 is never allocated/);
  });

  it('warns from the threshold on, and reports the count below it (C08 after release)', () => {
    const seeds = fullSlash22.slice(1);
    const below = only(run({ config: slash22, seeds }), 'capacity');
    assert.equal(below.severity, 'info');
    assert.match(below.message, /2 of 3 subnets used \(1 reserved\), 1 free/);

    const warned = only(
      run({ config: slash22, seeds, input: { capacityWarnPercent: 60 } }),
      'capacity',
    );
    assert.equal(warned.severity, 'warning');
    assert.match(warned.message, /\(66\.6% used; warning from 60%\)/);
  });

  it('suggests what a longer SubnetLen would give (C11)', () => {
    const config = '{"Network":"10.30.0.0/16","SubnetLen":21,"Backend":{"Type":"vxlan"}}';
    const seeds = Array.from({ length: 31 }, (_, index) => ({
      name: `10.30.${(index + 1) * 8}.0-21`,
      publicIP: `192.0.2.${index + 1}`,
      leaseId: `c${index}`,
      ttl: 40000,
    }));
    const finding = only(run({ config, seeds }), 'capacity');
    assert.equal(finding.severity, 'error');
    assert.match(finding.message, /31 of 31 subnets used/);
    assert.match(finding.message, /SubnetLen 24 gives 255/);
  });

  it('a SubnetMin above SubnetMax is a config error (C11 b)', () => {
    const findings = run({
      config:
        '{"Network":"10.30.0.0/16","SubnetLen":24,"SubnetMin":"10.30.2.0",' +
        '"SubnetMax":"10.30.1.0","Backend":{"Type":"vxlan"}}',
    });
    assert.ok(withCode(findings, 'config-invalid').length > 0);
    assert.equal(countFindings(findings).errors > 0, true);
  });
});

describe('doctor: reservations', () => {
  it('an unrecorded reservation is a warning about flannel#1329 (C01)', () => {
    const finding = only(
      run({ seeds: [{ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: null }] }),
      'reservation-unrecorded',
    );
    assert.equal(finding.severity, 'warning');
    assert.match(finding.message, /flannel#1329/);
    assert.equal(finding.fix, 'flanctl reserve 10.5.1.0/24');
  });

  it('a recorded reservation still without a lease is fine', () => {
    const findings = run({
      seeds: [{ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: null }],
      records: [record('10.5.1.0-24', '192.0.2.1')],
    });
    assert.deepEqual(codesOf(findings), []);
  });

  it('drift: a warning while the lease is renewed, an error once it is not', () => {
    const records = [record('10.5.1.0-24', '192.0.2.1')];
    const renewed = only(
      run({
        seeds: [{ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: 'a1', ttl: 86000 }],
        records,
      }),
      'reservation-drift',
    );
    assert.equal(renewed.severity, 'warning');
    assert.equal(renewed.fix, null, 'a renewed lease must not be stripped');

    for (const ttl of [1800, -5, -1]) {
      const findings = run({
        seeds: [{ name: '10.5.1.0-24', publicIP: '192.0.2.1', leaseId: 'a1', ttl }],
        records,
      });
      const dying = only(findings, 'reservation-drift');
      assert.equal(dying.severity, 'error', `ttl ${ttl}`);
      assert.equal(dying.fix, 'flanctl reserve --reapply 10.5.1.0/24');
      assert.deepEqual(
        codesOf(findings),
        ['reservation-drift'],
        'the lease checks leave a recorded reservation to the drift check',
      );
    }
  });

  it('drift: a recorded key that is gone, or held by another host, is an error', () => {
    const gone = only(run({ records: [record('10.5.1.0-24', '192.0.2.1')] }), 'reservation-drift');
    assert.equal(gone.severity, 'error');
    assert.match(gone.message, /has no key any more/);
    assert.equal(gone.fix, `flanctl reserve --reapply ${SUBNETS_DIR}10.5.1.0-24`);

    const taken = only(
      run({
        seeds: [{ name: '10.5.1.0-24', publicIP: '192.0.2.99', leaseId: 'a1', ttl: 86000 }],
        records: [record('10.5.1.0-24', '192.0.2.1')],
      }),
      'reservation-drift',
    );
    assert.equal(taken.severity, 'error');
    assert.match(taken.message, /now held by 192\.0\.2\.99/);
  });

  it('an unreadable record is reported, not trusted', () => {
    const finding = only(
      run({ input: { badRecords: new Map([['/flanctl/reservations/x', 'not JSON']]) } }),
      'reservation-drift',
    );
    assert.equal(finding.severity, 'warning');
  });
});

describe('doctor: helpers', () => {
  it('parses code lists and names unknown codes', () => {
    assert.deepEqual(parseCodeList('overlap, capacity'), {
      codes: ['overlap', 'capacity'],
      unknown: [],
    });
    assert.deepEqual(parseCodeList('overlap,bogus').unknown, ['bogus']);
    assert.ok(FINDING_CODES.every((code) => /^[a-z0-9]+(-[a-z0-9]+)*$/.test(code)));
  });

  it('quotes shell words only when needed', () => {
    assert.equal(shellWord('10.5.1.0/24'), '10.5.1.0/24');
    assert.equal(shellWord('/a/10.5.1.0-24&fc00::-64'), "'/a/10.5.1.0-24&fc00::-64'");
    assert.equal(shellWord("it's"), "'it'\\''s'");
  });
});
