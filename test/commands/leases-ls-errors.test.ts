// `flanctl leases ls` when things go wrong: etcd out of reach, keys and values that do not
// parse, bad flags. Every failure is one stderr line with a documented exit code, and stdout
// carries data only.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { runCli } from '../helpers/cli.js';
import {
  EXIT_UNREACHABLE,
  EXIT_USAGE,
  assertOneLineError,
  stderrLines,
} from '../helpers/cli-output.js';
import { etcdForSuite, freePort, startEtcd } from '../helpers/etcd-server.js';
import {
  type LeasesDocument,
  leasesLs,
  parseLeasesDocument,
  tableSubnets,
} from '../helpers/leases.js';
import { seedState } from '../helpers/seed.js';

const CONFIG = '{"Network":"10.9.0.0/16","Backend":{"Type":"vxlan"}}';
const GOOD_VALUE = '{"PublicIP":"192.0.2.91","BackendType":"vxlan","BackendData":null}';

// Only the two lists are checked on every document; a test checks the prefix where it matters.
function parseDocument(stdout: string): LeasesDocument<{ key: string; subnet: string }> {
  return parseLeasesDocument(stdout, { prefixAndRevision: false });
}

describe('flanctl leases ls errors', () => {
  const etcd = etcdForSuite();

  describe('etcd out of reach', () => {
    test('a stopped etcd is exit 6 with one line naming the endpoint', async () => {
      const stopped = await startEtcd();
      const endpoint = stopped.endpoint;
      await stopped.stop();

      const result = await leasesLs(endpoint, '/t-stopped/coreos.com/network');

      assertOneLineError(result, EXIT_UNREACHABLE, `127.0.0.1:${stopped.clientPort}`);
    });

    test('a closed port is exit 6 with one line naming the endpoint', async () => {
      const port = await freePort();

      const result = await leasesLs(`http://127.0.0.1:${port}`, '/t-closed/coreos.com/network');

      assertOneLineError(result, EXIT_UNREACHABLE, `127.0.0.1:${port}`);
    });

    test('with --json the error still goes to stderr and stdout stays empty', async () => {
      const port = await freePort();

      const result = await leasesLs(`http://127.0.0.1:${port}`, '/t-closed/coreos.com/network', [
        '--json',
      ]);

      assertOneLineError(result, EXIT_UNREACHABLE, `127.0.0.1:${port}`);
    });
  });

  describe('keys and values that do not parse', () => {
    const prefix = '/t-problems/coreos.com/network';
    const subnets = `${prefix}/subnets/`;
    const problemKeys = [
      `${subnets}10.9.2.0-24`,
      `${subnets}10.9.3.0-24`,
      `${subnets}not-a-subnet`,
      `${subnets}10.9.256.0-24`,
    ];

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: CONFIG, ttl: null },
        { key: `${subnets}10.9.1.0-24`, value: GOOD_VALUE, ttl: 86400 },
        { key: `${subnets}10.9.2.0-24`, value: 'not json', ttl: 86400 },
        { key: `${subnets}10.9.3.0-24`, value: '{"BackendType":"vxlan"}', ttl: null },
        { key: `${subnets}not-a-subnet`, value: GOOD_VALUE, ttl: 86400 },
        { key: `${subnets}10.9.256.0-24`, value: GOOD_VALUE, ttl: null },
      ]);
    });

    test('table: each is a problem on stderr, the good row on stdout, exit 0', async () => {
      const result = await leasesLs(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.deepEqual(tableSubnets(result.stdout), ['10.9.1.0/24']);

      const lines = stderrLines(result);
      for (const key of problemKeys) {
        assert.ok(
          lines.some((line) => line.includes(key)),
          `${key} is not reported on stderr: ${result.stderr}`,
        );
      }
      assert.ok(!result.stdout.includes('not-a-subnet'), 'a problem went to stdout');
    });

    test('--json: one document on stdout with every problem and the good lease', async () => {
      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stdout.trim().split('\n').length, 1, 'stdout holds more than JSON');
      const document = parseDocument(result.stdout);
      assert.deepEqual(
        document.leases.map((lease) => lease.subnet),
        ['10.9.1.0/24'],
      );
      assert.deepEqual(
        document.problems.map((problem) => problem.key).sort(),
        [...problemKeys].sort(),
      );
      for (const problem of document.problems) {
        assert.ok(problem.reason.trim() !== '', `no reason for ${problem.key}`);
      }
      assert.ok(!result.stderr.includes('"leases"'), 'the JSON document went to stderr');
    });
  });

  describe('--json keeps notes and warnings off stdout', () => {
    test('an empty prefix is one document with no leases and a note on stderr', async () => {
      const prefix = '/t-json-empty/coreos.com/network';

      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const document = parseDocument(result.stdout);
      assert.equal(document.prefix, prefix);
      assert.deepEqual(document.leases, []);
      assert.deepEqual(document.problems, []);
      assert.match(result.stderr, /no leases/i);
    });

    test('leases without a network config: the warning goes to stderr only', async () => {
      const prefix = '/t-json-noconfig/coreos.com/network';
      await seedState(etcd.endpoint, [
        { key: `${prefix}/subnets/10.9.5.0-24`, value: GOOD_VALUE, ttl: 86400 },
      ]);

      const result = await leasesLs(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const document = parseDocument(result.stdout);
      assert.deepEqual(
        document.leases.map((lease) => lease.subnet),
        ['10.9.5.0/24'],
      );
      assert.ok(result.stderr.includes(`${prefix}/config`), `no config warning: ${result.stderr}`);
    });
  });

  describe('usage errors are exit 2 with one line naming the value', () => {
    const prefix = '/t-usage/coreos.com/network';
    const cases: Array<{ name: string; args: string[]; named: string[] }> = [
      { name: '--public-ip not-an-ip', args: ['--public-ip', 'not-an-ip'], named: ['not-an-ip'] },
      {
        name: '--public-ip 10.0.0.300',
        args: ['--public-ip', '10.0.0.300'],
        named: ['10.0.0.300'],
      },
      { name: '--expiring-within soon', args: ['--expiring-within', 'soon'], named: ['soon'] },
      { name: '--expiring-within 5x', args: ['--expiring-within', '5x'], named: ['5x'] },
      { name: '--sort nope', args: ['--sort', 'nope'], named: ['nope'] },
      {
        name: '--reservations with --leases',
        args: ['--reservations', '--leases'],
        named: ['--reservations', '--leases'],
      },
      { name: '-o yaml', args: ['-o', 'yaml'], named: ['yaml'] },
      { name: '--dial-timeout forever', args: ['--dial-timeout', 'forever'], named: ['forever'] },
    ];

    for (const { name, args, named } of cases) {
      test(name, async () => {
        const result = await leasesLs(etcd.endpoint, prefix, args);

        assertOneLineError(result, EXIT_USAGE, ...named);
      });
    }

    test('--endpoints ftp://x', async () => {
      const result = await runCli(['leases', 'ls', '--endpoints', 'ftp://x', '--prefix', prefix]);

      assertOneLineError(result, EXIT_USAGE, 'ftp://x');
    });

    test('--cacert /nonexistent with an https endpoint names the file', async () => {
      const port = await freePort();

      const result = await leasesLs(`https://127.0.0.1:${port}`, prefix, [
        '--cacert',
        '/nonexistent',
      ]);

      assertOneLineError(result, EXIT_USAGE, '/nonexistent');
    });
  });
});
