// `flanctl env validate` run as a subprocess: the field cases about subnet.env (C23 missing and
// empty files, C24 subnet outside the network, C25 the first-address form, C26 CRLF and BOM,
// C29 IPv6-only and dual-stack, C30 MTU), stdin, --json, --strict, and the --etcd comparison
// against a private etcd (C31 stale file, C17 no config, owners, reuse, the backend's MTU).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { type CliResult, type RunCliOptions, runCli } from '../helpers/cli.js';
import {
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  assertExitCode,
  describeRun,
  parseJsonDocument,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import {
  CONFIG_10_5,
  caseStatePath,
  loadCaseState,
  seedCaseAt,
  seedNetworkAt,
  testPrefix,
  vxlanAttrs,
} from '../helpers/seed.js';

const DEFAULT_PATHS = ['/run/flannel/subnet.env', '/var/run/flannel/subnet.env'];

interface Finding {
  severity: 'error' | 'warning' | 'info';
  line: number | null;
  key: string | null;
  value: string | null;
  reader: string;
  message: string;
}

interface ValidateDocument {
  path: string;
  ok: boolean;
  findings: Finding[];
  values: Record<string, string>;
}

let workDir = '';

before(() => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-env-validate-'));
});

after(() => {
  if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
});

/** A byte-exact copy of a case file in this run's temp dir; returns its absolute path. */
function caseFile(caseId: string, name: string): string {
  const source = caseStatePath(caseId, name);
  const target = path.join(workDir, caseId, name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(source, target);
  return target;
}

function caseText(caseId: string, name: string): string {
  return fs.readFileSync(caseStatePath(caseId, name), 'utf8');
}

/** A file of this test's own in the temp dir. */
function envFile(name: string, text: string): string {
  const target = path.join(workDir, 'own', name);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
  return target;
}

function validate(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return runCli(['env', 'validate', ...args], options);
}

/** The text report's finding lines of one severity (`ERROR`, `WARN`, `INFO`). */
function reportLines(result: CliResult, label: 'ERROR' | 'WARN' | 'INFO'): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line.startsWith(`${label} `));
}

function assertNoLines(result: CliResult, label: 'ERROR' | 'WARN'): void {
  assert.deepEqual(reportLines(result, label), [], `no ${label} expected: ${describeRun(result)}`);
}

/** The one report line of `label` that matches every pattern. */
function reportLine(result: CliResult, label: 'ERROR' | 'WARN' | 'INFO', ...patterns: RegExp[]) {
  const lines = reportLines(result, label).filter((line) =>
    patterns.every((pattern) => pattern.test(line)),
  );
  assert.equal(
    lines.length,
    1,
    `one ${label} line matching ${patterns.join(' ')} expected: ${describeRun(result)}`,
  );
  return lines[0];
}

const FINDING_FIELDS = ['key', 'line', 'message', 'reader', 'severity', 'value'];

function parseDocument(result: CliResult): ValidateDocument {
  const document = parseJsonDocument(result.stdout);
  assert.ok(typeof document === 'object' && document !== null && !Array.isArray(document));
  assert.deepEqual(Object.keys(document).sort(), ['findings', 'ok', 'path', 'values']);
  const shaped = document as ValidateDocument;
  assert.equal(typeof shaped.path, 'string');
  assert.equal(typeof shaped.ok, 'boolean');
  assert.ok(Array.isArray(shaped.findings));
  for (const item of shaped.findings) {
    assert.deepEqual(Object.keys(item).sort(), FINDING_FIELDS, JSON.stringify(item));
    assert.ok(['error', 'warning', 'info'].includes(item.severity), JSON.stringify(item));
    assert.ok(item.line === null || Number.isInteger(item.line), JSON.stringify(item));
    assert.ok(item.key === null || typeof item.key === 'string', JSON.stringify(item));
    assert.ok(item.value === null || typeof item.value === 'string', JSON.stringify(item));
    assert.ok(['cni', 'flanneld', 'both'].includes(item.reader), JSON.stringify(item));
    assert.equal(typeof item.message, 'string');
  }
  assert.ok(typeof shaped.values === 'object' && shaped.values !== null);
  return shaped;
}

async function validateJson(args: string[], options: RunCliOptions = {}) {
  const result = await validate([...args, '--json'], options);
  return { result, document: parseDocument(result) };
}

function findingsOf(document: ValidateDocument, severity: Finding['severity']): Finding[] {
  return document.findings.filter((item) => item.severity === severity);
}

function oneFinding(
  document: ValidateDocument,
  severity: Finding['severity'],
  pattern: RegExp,
): Finding {
  const found = findingsOf(document, severity).filter((item) => pattern.test(item.message));
  assert.equal(
    found.length,
    1,
    `one ${severity} matching ${pattern} expected: ${JSON.stringify(document.findings, null, 1)}`,
  );
  return found[0];
}

function assertNoStack(result: CliResult): void {
  assert.doesNotMatch(result.stderr, /^\s+at\s/m, `a stack trace on stderr: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /\b(TypeError|ReferenceError|Error:)\s/, result.stderr);
}

describe('flanctl env validate: missing and empty files (C23)', () => {
  test('(a) a path that does not exist: exit 2, one line naming it, a hint, no stack', async () => {
    const missing = path.join(workDir, 'C23', 'run', 'flannel', 'subnet.env');
    const result = await validate([missing]);

    assertExitCode(result, EXIT_USAGE);
    assert.equal(result.stdout, '');
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    assert.equal(lines.length, 1, `one stderr line expected: ${result.stderr}`);
    assert.ok(lines[0].startsWith('flanctl: error: '), lines[0]);
    assert.ok(lines[0].includes(missing), `the path is not named: ${lines[0]}`);
    assert.match(lines[0], /flanneld/, 'no hint about the usual causes');
    assert.match(lines[0], /--subnet-file/, 'no hint about another --subnet-file');
    assertNoStack(result);
  });

  test('(a) --json does not change a missing file into a document: still exit 2', async () => {
    const missing = path.join(workDir, 'C23', 'nowhere.env');
    const result = await validate([missing, '--json']);

    assertExitCode(result, EXIT_USAGE);
    assert.ok(result.stderr.includes(missing), result.stderr);
    assertNoStack(result);
  });

  test('(b) no PATH and no default file: exit 2 naming both default paths', async (t) => {
    const present = DEFAULT_PATHS.filter((file) => fs.existsSync(file));
    if (present.length > 0) {
      t.skip(
        `${present.join(' and ')} exists on this machine, so the default path cannot be ` +
          'tested as absent (the test never writes under /run)',
      );
      return;
    }

    const result = await validate([]);

    assertExitCode(result, EXIT_USAGE);
    assert.equal(result.stdout, '');
    for (const file of DEFAULT_PATHS) {
      assert.ok(result.stderr.includes(file), `${file} is not named: ${result.stderr}`);
    }
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assertNoStack(result);
  });

  test('(c) an empty file: exit 3, every missing key in one message', async () => {
    const file = caseFile('C23', 'empty.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const line = reportLine(result, 'ERROR', /missing/);
    assert.ok(line.includes(file), `the path is not named: ${line}`);
    for (const key of ['FLANNEL_NETWORK', 'FLANNEL_SUBNET', 'FLANNEL_MTU', 'FLANNEL_IPMASQ']) {
      assert.ok(line.includes(key), `${key} is not named: ${line}`);
    }
    assert.match(line, /IPv6/, 'the IPv6 pair is not offered as the alternative');
    assert.equal(reportLines(result, 'ERROR').length, 1, describeRun(result));
  });

  test('(c) the empty file as JSON: one error, ok false, no values', async () => {
    const file = caseFile('C23', 'empty.env');
    const { result, document } = await validateJson([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    assert.equal(document.path, file);
    assert.equal(document.ok, false);
    assert.deepEqual(document.values, {});
    assert.equal(findingsOf(document, 'error').length, 1, JSON.stringify(document.findings));
  });

  test('a missing file (2) and an invalid one (3) exit differently', async () => {
    const missing = await validate([path.join(workDir, 'C23', 'absent.env')]);
    const empty = await validate([caseFile('C23', 'empty.env')]);

    assert.notEqual(missing.code, empty.code);
    assertExitCode(missing, EXIT_USAGE);
    assertExitCode(empty, EXIT_PROBLEMS);
  });

  test('the file in another directory (etc-flannel) is itself valid', async () => {
    const result = await validate([caseFile('C23', 'etc-flannel/subnet.env')]);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assertNoLines(result, 'WARN');
  });
});

describe('flanctl env validate: networks and subnets (C24, C25, C29)', () => {
  for (const [name, subnet, subnetNetwork, network] of [
    ['subnet.env', '172.24.0.1/24', '172.24.0.0/24', '10.244.0.0/16'],
    ['subnet-b.env', '10.21.3.1/24', '10.21.3.0/24', '10.20.0.0/16'],
  ] as const) {
    test(`C24 ${name}: exit 3, an error naming ${subnet} and ${network}`, async () => {
      const file = caseFile('C24', name);
      const result = await validate([file]);

      assertExitCode(result, EXIT_PROBLEMS);
      const line = reportLine(result, 'ERROR', /not inside/);
      assert.ok(line.includes(`${file}:2`), `file:line is not named: ${line}`);
      for (const value of [subnet, subnetNetwork, network]) {
        assert.ok(line.includes(value), `${value} is not named: ${line}`);
      }
      assert.equal(reportLines(result, 'ERROR').length, 1, describeRun(result));
    });
  }

  test('C25 subnet.env: exit 0, no error or warning, nothing about IPv6', async () => {
    const file = caseFile('C25', 'subnet.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assertNoLines(result, 'WARN');
    assert.doesNotMatch(`${result.stdout}${result.stderr}`, /IPV6|IPv6/);
  });

  test('C25 subnet-netaddr.env: exit 0, an INFO with what flanneld writes, no ERROR', async () => {
    const file = caseFile('C25', 'subnet-netaddr.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assert.deepEqual(
      reportLines(result, 'WARN').filter((line) => /IPV6|IPv6/.test(line)),
      [],
      'a warning about the absent IPv6 keys',
    );
    const info = reportLine(result, 'INFO', /10\.5\.31\.1\/24/);
    assert.ok(info.includes(`${file}:2`), info);
  });

  test('C25 subnet-netaddr.env with --strict: an info is not a warning, still exit 0', async () => {
    const result = await validate([caseFile('C25', 'subnet-netaddr.env'), '--strict']);

    assertExitCode(result, EXIT_OK);
  });

  test('C29 subnet-v6only.env: exit 0, no complaint about the absent IPv4 keys', async () => {
    const file = caseFile('C29', 'subnet-v6only.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assertNoLines(result, 'WARN');
  });

  test('C29 subnet-dual-bad.env: exit 3, fc00:1:0:5::1/64 is outside fc00::/48', async () => {
    const file = caseFile('C29', 'subnet-dual-bad.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const line = reportLine(result, 'ERROR', /fc00:1:0:5::1\/64/, /fc00::\/48/);
    assert.ok(line.includes(`${file}:4`), line);
    assert.equal(reportLines(result, 'ERROR').length, 1, describeRun(result));
  });

  test('C29 subnet-dual-half.env: exit 3, the IPv6 pair is incomplete', async () => {
    const file = caseFile('C29', 'subnet-dual-half.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const line = reportLine(result, 'ERROR', /FLANNEL_IPV6_NETWORK/, /FLANNEL_IPV6_SUBNET/);
    assert.ok(line.includes(`${file}:3`), line);
  });

  test('C29 subnet-v6-wrongfamily.env: exit 3, FLANNEL_IPV6_SUBNET holds an IPv4 CIDR', async () => {
    const file = caseFile('C29', 'subnet-v6-wrongfamily.env');
    const { result, document } = await validateJson([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const error = oneFinding(document, 'error', /IPv4/);
    assert.equal(error.key, 'FLANNEL_IPV6_SUBNET');
    assert.equal(error.value, '10.5.5.1/24');
    assert.equal(error.line, 2);
  });

  test('IPv6 written long or short is the same subnet; fc00::5:1 is another address', async () => {
    const long = envFile(
      'v6-long.env',
      'FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00:0000:0000:0005::1/64\n' +
        'FLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n',
    );
    const other = envFile(
      'v6-other.env',
      'FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00::5:1/64\n' +
        'FLANNEL_MTU=1430\nFLANNEL_IPMASQ=true\n',
    );

    const longResult = await validate([long]);
    assertExitCode(longResult, EXIT_OK);
    assertNoLines(longResult, 'ERROR');
    assertNoLines(longResult, 'WARN');

    const otherResult = await validate([other]);
    assertExitCode(otherResult, EXIT_OK);
    reportLine(otherResult, 'WARN', /first address/, /fc00::1\/64/);
  });
});

describe('flanctl env validate: CRLF and BOM (C26)', () => {
  test('subnet-crlf.env: exit 3, a CNI error naming lines 1-4 with \\r escaped', async () => {
    const file = caseFile('C26', 'subnet-crlf.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const line = reportLine(result, 'ERROR', /CRLF/);
    assert.ok(line.includes(file), line);
    assert.match(line, /1-4|1, 2, 3, 4/, 'lines 1-4 are not named');
    assert.ok(line.includes('\\r'), `\\r is not shown as an escape: ${line}`);
    assert.match(line, /CNI plugin/);
    assert.ok(!result.stdout.includes('\r'), 'a raw carriage return on stdout');
    assert.ok(!result.stderr.includes('\r'), 'a raw carriage return on stderr');
  });

  test("subnet-crlf.env as JSON: the error is the CNI plugin's", async () => {
    const { result, document } = await validateJson([caseFile('C26', 'subnet-crlf.env')]);

    assertExitCode(result, EXIT_PROBLEMS);
    const error = oneFinding(document, 'error', /CRLF/);
    assert.equal(error.reader, 'cni');
    assert.equal(document.ok, false);
  });

  test('subnet-bom.env: exit 3, an error naming U+FEFF, the BOM not printed raw', async () => {
    const file = caseFile('C26', 'subnet-bom.env');
    const result = await validate([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const line = reportLine(result, 'ERROR', /U\+FEFF/);
    assert.ok(line.includes(`${file}:1`), line);
    assert.match(line, /byte-order mark/);
    assert.match(line, /CNI plugin/);
    assert.ok(!result.stdout.includes('\uFEFF'), 'a raw BOM on stdout');
    assert.ok(!result.stderr.includes('\uFEFF'), 'a raw BOM on stderr');
  });

  test('nothing is fixed: the files are unchanged after validation', async () => {
    for (const name of ['subnet-crlf.env', 'subnet-bom.env']) {
      const file = caseFile('C26', name);
      const before = fs.readFileSync(file);
      await validate([file]);
      assert.deepEqual(fs.readFileSync(file), before, `${name} was changed`);
    }
  });
});

describe('flanctl env validate: FLANNEL_MTU (C30)', () => {
  test('1500 with --backend vxlan --iface-mtu 1500: exit 3 expecting at most 1450', async () => {
    const file = caseFile('C30', 'subnet-1500.env');
    const result = await validate([file, '--backend', 'vxlan', '--iface-mtu', '1500']);

    assertExitCode(result, EXIT_PROBLEMS);
    const line = reportLine(result, 'ERROR', /FLANNEL_MTU/);
    assert.ok(line.includes(`${file}:3`), line);
    assert.match(line, /at most 1450/);
    assert.match(line, /vxlan/);
  });

  test('8951 with --backend vxlan --iface-mtu 9001: exit 0, jumbo frames are fine', async () => {
    const result = await validate([
      caseFile('C30', 'subnet-jumbo.env'),
      '--backend',
      'vxlan',
      '--iface-mtu',
      '9001',
    ]);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assertNoLines(result, 'WARN');
  });

  test('1500 without backend information: exit 0, syntax only', async () => {
    const result = await validate([caseFile('C30', 'subnet-1500.env')]);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assertNoLines(result, 'WARN');
  });

  for (const [name, value] of [
    ['subnet-zero.env', '0'],
    ['subnet-text.env', 'auto'],
  ] as const) {
    test(`${name}: exit 3, ${value} is not a usable MTU`, async () => {
      const file = caseFile('C30', name);
      const result = await validate([file]);

      assertExitCode(result, EXIT_PROBLEMS);
      const line = reportLine(result, 'ERROR', /FLANNEL_MTU/);
      assert.ok(line.includes(`${file}:3`), line);
      assert.ok(line.includes(value), line);
      assert.match(line, /68/, 'the smallest MTU is not given');
    });
  }

  test('1500 with --backend vxlan and no --iface-mtu: a warning (1500 assumed), exit 0', async () => {
    const result = await validate([caseFile('C30', 'subnet-1500.env'), '--backend', 'vxlan']);

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    const line = reportLine(result, 'WARN', /FLANNEL_MTU/);
    assert.match(line, /at most 1450/);
  });

  test('--strict turns that warning into exit 3', async () => {
    const { result, document } = await validateJson([
      caseFile('C30', 'subnet-1500.env'),
      '--backend',
      'vxlan',
      '--strict',
    ]);

    assertExitCode(result, EXIT_PROBLEMS);
    assert.equal(document.ok, false);
    oneFinding(document, 'error', /at most 1450/);
  });

  test('--strict with a clean file stays exit 0', async () => {
    const result = await validate([caseFile('C25', 'subnet.env'), '--strict']);

    assertExitCode(result, EXIT_OK);
  });
});

describe('flanctl env validate: stdin and --json', () => {
  test('- reads the file from stdin', async () => {
    const result = await validate(['-'], { stdin: caseText('C25', 'subnet.env') });

    assertExitCode(result, EXIT_OK);
    assertNoLines(result, 'ERROR');
    assertNoLines(result, 'WARN');
  });

  test('- with a bad file: exit 3, the finding given for "-"', async () => {
    const { result, document } = await validateJson(['-'], {
      stdin: caseText('C24', 'subnet.env'),
    });

    assertExitCode(result, EXIT_PROBLEMS);
    assert.equal(document.path, '-');
    oneFinding(document, 'error', /not inside/);
  });

  test('- keeps CRLF and BOM bytes from stdin', async () => {
    const crlf = await validate(['-'], { stdin: caseText('C26', 'subnet-crlf.env') });
    assertExitCode(crlf, EXIT_PROBLEMS);
    reportLine(crlf, 'ERROR', /CRLF/);

    const bom = await validate(['-'], { stdin: caseText('C26', 'subnet-bom.env') });
    assertExitCode(bom, EXIT_PROBLEMS);
    reportLine(bom, 'ERROR', /U\+FEFF/);
  });

  test('--json: {path, ok, findings, values} for a clean file', async () => {
    const file = caseFile('C25', 'subnet.env');
    const { result, document } = await validateJson([file]);

    assertExitCode(result, EXIT_OK);
    assert.equal(document.path, file);
    assert.equal(document.ok, true);
    assert.deepEqual(findingsOf(document, 'error'), []);
    assert.deepEqual(findingsOf(document, 'warning'), []);
    assert.deepEqual(document.values, {
      FLANNEL_NETWORK: '10.5.0.0/16',
      FLANNEL_SUBNET: '10.5.31.1/24',
      FLANNEL_MTU: '1450',
      FLANNEL_IPMASQ: 'false',
    });
  });

  test('--json: each finding has severity, line, key, value, reader and message', async () => {
    const file = caseFile('C24', 'subnet.env');
    const { result, document } = await validateJson([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    assert.equal(document.ok, false);
    const error = oneFinding(document, 'error', /not inside/);
    assert.deepEqual(error, {
      severity: 'error',
      line: 2,
      key: 'FLANNEL_SUBNET',
      value: '172.24.0.1/24',
      reader: 'both',
      message:
        'FLANNEL_SUBNET 172.24.0.1/24 (network 172.24.0.0/24) is not inside FLANNEL_NETWORK 10.244.0.0/16',
    });
    assert.equal(document.values.FLANNEL_SUBNET, '172.24.0.1/24');
  });

  test("--json carries a value's original characters (quotes, tab), JSON-escaped once", async () => {
    const file = envFile(
      'quoted.env',
      'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET="10.5.31.1/24"\nFLANNEL_MTU=1450\t\n' +
        'FLANNEL_IPMASQ=false\n',
    );
    const { result, document } = await validateJson([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const quoted = oneFinding(document, 'error', /quoted/);
    assert.equal(quoted.reader, 'cni');
    assert.equal(quoted.value, '"10.5.31.1/24"');
    const spaced = oneFinding(document, 'error', /spaces around its value/);
    assert.equal(spaced.value, '1450\t');
    // flanneld's reading, which `values` gives, has neither.
    assert.equal(document.values.FLANNEL_SUBNET, '10.5.31.1/24');
    assert.equal(document.values.FLANNEL_MTU, '1450');
  });

  test("text output names each finding's reader and ends with a count", async () => {
    const file = envFile(
      'readers.env',
      'export FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.31.7/24\nFLANNEL_MTU=1450\n' +
        'FLANNEL_IPMASQ=yes\n',
    );
    const result = await validate([file]);

    assertExitCode(result, EXIT_PROBLEMS);
    const exported = reportLine(result, 'ERROR', /export/);
    assert.ok(exported.includes(`${file}:1`), exported);
    assert.match(exported, /CNI plugin/);
    const ipmasq = reportLine(result, 'ERROR', /FLANNEL_IPMASQ/);
    assert.ok(ipmasq.includes(`${file}:4`), ipmasq);
    assert.match(ipmasq, /CNI plugin/);
    const first = reportLine(result, 'WARN', /first address/);
    assert.ok(first.includes(`${file}:2`), first);
    assert.match(first, /10\.5\.31\.1\/24/);
    assert.match(`${result.stdout}${result.stderr}`, /2 errors, 1 warning\b/);
  });
});

describe('flanctl env validate --etcd', () => {
  const etcd = etcdForSuite();
  const endpoint = (): string => etcd.endpoint;

  const withEtcd = (prefix: string, ...extra: string[]): string[] => [
    '--etcd',
    '--endpoints',
    endpoint(),
    '--prefix',
    prefix,
    ...extra,
  ];

  const leaseValue = (publicIP: string): string => vxlanAttrs(publicIP, '00:00:5e:10:00:99');

  describe('C31: a stale file after the network changed', () => {
    const prefix = testPrefix('envval', 'c31');

    before(async () => {
      await seedCaseAt(endpoint(), prefix, loadCaseState('C31'));
    });

    test('without --etcd the file passes', async () => {
      const result = await validate([caseFile('C31', 'subnet.env')]);

      assertExitCode(result, EXIT_OK);
      assertNoLines(result, 'ERROR');
    });

    test('--etcd: exit 3, FLANNEL_NETWORK 10.244.0.0/16 differs from Network 10.83.0.0/16', async () => {
      const file = caseFile('C31', 'subnet.env');
      const result = await validate([file, ...withEtcd(prefix)]);

      assertExitCode(result, EXIT_PROBLEMS);
      const line = reportLine(result, 'ERROR', /10\.244\.0\.0\/16/, /10\.83\.0\.0\/16/);
      assert.ok(line.includes(`${file}:1`), line);
      assert.match(line, /FLANNEL_NETWORK/);
    });

    test('--etcd without --public-ip: only the network mismatch is an error', async () => {
      const { result, document } = await validateJson([
        caseFile('C31', 'subnet.env'),
        ...withEtcd(prefix),
      ]);

      assertExitCode(result, EXIT_PROBLEMS);
      const errors = findingsOf(document, 'error');
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0].key, 'FLANNEL_NETWORK');
      assert.equal(errors[0].value, '10.244.0.0/16');
      assert.ok(
        !document.findings.some((item) => /bridge/.test(item.message)),
        "a claim about the host's lease without --public-ip",
      );
    });

    test('--public-ip 192.0.2.83: etcd holds 10.83.12.0/24 for it, the file says 10.244.3.0/24', async () => {
      const file = caseFile('C31', 'subnet.env');
      const result = await validate([file, ...withEtcd(prefix, '--public-ip', '192.0.2.83')]);

      assertExitCode(result, EXIT_PROBLEMS);
      const stale = reportLine(result, 'ERROR', /10\.83\.12\.0\/24/, /10\.244\.3\.0\/24/);
      assert.ok(stale.includes('192.0.2.83'), stale);
      assert.match(stale, /bridge address/, 'the old bridge address is not mentioned');
      reportLine(result, 'ERROR', /10\.244\.0\.0\/16/, /10\.83\.0\.0\/16/);
    });

    test('--etcd: flanneld would not reuse 10.244.3.0/24, and says why', async () => {
      const { document } = await validateJson([caseFile('C31', 'subnet.env'), ...withEtcd(prefix)]);

      const reuse = document.findings.filter((item) => /would not reuse/.test(item.message));
      assert.equal(reuse.length, 1, JSON.stringify(document.findings));
      assert.match(reuse[0].message, /10\.244\.3\.0\/24/);
      assert.match(reuse[0].message, /outside the network 10\.83\.0\.0\/16/);
    });

    test('the backend for the MTU check comes from the config: vxlan, 1500 gets a warning', async () => {
      const file = caseFile('C30', 'subnet-1500.env');
      const result = await validate([file, ...withEtcd(prefix)]);

      const line = reportLine(result, 'WARN', /FLANNEL_MTU/);
      assert.match(line, /vxlan/);
      assert.match(line, /at most 1450/);
    });
  });

  describe('C17: an empty keyspace', () => {
    const prefix = testPrefix('envval', 'c17');

    before(async () => {
      await seedCaseAt(endpoint(), prefix, loadCaseState('C17'));
    });

    test('exit 3: no network config at <prefix>/config', async () => {
      const file = caseFile('C17', 'subnet.env');
      const result = await validate([file, ...withEtcd(prefix)]);

      assertExitCode(result, EXIT_PROBLEMS);
      const line = reportLine(result, 'ERROR', /network config/);
      assert.ok(line.includes(`${prefix}/config`), `the config key is not named: ${line}`);
      assertNoStack(result);
    });

    test('the subnet the file names is reported as one flanneld will try to re-acquire', async () => {
      // C17 expected.md: "INFO that this node previously held 10.5.65.0/24, which flanneld
      // will try to re-acquire once a compatible config exists".
      const { document } = await validateJson([caseFile('C17', 'subnet.env'), ...withEtcd(prefix)]);

      oneFinding(document, 'info', /10\.5\.65\.0\/24/);
    });
  });

  describe('who holds the subnet', () => {
    const prefix = testPrefix('envval', 'owners');
    const held = (): string =>
      envFile(
        'owners-held.env',
        'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.31.1/24\nFLANNEL_MTU=1450\n' +
          'FLANNEL_IPMASQ=false\n',
      );

    before(async () => {
      await seedNetworkAt(endpoint(), prefix, CONFIG_10_5, [
        { key: '10.5.31.0-24', value: leaseValue('192.0.2.10'), ttl: 3600 },
        { key: '10.5.32.0-24', value: leaseValue('192.0.2.11'), ttl: null },
      ]);
    });

    test('without --public-ip the owner is an info, exit 0', async () => {
      const file = held();
      const { result, document } = await validateJson([file, ...withEtcd(prefix)]);

      assertExitCode(result, EXIT_OK);
      const owner = oneFinding(document, 'info', /192\.0\.2\.10/);
      assert.equal(owner.key, 'FLANNEL_SUBNET');
      assert.equal(owner.line, 2);
      assert.deepEqual(findingsOf(document, 'error'), []);
      assert.deepEqual(findingsOf(document, 'warning'), []);
    });

    test("with another host's --public-ip: exit 3, an error naming the owner, no advice to reserve", async () => {
      const file = held();
      const result = await validate([file, ...withEtcd(prefix, '--public-ip', '192.0.2.99')]);

      assertExitCode(result, EXIT_PROBLEMS);
      const line = reportLine(result, 'ERROR', /192\.0\.2\.10/);
      assert.ok(line.includes(`${file}:2`), line);
      assert.match(line, /10\.5\.31\.0\/24/);
      assert.doesNotMatch(
        `${result.stdout}${result.stderr}`,
        /\breserve\b/i,
        'suggests reserving a subnet another host holds',
      );
    });

    test("with the owner's own --public-ip: exit 0, no error or warning", async () => {
      const result = await validate([held(), ...withEtcd(prefix, '--public-ip', '192.0.2.10')]);

      assertExitCode(result, EXIT_OK);
      assertNoLines(result, 'ERROR');
      assertNoLines(result, 'WARN');
    });

    test('a reservation is named as one, with its host', async () => {
      const file = envFile(
        'owners-reserved.env',
        'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.32.1/24\nFLANNEL_MTU=1450\n' +
          'FLANNEL_IPMASQ=false\n',
      );
      const { result, document } = await validateJson([file, ...withEtcd(prefix)]);

      assertExitCode(result, EXIT_OK);
      const owner = oneFinding(document, 'info', /192\.0\.2\.11/);
      assert.match(owner.message, /reservation/);
    });

    test('flanneld would reuse a subnet that fits the config: yes', async () => {
      const { document } = await validateJson([held(), ...withEtcd(prefix)]);

      const reuse = oneFinding(document, 'info', /would reuse/);
      assert.match(reuse.message, /10\.5\.31\.0\/24/);
    });
  });

  describe('would flanneld reuse the subnet: no, and why', () => {
    const lengthPrefix = testPrefix('envval', 'reuse-len');
    const rangePrefix = testPrefix('envval', 'reuse-range');
    const file = (): string =>
      envFile(
        'reuse.env',
        'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.31.1/24\nFLANNEL_MTU=1450\n' +
          'FLANNEL_IPMASQ=false\n',
      );

    before(async () => {
      await seedNetworkAt(
        endpoint(),
        lengthPrefix,
        '{"Network":"10.5.0.0/16","SubnetLen":26,"Backend":{"Type":"vxlan"}}',
      );
      await seedNetworkAt(
        endpoint(),
        rangePrefix,
        '{"Network":"10.5.0.0/16","SubnetMin":"10.5.100.0","Backend":{"Type":"vxlan"}}',
      );
    });

    test('another length than SubnetLen', async () => {
      const { document } = await validateJson([file(), ...withEtcd(lengthPrefix)]);

      const reuse = document.findings.filter((item) => /would not reuse/.test(item.message));
      assert.equal(reuse.length, 1, JSON.stringify(document.findings));
      assert.match(reuse[0].message, /10\.5\.31\.0\/24/);
      assert.match(reuse[0].message, /SubnetLen is 26/);
      assert.ok(!document.findings.some((item) => /would reuse/.test(item.message)));
    });

    test('outside SubnetMin..SubnetMax', async () => {
      const { document } = await validateJson([file(), ...withEtcd(rangePrefix)]);

      const reuse = document.findings.filter((item) => /would not reuse/.test(item.message));
      assert.equal(reuse.length, 1, JSON.stringify(document.findings));
      assert.match(reuse[0].message, /SubnetMin\.\.SubnetMax/);
    });
  });

  describe('the backend from the config for the MTU check', () => {
    const vxlanPrefix = testPrefix('envval', 'mtu-vxlan');
    const udpPrefix = testPrefix('envval', 'mtu-udp');

    before(async () => {
      await seedNetworkAt(endpoint(), vxlanPrefix, CONFIG_10_5);
      await seedNetworkAt(endpoint(), udpPrefix, '{"Network":"10.5.0.0/16"}');
    });

    test('vxlan: 1500 is a warning without --iface-mtu, exit 0', async () => {
      const file = caseFile('C30', 'subnet-1500.env');
      const result = await validate([file, ...withEtcd(vxlanPrefix)]);

      assertExitCode(result, EXIT_OK);
      assertNoLines(result, 'ERROR');
      const line = reportLine(result, 'WARN', /FLANNEL_MTU/);
      assert.ok(line.includes(`${file}:3`), line);
      assert.match(line, /vxlan/);
      assert.match(line, /at most 1450/);
    });

    test('vxlan: 1500 with --iface-mtu 1500 is an error, exit 3', async () => {
      const result = await validate([
        caseFile('C30', 'subnet-1500.env'),
        ...withEtcd(vxlanPrefix, '--iface-mtu', '1500'),
      ]);

      assertExitCode(result, EXIT_PROBLEMS);
      reportLine(result, 'ERROR', /FLANNEL_MTU/, /at most 1450/);
    });

    test('vxlan: 8951 on a 9001-byte interface is fine', async () => {
      const result = await validate([
        caseFile('C30', 'subnet-jumbo.env'),
        ...withEtcd(vxlanPrefix, '--iface-mtu', '9001'),
      ]);

      assertExitCode(result, EXIT_OK);
      assertNoLines(result, 'ERROR');
      assertNoLines(result, 'WARN');
    });

    test('no Backend in the config means udp: 1500 does not fit, 1472 expected', async () => {
      const result = await validate([caseFile('C30', 'subnet-1500.env'), ...withEtcd(udpPrefix)]);

      assertExitCode(result, EXIT_OK);
      const line = reportLine(result, 'WARN', /FLANNEL_MTU/);
      assert.match(line, /udp/);
      assert.match(line, /at most 1472/);
    });
  });
});
