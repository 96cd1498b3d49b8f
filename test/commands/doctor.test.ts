// `flanctl doctor` against a private etcd: each field case it concerns, one network with a
// defect of every kind it can build in a real etcd, the filters, and the exit codes.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { JournalSandbox } from '../helpers/changing-commands.js';
import { runCli } from '../helpers/cli.js';
import {
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  assertExitCode,
  assertOneLineError,
  parseJsonDocument,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import { grantLeaseWithId, putKey, putKeys } from '../helpers/kv-inspect.js';
import {
  CONFIG_10_5,
  caseStatePath,
  loadCaseState,
  seedCaseAt,
  subnetKey,
  testPrefix,
  vxlanAttrs,
} from '../helpers/seed.js';

interface FindingJson {
  severity: 'error' | 'warning' | 'info';
  code: string;
  subject: string;
  message: string;
  fix: string | null;
}

interface DoctorJson {
  findings: FindingJson[];
  summary: {
    prefix: string;
    revision: number;
    keys: number;
    errors: number;
    warnings: number;
    infos: number;
    ok: boolean;
  };
}

/** How doctor's fixes start for a run with these flags: they name where doctor looked. */
function fixStart(endpoint: string, prefix: string): string {
  return `flanctl --endpoints ${endpoint} --prefix ${prefix}`;
}

function doctor(endpoint: string, prefix: string, args: string[] = []) {
  return runCli(['doctor', '--endpoints', endpoint, '--prefix', prefix, ...args]);
}

async function doctorJson(endpoint: string, prefix: string, args: string[] = []) {
  const result = await doctor(endpoint, prefix, ['--json', ...args]);
  return { result, document: parseJsonDocument<DoctorJson>(result.stdout) };
}

function findingsWith(document: DoctorJson, code: string): FindingJson[] {
  return document.findings.filter((item) => item.code === code);
}

function onlyFinding(document: DoctorJson, code: string): FindingJson {
  const found = findingsWith(document, code);
  assert.equal(found.length, 1, `one ${code}: ${JSON.stringify(document.findings, null, 1)}`);
  return found[0];
}

/** Error and warning codes, the ones an operator must act on, in report order. */
function problemCodes(document: DoctorJson): string[] {
  return document.findings.filter((item) => item.severity !== 'info').map((item) => item.code);
}

describe('flanctl doctor', () => {
  const etcd = etcdForSuite();
  const sandbox = new JournalSandbox('doctor');
  after(() => sandbox.remove());

  const releaseForced = (prefix: string, subnet: string) =>
    sandbox.run(etcd.endpoint, 'release', prefix, [subnet, '--yes', '--force']);

  async function seedCase(caseId: string, file?: string): Promise<string> {
    const prefix = testPrefix('doctor', caseId, file ?? 'main');
    const entries = loadCaseState(caseId, file).filter((item) => item.ttl === null || item.ttl > 0);
    await seedCaseAt(etcd.endpoint, prefix, entries);
    return prefix;
  }

  test('C01: a reservation is a warning about flannel#1329, exit 0', async () => {
    const prefix = await seedCase('C01');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_OK);
    assert.deepEqual(problemCodes(document), ['reservation-unrecorded']);
    const finding = onlyFinding(document, 'reservation-unrecorded');
    assert.equal(finding.subject, subnetKey(prefix, '10.5.1.0-24'));
    assert.match(finding.message, /flannel#1329/);
    assert.equal(finding.fix, `${fixStart(etcd.endpoint, prefix)} reserve 10.5.1.0/24`);
    assert.deepEqual(Object.keys(finding), ['severity', 'code', 'subject', 'message', 'fix']);
    assert.equal(document.summary.prefix, prefix);
    assert.equal(document.summary.keys, 3);
    assert.equal(document.summary.ok, true);
  });

  test('C04: an overdue lease is a warning; a 20-minute margin clears it', async () => {
    const prefix = await seedCase('C04');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_OK);
    const finding = onlyFinding(document, 'lease-overdue');
    assert.match(finding.message, /10\.5\.12\.0\/24 \(192\.0\.2\.12\)/);
    assert.equal(finding.fix, `${fixStart(etcd.endpoint, prefix)} reserve 10.5.12.0/24`);

    for (const margin of ['20', '20m']) {
      const relaxed = await doctorJson(etcd.endpoint, prefix, ['--renew-margin', margin]);
      assertExitCode(relaxed.result, EXIT_OK);
      assert.deepEqual(findingsWith(relaxed.document, 'lease-overdue'), [], margin);
    }

    const outside = await doctor(etcd.endpoint, prefix, ['--renew-margin', '1440']);
    assertOneLineError(outside, EXIT_USAGE, '1440');
  });

  test('C08: a full network is an error; after a release one subnet is free', async () => {
    const prefix = await seedCase('C08');
    const full = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(full.result, EXIT_PROBLEMS);
    const capacity = onlyFinding(full.document, 'capacity');
    assert.equal(capacity.severity, 'error');
    assert.match(capacity.message, /3 of 3 subnets used .* 0 free/);
    assert.match(capacity.message, /out of subnets/);
    assert.match(full.result.stderr, /1 error found/);

    assertExitCode(await releaseForced(prefix, '10.5.2.0/24'), EXIT_OK);

    const after = await doctorJson(etcd.endpoint, prefix);
    assertExitCode(after.result, EXIT_OK);
    assert.match(onlyFinding(after.document, 'capacity').message, /2 of 3 subnets used .* 1 free/);
  });

  test('C09: the uppercase key and the IPv4-only key are warnings, exit 0', async () => {
    const prefix = await seedCase('C09');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_OK);
    const malformed = onlyFinding(document, 'malformed-key');
    assert.equal(malformed.subject, subnetKey(prefix, '10.5.35.0-24&FC00:0:0:23::-64'));
    assert.equal(
      malformed.fix,
      `${fixStart(etcd.endpoint, prefix)} release ` +
        `'${subnetKey(prefix, '10.5.35.0-24&FC00:0:0:23::-64')}' --force`,
    );
    const ipv4Only = onlyFinding(document, 'missing-ipv6');
    assert.equal(ipv4Only.severity, 'warning');
    assert.match(ipv4Only.message, /pods renumber/);
  });

  test('C11: 31 of 31 used is an error; with one freed, a warning; SubnetMin > Max', async () => {
    const prefix = await seedCase('C11');
    const full = await doctorJson(etcd.endpoint, prefix);
    assertExitCode(full.result, EXIT_PROBLEMS);
    const capacity = onlyFinding(full.document, 'capacity');
    assert.match(capacity.message, /31 of 31 subnets used/);
    assert.match(capacity.message, /10\.30\.0\.0\/21 is never allocated/);
    assert.match(capacity.message, /SubnetLen 24 gives 255/);

    assertExitCode(await releaseForced(prefix, '10.30.8.0/21'), EXIT_OK);
    const oneFree = await doctorJson(etcd.endpoint, prefix);
    assertExitCode(oneFree.result, EXIT_OK);
    const warning = onlyFinding(oneFree.document, 'capacity');
    assert.equal(warning.severity, 'warning');
    assert.match(warning.message, /1 free/);

    const inverted = await seedCase('C11', 'etcd-state-b.json');
    const b = await doctorJson(etcd.endpoint, inverted);
    assertExitCode(b.result, EXIT_PROBLEMS);
    assert.match(onlyFinding(b.document, 'config-invalid').message, /SubnetMin 10\.30\.2\.0/);
  });

  test('C12: one PublicIP holding two subnets', async () => {
    const prefix = await seedCase('C12');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_OK);
    assert.deepEqual(problemCodes(document), ['duplicate-public-ip']);
    const finding = onlyFinding(document, 'duplicate-public-ip');
    assert.match(finding.message, /10\.16\.14\.0\/24 \(\d+h\d+m\d+s left\), 10\.16\.55\.0\/24/);
    assert.match(finding.message, /most likely in use: 10\.16\.14\.0\/24/);
    assert.equal(finding.fix, `${fixStart(etcd.endpoint, prefix)} release 10.16.55.0/24 --force`);
  });

  test('C13: a VtepMAC on two addresses, said to be a guess', async () => {
    const prefix = await seedCase('C13');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_OK);
    const macs = findingsWith(document, 'duplicate-vtep-mac');
    assert.deepEqual(macs.map((item) => item.subject).sort(), [
      subnetKey(prefix, '10.5.3.0-24'),
      subnetKey(prefix, '10.5.7.0-24'),
    ]);
    assert.ok(macs.every((item) => item.severity === 'warning' && /a guess/.test(item.message)));
    const release7 = `${fixStart(etcd.endpoint, prefix)} release 10.5.7.0/24 --force`;
    assert.ok(macs.some((item) => item.fix === release7));
  });

  for (const [file, field] of [
    ['etcd-state.json', 'SubnetMin 10.10.178.200'],
    ['etcd-state-b.json', 'SubnetLen 31'],
    ['etcd-state-c.json', 'SubnetLen 17'],
    ['etcd-state-d.json', 'SubnetMin 10.11.0.0'],
  ]) {
    test(`C14 ${file}: config-invalid names ${field}`, async () => {
      const prefix = await seedCase('C14', file);
      const { result, document } = await doctorJson(etcd.endpoint, prefix);

      assertExitCode(result, EXIT_PROBLEMS);
      const invalid = findingsWith(document, 'config-invalid');
      assert.ok(
        invalid.some((item) => item.message.includes(field)),
        JSON.stringify(invalid),
      );
      assert.ok(invalid.every((item) => item.severity === 'error'));
    });
  }

  test('C15: a backslash-escaped config at the prefix itself, shown corrected', async () => {
    const prefix = await seedCase('C15');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_PROBLEMS);
    const missing = onlyFinding(document, 'config-missing');
    assert.equal(missing.subject, `${prefix}/config`);
    assert.ok(missing.message.includes(`${prefix} holds what looks like a network config`));
    assert.ok(missing.message.includes('corrected: {"Network": "10.100.0.0/16"}'));
    assert.equal(
      missing.fix,
      `etcdctl --endpoints=${etcd.endpoint} put ${prefix}/config '{"Network": "10.100.0.0/16"}'`,
    );
  });

  test("a config under a sibling prefix is not offered as this network's", async () => {
    const prefix = testPrefix('doctor', 'near');
    await putKey(etcd.endpoint, `${prefix}2`, CONFIG_10_5);
    await putKey(etcd.endpoint, `${prefix}/Config`, CONFIG_10_5);
    const { document } = await doctorJson(etcd.endpoint, prefix);

    const missing = onlyFinding(document, 'config-missing');
    assert.ok(missing.message.includes(`${prefix}/Config holds a network config`));
    assert.ok(!missing.message.includes(`${prefix}2 holds`), missing.message);
  });

  test('C17: an empty keyspace explains the v2 store; --env adds the held subnet', async () => {
    const prefix = testPrefix('doctor', 'c17-empty');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_PROBLEMS);
    const missing = onlyFinding(document, 'config-missing');
    assert.match(missing.message, /ETCDCTL_API=2/);
    assert.match(missing.message, /Did you create your config using etcdv3 API\?/);

    const withEnv = await doctorJson(etcd.endpoint, prefix, [
      '--env',
      caseStatePath('C17', 'subnet.env'),
    ]);
    assertExitCode(withEnv.result, EXIT_PROBLEMS);
    const held = findingsWith(withEnv.document, 'subnet-env').find((item) =>
      item.message.includes('10.5.65.0/24'),
    );
    assert.equal(held?.severity, 'info', JSON.stringify(withEnv.document.findings));
    assert.match(held?.message ?? '', /take it again once a compatible config exists/);
    assert.doesNotMatch(withEnv.result.stdout + withEnv.result.stderr, /password/i);
  });

  test('C18: an empty prefix names the prefix that has a config', async () => {
    // The case's keys are under /kube-centos/network, which the case prefix does not cover.
    await seedCase('C18');
    const empty = testPrefix('doctor', 'c18-empty');
    const { result, document } = await doctorJson(etcd.endpoint, empty);

    assertExitCode(result, EXIT_PROBLEMS);
    const missing = onlyFinding(document, 'config-missing');
    assert.match(missing.message, /a config exists under .*\/kube-centos\/network/);
  });

  test('C31: a stale subnet.env for this host is an error', async () => {
    const prefix = await seedCase('C31');
    const { result, document } = await doctorJson(etcd.endpoint, prefix, [
      '--env',
      caseStatePath('C31', 'subnet.env'),
      '--public-ip',
      '192.0.2.83',
    ]);

    assertExitCode(result, EXIT_PROBLEMS);
    const errors = findingsWith(document, 'subnet-env').filter((item) => item.severity === 'error');
    assert.ok(
      errors.some((item) => /10\.244\.0\.0\/16 differs .* 10\.83\.0\.0\/16/.test(item.message)),
    );
    assert.ok(errors.some((item) => /holds 10\.83\.12\.0\/24 for this host/.test(item.message)));
    assert.ok(errors.some((item) => /already has an IP address different from/.test(item.message)));
  });

  test('C33: the three entries that do not fit the config are errors', async () => {
    const prefix = await seedCase('C33');
    const { result, document } = await doctorJson(etcd.endpoint, prefix);

    assertExitCode(result, EXIT_PROBLEMS);
    const misfits = document.findings.filter((item) =>
      ['wrong-subnet-len', 'outside-network'].includes(item.code),
    );
    assert.deepEqual(misfits.map((item) => item.subject).sort(), [
      subnetKey(prefix, '10.5.10.0-24'),
      subnetKey(prefix, '10.5.11.0-24'),
      subnetKey(prefix, '10.6.1.0-24'),
    ]);
    assert.ok(misfits.every((item) => item.severity === 'error'));
    assert.ok(misfits.every((item) => /reservations included/.test(item.message)));
  });

  describe('a network with one of every defect a real etcd can hold', () => {
    const prefix = testPrefix('doctor', 'defects');
    const sharedLease = 'd0c0000000000001';

    before(async () => {
      await grantLeaseWithId(etcd.endpoint, sharedLease);
      await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);
      const value = (ip: string, mac: string) => vxlanAttrs(ip, mac);
      await putKey(
        etcd.endpoint,
        subnetKey(prefix, '10.5.1.0-24'),
        value('192.0.2.1', '00:00:5e:20:00:01'),
        sharedLease,
      );
      await putKey(
        etcd.endpoint,
        subnetKey(prefix, '10.5.2.0-24'),
        value('192.0.2.2', '00:00:5e:20:00:02'),
        sharedLease,
      );
      await putKeys(etcd.endpoint, [
        {
          key: subnetKey(prefix, '10.5.4.0-22'),
          value: value('192.0.2.4', '00:00:5e:20:00:04'),
          lease: 'overlapping',
        },
        {
          key: subnetKey(prefix, '10.5.5.0-24'),
          value: value('192.0.2.5', '00:00:5e:20:00:05'),
          lease: 'inside',
        },
        {
          key: subnetKey(prefix, '10.5.9.0-24'),
          value: subnetKey(prefix, '10.5.9.0-24'),
          lease: 'recipe',
        },
        { key: subnetKey(prefix, '10.5.10.0-24'), value: '', lease: 'empty' },
        {
          key: subnetKey(prefix, '10.5.11.0-24'),
          value: value('192.0.2.11', '00:00:5e:20:00:11'),
          lease: 'dying',
          ttl: 600,
        },
        { key: subnetKey(prefix, 'junk'), value: '{}', lease: 'junk' },
        {
          key: subnetKey(prefix, '10.5.20.1-24'),
          value: value('192.0.2.20', '00:00:5e:20:00:20'),
          lease: 'host-bits',
        },
        {
          key: subnetKey(prefix, '10.5.0.0-24'),
          value: value('192.0.2.30', '00:00:5e:20:00:30'),
          lease: 'below-subnet-min',
        },
        {
          key: subnetKey(prefix, '10.5.31.0-24'),
          value: value('192.0.2.31', '00:00:5e:20:00:31'),
          lease: 'one-host-a',
        },
        {
          key: subnetKey(prefix, '10.5.32.0-24'),
          value: value('192.0.2.31', '00:00:5e:20:00:32'),
          lease: 'one-host-b',
        },
        {
          key: subnetKey(prefix, '10.5.33.0-24'),
          value: value('192.0.2.33', '00:00:5e:20:00:33'),
          lease: 'moved-host-old',
        },
        {
          key: subnetKey(prefix, '10.5.34.0-24'),
          value: value('192.0.2.34', '00:00:5e:20:00:33'),
          lease: 'moved-host-new',
        },
        { key: subnetKey(prefix, '10.5.35.0-24'), value: value('192.0.2.35', '00:00:5e:20:00:35') },
      ]);
    });

    test('each defect has its code; exit 3', async () => {
      const { result, document } = await doctorJson(etcd.endpoint, prefix);

      assertExitCode(result, EXIT_PROBLEMS);
      const codes = new Set(document.findings.map((item) => item.code));
      for (const code of [
        'shared-lease',
        'overlap',
        'malformed-value',
        'malformed-key',
        'wrong-subnet-len',
        'misaligned',
        'outside-range',
        'duplicate-public-ip',
        'duplicate-vtep-mac',
        'lease-overdue',
        'reservation-unrecorded',
        'capacity',
      ]) {
        assert.ok(codes.has(code), `${code} missing from ${[...codes].join(', ')}`);
      }

      assert.equal(onlyFinding(document, 'shared-lease').subject, sharedLease);
      assert.equal(findingsWith(document, 'malformed-value').length, 2);
      assert.equal(document.summary.errors > 0, true);
      assert.equal(document.summary.ok, false);
    });

    test('a keyless lease granted for 86400 s is counted as info only', async () => {
      await withKeylessLease(etcd.endpoint);
      const { document } = await doctorJson(etcd.endpoint, prefix);

      const keyless = onlyFinding(document, 'keyless-lease');
      assert.equal(keyless.severity, 'info');
      assert.equal(keyless.fix, null);
    });

    test('--only and --skip choose codes; the exit code follows what is shown', async () => {
      const only = await doctorJson(etcd.endpoint, prefix, ['--only', 'shared-lease,capacity']);
      assertExitCode(only.result, EXIT_OK);
      assert.deepEqual([...new Set(only.document.findings.map((item) => item.code))].sort(), [
        'capacity',
        'shared-lease',
      ]);

      const skipped = await doctorJson(etcd.endpoint, prefix, [
        '--skip',
        'overlap,malformed-value,wrong-subnet-len,misaligned,outside-range',
      ]);
      assertExitCode(skipped.result, EXIT_OK);
      assert.equal(findingsWith(skipped.document, 'overlap').length, 0);
    });

    test('an unknown code is a usage error naming it and the known codes', async () => {
      const result = await doctor(etcd.endpoint, prefix, ['--only', 'overlap,overlaps']);
      assertOneLineError(result, EXIT_USAGE, 'overlaps', 'duplicate-vtep-mac');
    });

    test('the table prints each finding with its fix and ends with a summary', async () => {
      const result = await doctor(etcd.endpoint, prefix);

      assertExitCode(result, EXIT_PROBLEMS);
      const lines = result.stdout.trimEnd().split('\n');
      assert.match(lines[0], /^ERROR {2}\[/);
      assert.ok(lines.some((line) => /^ {7}fix: flanctl /.test(line)));
      assert.match(lines.at(-1) ?? '', new RegExp(`^${prefix}: \\d+ errors?, \\d+ warnings?, `));
    });
  });

  test('--public-ip without --env is a usage error', async () => {
    const result = await doctor(etcd.endpoint, testPrefix('doctor', 'flags'), [
      '--public-ip',
      '192.0.2.1',
    ]);
    assertOneLineError(result, EXIT_USAGE, '--public-ip', '--env');
  });

  test('--v2 on an etcd without the v2 API says so as info', async () => {
    const prefix = testPrefix('doctor', 'no-v2');
    await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);
    const { result, document } = await doctorJson(etcd.endpoint, prefix, ['--v2']);

    assertExitCode(result, EXIT_OK);
    assert.equal(onlyFinding(document, 'config-api-mismatch').severity, 'info');
  });
});

describe('flanctl doctor --v2 (C17 with the v2 store)', () => {
  const etcd = etcdForSuite({ enableV2: true });

  test('a config only in the v2 store is an error with the v3 command to write it', async () => {
    const prefix = testPrefix('doctor', 'v2');
    await v2Put(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);

    const plain = await doctorJson(etcd.endpoint, prefix);
    assertExitCode(plain.result, EXIT_PROBLEMS);
    assert.deepEqual(findingsWith(plain.document, 'config-api-mismatch'), []);

    const checked = await doctorJson(etcd.endpoint, prefix, ['--v2']);
    assertExitCode(checked.result, EXIT_PROBLEMS);
    const mismatch = onlyFinding(checked.document, 'config-api-mismatch');
    assert.equal(mismatch.severity, 'error');
    assert.equal(
      mismatch.fix,
      `ETCDCTL_API=3 etcdctl --endpoints=${etcd.endpoint} put ${prefix}/config '${CONFIG_10_5}'`,
    );
  });

  test('a config only in v3 is a warning for flanneld before 0.17', async () => {
    const prefix = testPrefix('doctor', 'v3-only');
    await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);

    const { result, document } = await doctorJson(etcd.endpoint, prefix, ['--v2']);
    assertExitCode(result, EXIT_OK);
    assert.equal(onlyFinding(document, 'config-api-mismatch').severity, 'warning');
  });
});

/** A lease granted like flanneld's, with no key: what every flanneld renewal leaves behind. */
async function withKeylessLease(endpoint: string): Promise<void> {
  await grantLeaseWithId(endpoint, 'd0c00000000000ff', 86_400);
}

/** Writes through etcd's v2 HTTP API, as `ETCDCTL_API=2 etcdctl set` does. */
function v2Put(endpoint: string, key: string, value: string): Promise<void> {
  const body = new URLSearchParams({ value }).toString();
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL(`/v2/keys${key}`, endpoint),
      {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (response) => {
        response.resume();
        response.on('end', () =>
          response.statusCode === 200 || response.statusCode === 201
            ? resolve()
            : reject(new Error(`v2 PUT ${key} answered ${response.statusCode}`)),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
