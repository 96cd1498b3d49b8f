// The command-line surface of flanctl, run as the built CLI against a private etcd: errors that
// happen outside any command, connection flags in any position, control characters from etcd,
// output that cannot be written, colour, --no-headers, the less common `leases show` forms, a
// config under another prefix, and connection settings. stdout, stderr and the exit code are
// checked apart.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { type CliResult, runCli, runInShell } from '../helpers/cli.js';
import {
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_UNEXPECTED,
  EXIT_USAGE,
  assertOneLineFlanctlError,
  parseJsonDocument,
  stderrLines,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import { existingKey, grantLeaseWithId, putKey } from '../helpers/kv-inspect.js';
import { detailFields, field, leasesLs } from '../helpers/leases.js';
import { CONFIG_10_5, leaseValue, seedState, subnetKey, testPrefix } from '../helpers/seed.js';

const DUAL_STACK_CONFIG =
  '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}';

const ESC = '\u001b';
// Every C0 control but the line feed, DEL and the C1 controls: none may reach a terminal raw.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
const ANSI_ESCAPE = /\u001b\[/;

function stdoutLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line !== '');
}

function assertOk(result: CliResult): void {
  assert.equal(result.code, EXIT_OK, `exit code; stderr: ${result.stderr}`);
}

function assertNoRawControls(text: string, what: string): void {
  const found = RAW_CONTROL.exec(text);
  assert.equal(found, null, `${what} holds a raw control character: ${JSON.stringify(text)}`);
}

describe('flanctl command-line surface', () => {
  const etcd = etcdForSuite();

  // The connection flags where most operators type them: after the command and its arguments.
  function connectedTo(prefix: string): string[] {
    return ['--endpoints', etcd.endpoint, '--prefix', prefix];
  }

  describe('errors outside any command are one line with exit 2', () => {
    const prefix = testPrefix('surface', 'errors');

    test('an unknown command names it: flanctl lease ls', async () => {
      const result = await runCli(['lease', 'ls', ...connectedTo(prefix)]);

      assertOneLineFlanctlError(result, EXIT_USAGE, 'command "lease ls" not found');
    });

    test('a stray argument: flanctl leases ls extra-arg', async () => {
      const result = await runCli(['leases', 'ls', 'extra-arg', ...connectedTo(prefix)]);

      assertOneLineFlanctlError(result, EXIT_USAGE, 'extra-arg');
    });

    test('leases show without SUBNET: missing argument SUBNET', async () => {
      const result = await runCli(['leases', 'show', ...connectedTo(prefix)]);

      assertOneLineFlanctlError(result, EXIT_USAGE, 'missing argument SUBNET');
    });

    test('--json together with -o wide', async () => {
      const result = await runCli(['leases', 'ls', '--json', '-o', 'wide', ...connectedTo(prefix)]);

      assertOneLineFlanctlError(result, EXIT_USAGE, '--json');
    });

    test('an unknown flag after the command names it', async () => {
      const result = await runCli(['leases', 'ls', '--remote-cafile', 'x', ...connectedTo(prefix)]);

      assertOneLineFlanctlError(result, EXIT_USAGE, '--remote-cafile');
    });

    test('an unknown flag before the command names it', async () => {
      const result = await runCli(['--remote-cafile', 'x', 'leases', 'ls', ...connectedTo(prefix)]);

      assertOneLineFlanctlError(result, EXIT_USAGE, '--remote-cafile');
    });
  });

  describe('connection flags go anywhere on the command line', () => {
    const prefix = testPrefix('surface', 'global');

    before(async () => {
      // Reservations only: no TTL counts down between runs, so every run prints the same bytes.
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.1.0-24'), value: leaseValue('192.0.2.1'), ttl: null },
        { key: subnetKey(prefix, '10.5.2.0-24'), value: leaseValue('192.0.2.2'), ttl: null },
      ]);
    });

    test('before, between and after the command words, and in --flag=value form', async () => {
      const endpoint = etcd.endpoint;
      const reference = await runCli(['leases', 'ls', '--endpoints', endpoint, '--prefix', prefix]);

      assertOk(reference);
      assert.equal(reference.stderr, '');
      assert.deepEqual(
        stdoutLines(reference.stdout)
          .slice(1)
          .map((line) => line.split(/\s+/)[0]),
        ['10.5.1.0/24', '10.5.2.0/24'],
      );

      const forms = [
        ['--endpoints', endpoint, '--prefix', prefix, 'leases', 'ls'],
        ['leases', '--endpoints', endpoint, '--prefix', prefix, 'ls'],
        ['--endpoints', endpoint, 'leases', 'ls', '--prefix', prefix],
        [`--endpoints=${endpoint}`, `--prefix=${prefix}`, 'leases', 'ls'],
        ['leases', `--endpoints=${endpoint}`, 'ls', `--prefix=${prefix}`],
        ['leases', 'ls', `--endpoints=${endpoint}`, `--prefix=${prefix}`],
      ];
      for (const args of forms) {
        const result = await runCli(args);

        assert.equal(result.code, EXIT_OK, `${args.join(' ')}: stderr ${result.stderr}`);
        assert.equal(result.stderr, '', args.join(' '));
        assert.equal(result.stdout, reference.stdout, args.join(' '));
      }
    });

    test('leases show and config show take them in front too', async () => {
      const show = await runCli([
        '--endpoints',
        etcd.endpoint,
        'leases',
        'show',
        '10.5.1.0/24',
        `--prefix=${prefix}`,
      ]);

      assertOk(show);
      assert.equal(
        field(detailFields(show.stdout, { eachLabelOnce: false }), 'Key'),
        subnetKey(prefix, '10.5.1.0-24'),
      );

      const config = await runCli([
        `--prefix=${prefix}`,
        'config',
        '--endpoints',
        etcd.endpoint,
        'show',
      ]);

      assertOk(config);
      assert.ok(config.stdout.includes(`${prefix}/config`), config.stdout);
    });

    test('flanctl help leases ls and flanctl leases ls -h print the help, exit 0', async () => {
      const viaHelp = await runCli(['help', 'leases', 'ls']);
      const viaShortFlag = await runCli(['leases', 'ls', '-h', '--endpoints', etcd.endpoint]);

      for (const result of [viaHelp, viaShortFlag]) {
        assertOk(result);
        assert.equal(result.stderr, '');
        assert.match(result.stdout, /USAGE/);
        assert.ok(result.stdout.includes('flanctl leases ls'), result.stdout);
        assert.ok(result.stdout.includes('--endpoints'), 'the help does not list --endpoints');
      }
    });
  });

  describe('control characters from etcd never reach the terminal raw', () => {
    const prefix = testPrefix('surface', 'controls');
    const hostileBackend = `vx${ESC}[31mred\nline`;
    const hostileKey = subnetKey(prefix, 'bad\nname');
    const configPrefix = testPrefix('surface', 'controls-config');
    const escapedConfig = `{"Network":"10.5.0.0/16","Backend":{"Type":"vx\\u001b[31mlan"}}`;
    const rawConfigPrefix = testPrefix('surface', 'controls-raw-config');
    const rawConfig = `{"Network":"10.5.0.0/16","Backend":{"Type":"vx${ESC}[31mlan"}}`;

    before(async () => {
      await putKey(etcd.endpoint, `${prefix}/config`, CONFIG_10_5);
      await putKey(
        etcd.endpoint,
        subnetKey(prefix, '10.5.3.0-24'),
        leaseValue('192.0.2.3', hostileBackend),
      );
      await putKey(etcd.endpoint, subnetKey(prefix, '10.5.4.0-24'), leaseValue('192.0.2.4'));
      await putKey(etcd.endpoint, hostileKey, leaseValue('192.0.2.5'));
      await putKey(etcd.endpoint, `${configPrefix}/config`, escapedConfig);
      await putKey(etcd.endpoint, `${rawConfigPrefix}/config`, rawConfig);
    });

    test('the table keeps one line per row and shows the escapes as text', async () => {
      const result = await runCli(['leases', 'ls', ...connectedTo(prefix)]);

      assertOk(result);
      assertNoRawControls(result.stdout, 'stdout');
      const lines = stdoutLines(result.stdout);
      assert.equal(lines.length, 3, `header and two rows expected: ${result.stdout}`);
      assert.match(lines[0], /^SUBNET\s/);
      assert.match(lines[1], /^10\.5\.3\.0\/24\s/);
      assert.match(lines[2], /^10\.5\.4\.0\/24\s/);
      assert.ok(lines[1].includes('vx\\u001b[31mred\\nline'), lines[1]);

      assertNoRawControls(result.stderr, 'stderr');
      const problems = stderrLines(result);
      assert.equal(problems.length, 1, `one problem line expected: ${result.stderr}`);
      assert.ok(problems[0].startsWith('flanctl: problem: '), problems[0]);
      assert.ok(problems[0].includes(`${prefix}/subnets/bad\\nname`), problems[0]);
    });

    test('-o wide is escaped the same way', async () => {
      const result = await runCli(['leases', 'ls', '-o', 'wide', ...connectedTo(prefix)]);

      assertOk(result);
      assertNoRawControls(result.stdout, 'stdout');
      assert.equal(stdoutLines(result.stdout).length, 3, result.stdout);
      assertNoRawControls(result.stderr, 'stderr');
      assert.equal(stderrLines(result).length, 1, result.stderr);
    });

    test('--json stays valid JSON and carries the original characters', async () => {
      const result = await runCli(['leases', 'ls', '--json', ...connectedTo(prefix)]);

      assertOk(result);
      assert.equal(result.stdout.trimEnd().split('\n').length, 1, 'the document spans lines');
      const document = parseJsonDocument(result.stdout) as {
        leases: Array<{ subnet: string; backendType: string }>;
        problems: Array<{ key: string; reason: string }>;
      };
      const hostile = document.leases.find((lease) => lease.subnet === '10.5.3.0/24');
      assert.ok(hostile, `no 10.5.3.0/24 in ${result.stdout}`);
      assert.equal(hostile.backendType, hostileBackend);
      assert.deepEqual(
        document.problems.map((problem) => problem.key),
        [hostileKey],
      );
      assertNoRawControls(result.stderr, 'stderr');
    });

    test('leases show of the lease prints its backend escaped', async () => {
      const result = await runCli(['leases', 'show', '10.5.3.0/24', ...connectedTo(prefix)]);

      assertOk(result);
      assert.equal(result.stderr, '');
      assertNoRawControls(result.stdout, 'stdout');
      assert.equal(
        field(detailFields(result.stdout, { eachLabelOnce: false }), 'Backend'),
        'vx\\u001b[31mred\\nline',
      );
    });

    test('leases show of the key with a line break keeps the key on one line', async () => {
      const result = await runCli(['leases', 'show', hostileKey, ...connectedTo(prefix)]);

      assertOk(result);
      assertNoRawControls(result.stdout, 'stdout');
      assert.equal(
        field(detailFields(result.stdout, { eachLabelOnce: false }), 'Key'),
        `${prefix}/subnets/bad\\nname`,
      );
      assertNoRawControls(result.stderr, 'stderr');
      assert.equal(stderrLines(result).length, 1, result.stderr);
    });

    test('a SUBNET argument with an escape sequence is echoed escaped in one line', async () => {
      const result = await runCli([
        'leases',
        'show',
        `10.5.1.0${ESC}[31m/24`,
        ...connectedTo(prefix),
      ]);

      assertOneLineFlanctlError(result, EXIT_USAGE, '10.5.1.0\\u001b[31m/24');
      assertNoRawControls(result.stderr, 'stderr');
    });

    test('config show of a valid config whose backend type decodes to ESC prints it escaped', async () => {
      const result = await runCli(['config', 'show', ...connectedTo(configPrefix)]);

      assertOk(result);
      assert.equal(result.stderr, '');
      assertNoRawControls(result.stdout, 'stdout');
      assert.ok(result.stdout.includes('vx\\u001b[31mlan'), result.stdout);
    });

    test('config show of a stored config with a raw ESC prints it escaped, exit 3', async () => {
      const result = await runCli(['config', 'show', ...connectedTo(rawConfigPrefix)]);

      assert.equal(result.code, EXIT_PROBLEMS, `stderr: ${result.stderr}`);
      assertNoRawControls(result.stdout, 'stdout');
      assert.ok(result.stdout.includes('vx\\u001b[31mlan'), result.stdout);
      assertNoRawControls(result.stderr, 'stderr');
      assert.equal(stderrLines(result).length, 1, result.stderr);
    });

    test('config show --json carries the original characters', async () => {
      const valid = await runCli(['config', 'show', '--json', ...connectedTo(configPrefix)]);

      assertOk(valid);
      const validDocument = parseJsonDocument(valid.stdout) as {
        stored: string;
        backendType: string;
      };
      assert.equal(validDocument.stored, escapedConfig);
      assert.equal(validDocument.backendType, `vx${ESC}[31mlan`);

      const raw = await runCli(['config', 'show', '--json', ...connectedTo(rawConfigPrefix)]);

      assert.equal(raw.code, EXIT_PROBLEMS, `stderr: ${raw.stderr}`);
      assert.equal((parseJsonDocument(raw.stdout) as { stored: string }).stored, rawConfig);
    });
  });

  describe('output that cannot be written', () => {
    const prefix = testPrefix('surface', 'output');
    const rowCount = 3000;

    before(async () => {
      // About 200 KB of table: far more than a pipe buffers, so `head -1` closes it mid-write.
      const entries = [{ key: `${prefix}/config`, value: '{"Network":"10.0.0.0/8"}', ttl: null }];
      for (let index = 0; index < rowCount; index++) {
        const name = `10.${100 + (index >> 8)}.${index & 255}.0-24`;
        entries.push({ key: subnetKey(prefix, name), value: leaseValue('192.0.2.9'), ttl: null });
      }
      await seedState(etcd.endpoint, entries);
    });

    for (const args of [
      ['leases', 'ls'],
      ['leases', 'ls', '--json'],
      ['leases', 'ls', '-o', 'wide'],
      ['leases', 'show', '10.100.0.0/24'],
      ['leases', 'show', '10.100.0.0/24', '--json'],
      ['config', 'show'],
      ['config', 'show', '--json'],
    ]) {
      test(`${args.join(' ')} > /dev/full: exit 1, one line, ENOSPC`, async () => {
        const result = await runInShell('"$@" > /dev/full', [...args, ...connectedTo(prefix)]);

        assert.equal(result.code, EXIT_UNEXPECTED, `stderr: ${result.stderr}`);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr, 'flanctl: error: cannot write the output: ENOSPC\n');
      });
    }

    for (const args of [
      ['help', 'leases', 'ls'],
      ['leases', 'ls', '-h'],
    ]) {
      test(`${args.join(' ')} > /dev/full: exit 1, one line, ENOSPC`, async () => {
        const result = await runInShell('"$@" > /dev/full', args);

        assert.equal(result.code, EXIT_UNEXPECTED, `stderr: ${result.stderr}`);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr, 'flanctl: error: cannot write the output: ENOSPC\n');
      });
    }

    test('the seeded listing has one row per key', async () => {
      const result = await runCli(['leases', 'ls', '--no-headers', ...connectedTo(prefix)]);

      assertOk(result);
      assert.equal(stdoutLines(result.stdout).length, rowCount);
    });

    for (const [args, firstLine] of [
      [['leases', 'ls'], /^SUBNET\s/],
      [['leases', 'ls', '-o', 'wide'], /^SUBNET\s+IPV6 SUBNET\s/],
      [['leases', 'ls', '--no-headers'], /^10\.100\.0\.0\/24\s/],
    ] as const) {
      test(`${args.join(' ')} | head -1: exit 0, nothing on stderr`, async () => {
        const script = '"$@" | head -1; printf "status=%s\\n" "${PIPESTATUS[0]}"';

        const result = await runInShell(script, [...args, ...connectedTo(prefix)]);

        assert.equal(result.code, EXIT_OK, `bash failed; stderr: ${result.stderr}`);
        assert.equal(result.stderr, '');
        const lines = stdoutLines(result.stdout);
        assert.equal(lines.length, 2, result.stdout);
        assert.match(lines[0], firstLine);
        assert.equal(lines[1], 'status=0');
      });
    }

    test('leases ls --json | head -c 64: exit 0, nothing on stderr', async () => {
      const script = '"$@" | head -c 64 > /dev/null; printf "status=%s\\n" "${PIPESTATUS[0]}"';

      const result = await runInShell(script, ['leases', 'ls', '--json', ...connectedTo(prefix)]);

      assert.equal(result.stderr, '');
      assert.equal(result.stdout, 'status=0\n');
    });
  });

  describe('colour', () => {
    const prefix = testPrefix('surface', 'colour');

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.1.0-24'), value: leaseValue('192.0.2.1'), ttl: 86400 },
        { key: subnetKey(prefix, '10.5.2.0-24'), value: leaseValue('192.0.2.2'), ttl: null },
      ]);
    });

    const ls = (extra: string[], env: Record<string, string | undefined>) =>
      leasesLs(etcd.endpoint, prefix, extra, { env });

    test('FORCE_COLOR=1 without NO_COLOR: the reservation is coloured', async () => {
      const result = await ls([], { FORCE_COLOR: '1', NO_COLOR: undefined });

      assertOk(result);
      assert.match(result.stdout, ANSI_ESCAPE);
      const reservation = stdoutLines(result.stdout).find((line) => line.startsWith('10.5.2.0/24'));
      assert.ok(reservation && ANSI_ESCAPE.test(reservation), `not coloured: ${reservation}`);
      assert.doesNotMatch(result.stderr, ANSI_ESCAPE);
    });

    test('NO_COLOR=1 wins over FORCE_COLOR=1', async () => {
      const result = await ls([], { FORCE_COLOR: '1', NO_COLOR: '1' });

      assertOk(result);
      assert.doesNotMatch(result.stdout, ANSI_ESCAPE);
      assert.match(result.stdout, /reservation/);
    });

    test('FORCE_COLOR=0: no colour', async () => {
      const result = await ls([], { FORCE_COLOR: '0', NO_COLOR: undefined });

      assertOk(result);
      assert.doesNotMatch(result.stdout, ANSI_ESCAPE);
      assert.match(result.stdout, /reservation/);
    });

    for (const format of [['--json'], ['-o', 'json']]) {
      test(`${format.join(' ')} never has colour, even with FORCE_COLOR=1`, async () => {
        const result = await ls(format, { FORCE_COLOR: '1', NO_COLOR: undefined });

        assertOk(result);
        assert.doesNotMatch(result.stdout, ANSI_ESCAPE);
        const document = parseJsonDocument(result.stdout) as { leases: unknown[] };
        assert.equal(document.leases.length, 2);
      });
    }

    test('leases show --json and config show --json never have colour', async () => {
      const env = { FORCE_COLOR: '1', NO_COLOR: undefined };
      const show = await runCli(
        ['leases', 'show', '10.5.2.0/24', '--json', ...connectedTo(prefix)],
        {
          env,
        },
      );
      const config = await runCli(['config', 'show', '--json', ...connectedTo(prefix)], { env });

      for (const result of [show, config]) {
        assertOk(result);
        assert.doesNotMatch(result.stdout, ANSI_ESCAPE);
        parseJsonDocument(result.stdout);
      }
    });
  });

  describe('--no-headers', () => {
    const prefix = testPrefix('surface', 'headers');

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.1.0-24'), value: leaseValue('192.0.2.1'), ttl: null },
        { key: subnetKey(prefix, '10.5.2.0-24'), value: leaseValue('192.0.2.2'), ttl: null },
        { key: subnetKey(prefix, '10.5.3.0-24'), value: leaseValue('192.0.2.3'), ttl: null },
      ]);
    });

    for (const format of [[], ['-o', 'wide']]) {
      test(`drops exactly the header line${format.length ? ` (${format.join(' ')})` : ''}`, async () => {
        const connection = connectedTo(prefix);
        const withHeaders = await runCli(['leases', 'ls', ...format, ...connection]);
        const without = await runCli(['leases', 'ls', ...format, '--no-headers', ...connection]);

        assertOk(withHeaders);
        assertOk(without);
        assert.equal(without.stderr, '');
        const lines = withHeaders.stdout.split('\n');
        assert.match(lines[0], /^SUBNET\s/);
        assert.equal(without.stdout, lines.slice(1).join('\n'));
        assert.equal(stdoutLines(without.stdout).length, 3);
      });
    }
  });

  describe('leases show: the IPv6 dash form and values that are not JSON', () => {
    const prefix = testPrefix('surface', 'show');
    const dualStackKey = subnetKey(prefix, '10.5.34.0-24&fc00:0:0:22::-64');
    const neighbourKey = subnetKey(prefix, '10.5.35.0-24&fc00:0:0:23::-64');
    const brokenKey = subnetKey(prefix, '10.5.40.0-24');
    const brokenReservationKey = subnetKey(prefix, '10.5.41.0-24');
    // Above 2^63: etcd's int64 sends it as a negative decimal.
    const brokenLeaseHex = 'c0ffee0000000042';

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: DUAL_STACK_CONFIG, ttl: null },
        { key: dualStackKey, value: leaseValue('192.0.2.34'), ttl: 86400 },
        { key: neighbourKey, value: leaseValue('192.0.2.35'), ttl: 86400 },
        { key: brokenReservationKey, value: 'plain text', ttl: null },
      ]);
      await grantLeaseWithId(etcd.endpoint, brokenLeaseHex);
      await putKey(etcd.endpoint, brokenKey, 'not json {', brokenLeaseHex);
    });

    const show = (subnet: string, extra: string[] = []) =>
      runCli([
        'leases',
        'show',
        subnet,
        '--endpoints',
        etcd.endpoint,
        '--prefix',
        prefix,
        ...extra,
      ]);

    test('fc00:0:0:22::-64 finds the dual-stack key', async () => {
      const text = await show('fc00:0:0:22::-64');

      assertOk(text);
      assert.equal(text.stderr, '');
      const fields = detailFields(text.stdout, { eachLabelOnce: false });
      assert.equal(field(fields, 'Key'), dualStackKey);
      assert.equal(field(fields, 'IPv6 subnet'), 'fc00:0:0:22::/64');

      const json = await show('fc00:0:0:22::-64', ['--json']);

      assertOk(json);
      assert.equal(json.stderr, '');
      const document = parseJsonDocument(json.stdout) as {
        leases: Array<{ key: string; ipv6Subnet: string }>;
      };
      assert.deepEqual(
        document.leases.map((lease) => [lease.key, lease.ipv6Subnet]),
        [[dualStackKey, 'fc00:0:0:22::/64']],
      );
    });

    test('the full key of a value that is not JSON: a block with every fact, exit 0', async () => {
      const stored = await existingKey(etcd.endpoint, brokenKey);

      const result = await show(brokenKey);

      assertOk(result);
      const fields = detailFields(result.stdout, { eachLabelOnce: false });
      assert.equal(field(fields, 'Key'), brokenKey);
      assert.equal(field(fields, 'Value'), 'not json {');
      assert.match(field(fields, 'Problem'), /JSON/);
      assert.equal(field(fields, 'Lease ID'), brokenLeaseHex);
      const remaining = /^(\d+)s$/.exec(field(fields, 'Remaining TTL'));
      assert.ok(remaining, `Remaining TTL: ${field(fields, 'Remaining TTL')}`);
      assert.ok(Number(remaining[1]) > 0 && Number(remaining[1]) <= 86400, remaining[0]);
      const revisions = field(fields, 'Revisions');
      assert.match(revisions, new RegExp(`create ${stored.createRevision}\\b`));
      assert.match(revisions, new RegExp(`mod ${stored.modRevision}\\b`));

      const problems = stderrLines(result);
      assert.equal(problems.length, 1, `one problem line expected: ${result.stderr}`);
      assert.ok(problems[0].includes(brokenKey), problems[0]);
    });

    test('--json: the problem carries the raw value, lease, TTL and revisions', async () => {
      const stored = await existingKey(etcd.endpoint, brokenKey);

      const result = await show(brokenKey, ['--json']);

      assertOk(result);
      assert.equal(result.stderr, '');
      const document = parseJsonDocument(result.stdout) as {
        leases: unknown[];
        problems: Array<Record<string, unknown>>;
      };
      assert.deepEqual(document.leases, []);
      assert.equal(document.problems.length, 1, result.stdout);

      const [problem] = document.problems;
      assert.equal(problem.key, brokenKey);
      assert.match(String(problem.reason), /JSON/);
      assert.equal(problem.value, 'not json {');
      assert.equal(problem.leaseId, brokenLeaseHex);
      assert.match(String(problem.leaseId), /^[0-9a-f]{16}$/);
      assert.equal(typeof problem.ttlSeconds, 'number');
      assert.ok((problem.ttlSeconds as number) > 0 && (problem.ttlSeconds as number) <= 86400);
      assert.equal(problem.createRevision, stored.createRevision);
      assert.equal(problem.modRevision, stored.modRevision);
      assert.equal(problem.version, stored.version);
    });

    test('--json of a reservation that is not JSON: leaseId and ttlSeconds are null', async () => {
      const stored = await existingKey(etcd.endpoint, brokenReservationKey);

      const result = await show('10.5.41.0/24', ['--json']);

      assertOk(result);
      assert.equal(result.stderr, '');
      const document = parseJsonDocument(result.stdout) as {
        problems: Array<Record<string, unknown>>;
      };
      assert.deepEqual(document.problems, [
        {
          key: brokenReservationKey,
          reason: document.problems[0]?.reason,
          value: 'plain text',
          leaseId: null,
          ttlSeconds: null,
          createRevision: stored.createRevision,
          modRevision: stored.modRevision,
          version: stored.version,
        },
      ]);
    });
  });

  describe('config show on a prefix without config', () => {
    const prefix = testPrefix('surface', 'noconfig');
    const elsewhere = testPrefix('surface', 'elsewhere');

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${elsewhere}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.1.0-24'), value: leaseValue('192.0.2.1'), ttl: null },
      ]);
    });

    for (const extra of [[], ['--json']]) {
      test(`exit 4, the hint names the other prefix${extra.length ? ' (--json)' : ''}`, async () => {
        const result = await runCli(['config', 'show', ...extra, ...connectedTo(prefix)]);

        assertOneLineFlanctlError(result, EXIT_NOT_FOUND, `${prefix}/config`, elsewhere);
        assert.match(result.stderr, /hint: /);
      });
    }
  });

  describe('connection settings', () => {
    const prefix = testPrefix('surface', 'settings');
    // Distinctive, so finding one in the output cannot be a coincidence.
    const passwords = [
      'Pw-flag-9Xq2',
      'Pw-split-4Jr8',
      'Pw-empty-6Tb1',
      'Pw-env-2Kd5',
      'Pw-url-7Mz3',
    ];

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG_10_5, ttl: null },
        { key: subnetKey(prefix, '10.5.1.0-24'), value: leaseValue('192.0.2.1'), ttl: null },
      ]);
    });

    const ls = (extra: string[], env: Record<string, string | undefined> = {}) =>
      leasesLs(etcd.endpoint, prefix, extra, { env });

    function assertNoPassword(result: CliResult): void {
      for (const password of passwords) {
        assert.ok(!result.stdout.includes(password), `a password is on stdout: ${result.stdout}`);
        assert.ok(!result.stderr.includes(password), `a password is on stderr: ${result.stderr}`);
      }
    }

    function assertListing(result: CliResult): void {
      assertOk(result);
      assert.deepEqual(
        stdoutLines(result.stdout).map((line) => line.split(/\s+/)[0]),
        ['SUBNET', '10.5.1.0/24'],
      );
    }

    test('--user root:PASSWORD against etcd without auth: exit 2, leave out --user', async () => {
      const result = await ls(['--user', `root:${passwords[1]}`]);

      assertOneLineFlanctlError(result, EXIT_USAGE, 'root');
      assert.match(result.stderr, /hint: .*leave out --user/);
      assertNoPassword(result);
    });

    test('--user root --password PASSWORD against etcd without auth: exit 2', async () => {
      const result = await ls(['--user', 'root', '--password', passwords[0]]);

      assertOneLineFlanctlError(result, EXIT_USAGE);
      assert.match(result.stderr, /leave out --user/);
      assertNoPassword(result);
    });

    test('with --debug the password is still nowhere, not even in the stack', async () => {
      const result = await ls(['--user', `root:${passwords[1]}`, '--debug']);

      assert.equal(result.code, EXIT_USAGE, `stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      const errors = stderrLines(result).filter((line) => line.startsWith('flanctl: error: '));
      assert.equal(errors.length, 1, result.stderr);
      assertNoPassword(result);
    });

    test('--user :PASSWORD (no name): exit 2', async () => {
      const result = await ls(['--user', `:${passwords[2]}`]);

      assertOneLineFlanctlError(result, EXIT_USAGE);
      assertNoPassword(result);
    });

    test('--password without a user: one warning line, the listing, exit 0', async () => {
      const result = await ls(['--password', passwords[0]]);

      assertListing(result);
      const lines = stderrLines(result);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^flanctl: warning: .*password/);
      assertNoPassword(result);
    });

    test('--password without a user, with --debug: shown only as set', async () => {
      const result = await ls(['--password', passwords[0], '--debug']);

      assertListing(result);
      assert.match(result.stderr, /^flanctl: warning: .*password/m);
      assertNoPassword(result);
    });

    test('ETCDCTL_PASSWORD without a user: the warning names the variable', async () => {
      const result = await ls([], { ETCDCTL_PASSWORD: passwords[3] });

      assertListing(result);
      const lines = stderrLines(result);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^flanctl: warning: .*ETCDCTL_PASSWORD/);
      assertNoPassword(result);
    });

    test('an endpoint URL with credentials is refused without showing them', async () => {
      const url = etcd.endpoint.replace('://', `://root:${passwords[4]}@`);

      const result = await runCli(['leases', 'ls', '--endpoints', url, '--prefix', prefix]);

      assertOneLineFlanctlError(result, EXIT_USAGE);
      assertNoPassword(result);
    });

    for (const [flag, value] of [
      ['--command-timeout', '2h'],
      ['--dial-timeout', '0s'],
    ]) {
      test(`${flag} ${value}: exit 2 naming the value`, async () => {
        const result = await ls([flag, value]);

        assertOneLineFlanctlError(result, EXIT_USAGE, flag.slice(2), value);
      });
    }

    test('ETCDCTL_COMMAND_TIMEOUT=1.5s is read and works', async () => {
      const result = await ls([], { ETCDCTL_COMMAND_TIMEOUT: '1.5s' });

      assertListing(result);
      assert.equal(result.stderr, '');

      const debug = await ls(['--debug'], { ETCDCTL_COMMAND_TIMEOUT: '1.5s' });

      assertListing(debug);
      const line = stderrLines(debug).find((candidate) => candidate.includes('command-timeout'));
      assert.ok(line?.includes('ETCDCTL_COMMAND_TIMEOUT'), `debug: ${debug.stderr}`);
      assert.ok(line?.includes('1500ms') || line?.includes('1.5s'), `debug: ${line}`);
    });

    test('ETCDCTL_COMMAND_TIMEOUT=2h: exit 2 naming the variable', async () => {
      const result = await ls([], { ETCDCTL_COMMAND_TIMEOUT: '2h' });

      assertOneLineFlanctlError(result, EXIT_USAGE, 'ETCDCTL_COMMAND_TIMEOUT', '2h');
    });
  });
});
