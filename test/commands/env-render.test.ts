// `flanctl env render SUBNET` run as a subprocess against a private etcd: the file flanneld would
// write for a lease under the current config (one family or both), --mtu and --ipmasq, lookups
// that fail, --output-file written atomically, and render -> validate coming out clean.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { type CliResult, runCli } from '../helpers/cli.js';
import {
  EXIT_NOT_FOUND,
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  assertExitCode,
  assertOneLineFlanctlError,
  describeRun,
} from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { CONFIG_10_5, seedNetworkAt, testPrefix } from '../helpers/seed.js';

const DUAL_10_5 =
  '{"Network":"10.5.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}';
const PUBLIC_IP = '192.0.2.34';

/** The file flanneld writes for 10.5.34.0/24 under CONFIG_10_5 on a 1500-byte interface. */
const RENDERED_10_5_34 =
  'FLANNEL_NETWORK=10.5.0.0/16\n' +
  'FLANNEL_SUBNET=10.5.34.1/24\n' +
  'FLANNEL_MTU=1450\n' +
  'FLANNEL_IPMASQ=false\n';

function leaseValue(publicIP: string, publicIPv6: string | null = null): string {
  return JSON.stringify({
    PublicIP: publicIP,
    PublicIPv6: publicIPv6,
    BackendType: 'vxlan',
    BackendData: { VNI: 1, VtepMAC: '00:00:5e:10:00:34' },
  });
}

function reportLines(result: CliResult, label: 'ERROR' | 'WARN'): string[] {
  return `${result.stdout}\n${result.stderr}`
    .split('\n')
    .filter((line) => line.startsWith(`${label} `));
}

/** Exit 0 and not one ERROR or WARN line. */
function assertClean(result: CliResult): void {
  assertExitCode(result, EXIT_OK);
  assert.deepEqual(reportLines(result, 'ERROR'), [], describeRun(result));
  assert.deepEqual(reportLines(result, 'WARN'), [], describeRun(result));
}

describe('flanctl env render', () => {
  let etcd: EtcdServer | undefined;
  let workDir = '';

  before(async () => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-env-render-'));
    etcd = await startEtcd();
  });

  after(async () => {
    await etcd?.stop();
    if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
  });

  const endpoint = (): string => {
    assert.ok(etcd, 'the etcd did not start');
    return etcd.endpoint;
  };

  const connection = (prefix: string): string[] => ['--endpoints', endpoint(), '--prefix', prefix];

  const render = (prefix: string, subnet: string, ...extra: string[]): Promise<CliResult> =>
    runCli(['env', 'render', subnet, ...connection(prefix), ...extra]);

  const validate = (file: string, ...extra: string[]): Promise<CliResult> =>
    runCli(['env', 'validate', file, ...extra]);

  /** An empty directory of its own under the run's temp dir. */
  const freshDir = (name: string): string => {
    const dir = path.join(workDir, name);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  };

  describe('an IPv4 vxlan network', () => {
    const prefix = testPrefix('envrender', 'v4');

    before(async () => {
      await seedNetworkAt(endpoint(), prefix, CONFIG_10_5, [
        { key: '10.5.34.0-24', value: leaseValue(PUBLIC_IP), ttl: 3600 },
        { key: '10.5.35.0-24', value: leaseValue('192.0.2.35'), ttl: null },
      ]);
    });

    test('prints the file flanneld writes: network from the config, first address, 1450', async () => {
      const result = await render(prefix, '10.5.34.0/24');

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, RENDERED_10_5_34);
      assert.equal(result.stderr, '');
    });

    test('the subnet may be named as its key name too', async () => {
      const result = await render(prefix, '10.5.34.0-24');

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, RENDERED_10_5_34);
    });

    test('--mtu sets FLANNEL_MTU', async () => {
      const result = await render(prefix, '10.5.34.0/24', '--mtu', '1400');

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, RENDERED_10_5_34.replace('FLANNEL_MTU=1450', 'FLANNEL_MTU=1400'));
    });

    test('--ipmasq writes FLANNEL_IPMASQ=true; without it, false', async () => {
      const withMasq = await render(prefix, '10.5.34.0/24', '--ipmasq');

      assertExitCode(withMasq, EXIT_OK);
      assert.equal(
        withMasq.stdout,
        RENDERED_10_5_34.replace('FLANNEL_IPMASQ=false', 'FLANNEL_IPMASQ=true'),
      );
      const without = await render(prefix, '10.5.34.0/24');
      assert.match(without.stdout, /^FLANNEL_IPMASQ=false$/m);
    });

    test('a reservation renders like a lease', async () => {
      const result = await render(prefix, '10.5.35.0/24');

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, RENDERED_10_5_34.replace('10.5.34.1/24', '10.5.35.1/24'));
    });

    test('--mtu below 68 is a usage error', async () => {
      const result = await render(prefix, '10.5.34.0/24', '--mtu', '67');

      assertExitCode(result, EXIT_USAGE);
      assert.equal(result.stdout, '');
    });

    test('a subnet without a key: exit 4 naming it', async () => {
      const result = await render(prefix, '10.5.99.0/24');

      assertOneLineFlanctlError(result, EXIT_NOT_FOUND, '10.5.99.0');
    });

    test('a subnet that is not a subnet: exit 2', async () => {
      const result = await render(prefix, '10.5.999.0/24');

      assertExitCode(result, EXIT_USAGE);
      assert.equal(result.stdout, '');
    });
  });

  describe('a dual-stack network', () => {
    const prefix = testPrefix('envrender', 'dual');

    before(async () => {
      await seedNetworkAt(endpoint(), prefix, DUAL_10_5, [
        {
          key: '10.5.34.0-24&fc00:0:0:22::-64',
          value: leaseValue(PUBLIC_IP, '2001:db8::34'),
          ttl: 3600,
        },
      ]);
    });

    test('both families, as flanneld writes them', async () => {
      const result = await render(prefix, '10.5.34.0/24');

      assertExitCode(result, EXIT_OK);
      assert.equal(
        result.stdout,
        'FLANNEL_NETWORK=10.5.0.0/16\n' +
          'FLANNEL_SUBNET=10.5.34.1/24\n' +
          'FLANNEL_IPV6_NETWORK=fc00::/48\n' +
          'FLANNEL_IPV6_SUBNET=fc00:0:0:22::1/64\n' +
          'FLANNEL_MTU=1450\n' +
          'FLANNEL_IPMASQ=false\n',
      );
    });

    test('render -> validate is clean, alone and with --etcd', async () => {
      const file = path.join(freshDir('dual-round-trip'), 'subnet.env');
      const rendered = await render(prefix, '10.5.34.0/24', '--output-file', file);
      assertExitCode(rendered, EXIT_OK);

      assertClean(await validate(file));
      assertClean(await validate(file, '--etcd', ...connection(prefix)));
      assertClean(await validate(file, '--etcd', ...connection(prefix), '--public-ip', PUBLIC_IP));
    });
  });

  describe('configs render cannot use', () => {
    const missingPrefix = testPrefix('envrender', 'no-config');
    const brokenPrefix = testPrefix('envrender', 'broken-config');
    const gcePrefix = testPrefix('envrender', 'gce');

    before(async () => {
      const lease = { key: '10.5.34.0-24', value: leaseValue(PUBLIC_IP), ttl: 3600 };
      await seedNetworkAt(endpoint(), missingPrefix, undefined, [lease]);
      await seedNetworkAt(
        endpoint(),
        brokenPrefix,
        '{"Network":"10.5.0.0/16","SubnetMin":"10.5.200.0","SubnetMax":"10.5.100.0"}',
        [lease],
      );
      await seedNetworkAt(
        endpoint(),
        gcePrefix,
        '{"Network":"10.5.0.0/16","Backend":{"Type":"gce"}}',
        [lease],
      );
    });

    test('no config at <prefix>/config: exit 4 (not found), naming the key', async () => {
      // README, exit codes: "4 | not found (no such lease, no network config)".
      const result = await render(missingPrefix, '10.5.34.0/24');

      assertOneLineFlanctlError(result, EXIT_NOT_FOUND, `${missingPrefix}/config`);
    });

    test('a config with problems: exit 3, naming the key', async () => {
      const result = await render(brokenPrefix, '10.5.34.0/24');

      assertOneLineFlanctlError(result, EXIT_PROBLEMS, `${brokenPrefix}/config`);
    });

    test('a backend whose MTU is unknown, without --mtu: exit 2 naming it and --mtu', async () => {
      const result = await render(gcePrefix, '10.5.34.0/24');

      assertOneLineFlanctlError(result, EXIT_USAGE, 'gce', '--mtu');
    });

    test('the same backend with --mtu renders', async () => {
      const result = await render(gcePrefix, '10.5.34.0/24', '--mtu', '1460');

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, RENDERED_10_5_34.replace('FLANNEL_MTU=1450', 'FLANNEL_MTU=1460'));
    });
  });

  describe('--output-file', () => {
    const prefix = testPrefix('envrender', 'output');

    before(async () => {
      await seedNetworkAt(endpoint(), prefix, CONFIG_10_5, [
        { key: '10.5.34.0-24', value: leaseValue(PUBLIC_IP), ttl: 3600 },
      ]);
    });

    test('writes the file and nothing else: no temp file left, nothing on stdout', async () => {
      const dir = freshDir('output-new');
      const file = path.join(dir, 'subnet.env');
      const result = await render(prefix, '10.5.34.0/24', '--output-file', file);

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, '');
      assert.equal(fs.readFileSync(file, 'utf8'), RENDERED_10_5_34);
      assert.deepEqual(fs.readdirSync(dir), ['subnet.env']);
    });

    test('refuses an existing file without --force: exit 3, the file unchanged', async () => {
      const dir = freshDir('output-exists');
      const file = path.join(dir, 'subnet.env');
      fs.writeFileSync(file, 'FLANNEL_MTU=1234\n');
      const result = await render(prefix, '10.5.34.0/24', '--output-file', file);

      assertOneLineFlanctlError(result, EXIT_PROBLEMS, file);
      assert.match(result.stderr, /--force/);
      assert.equal(fs.readFileSync(file, 'utf8'), 'FLANNEL_MTU=1234\n');
      assert.deepEqual(fs.readdirSync(dir), ['subnet.env']);
    });

    test('--force replaces an existing file by rename (a new inode), no temp file left', async () => {
      const dir = freshDir('output-force');
      const file = path.join(dir, 'subnet.env');
      fs.writeFileSync(file, 'FLANNEL_MTU=1234\n');
      const inodeBefore = fs.statSync(file).ino;
      const result = await render(prefix, '10.5.34.0/24', '--output-file', file, '--force');

      assertExitCode(result, EXIT_OK);
      assert.equal(result.stdout, '');
      assert.equal(fs.readFileSync(file, 'utf8'), RENDERED_10_5_34);
      assert.notEqual(fs.statSync(file).ino, inodeBefore, 'the file was rewritten in place');
      assert.deepEqual(fs.readdirSync(dir), ['subnet.env']);
    });

    test('a lookup that fails writes no file', async () => {
      const dir = freshDir('output-not-found');
      const file = path.join(dir, 'subnet.env');
      const result = await render(prefix, '10.5.99.0/24', '--output-file', file);

      assertExitCode(result, EXIT_NOT_FOUND);
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  });

  describe('render -> validate', () => {
    const prefix = testPrefix('envrender', 'round-trip');

    before(async () => {
      await seedNetworkAt(endpoint(), prefix, CONFIG_10_5, [
        { key: '10.5.34.0-24', value: leaseValue(PUBLIC_IP), ttl: 3600 },
        { key: '10.5.36.0-24', value: leaseValue('192.0.2.36'), ttl: 3600 },
      ]);
    });

    for (const extra of [[], ['--ipmasq'], ['--mtu', '1400']]) {
      const label = extra.length === 0 ? 'defaults' : extra.join(' ');
      test(`${label}: validates clean, alone, with --etcd and with the host's --public-ip`, async () => {
        const file = path.join(freshDir(`round-trip-${label.replace(/\W+/g, '-')}`), 'subnet.env');
        const rendered = await render(prefix, '10.5.34.0/24', '--output-file', file, ...extra);
        assertExitCode(rendered, EXIT_OK);

        assertClean(await validate(file));
        assertClean(await validate(file, '--strict'));
        assertClean(await validate(file, '--etcd', ...connection(prefix)));
        assertClean(
          await validate(
            file,
            '--etcd',
            ...connection(prefix),
            '--public-ip',
            PUBLIC_IP,
            '--strict',
          ),
        );
        assertClean(await validate(file, '--backend', 'vxlan', '--iface-mtu', '1500'));
      });
    }

    test('printed to stdout and validated from stdin: clean', async () => {
      const rendered = await render(prefix, '10.5.34.0/24');
      assertExitCode(rendered, EXIT_OK);

      const result = await runCli(
        ['env', 'validate', '-', '--etcd', ...connection(prefix), '--public-ip', PUBLIC_IP],
        { stdin: rendered.stdout },
      );
      assertClean(result);
    });
  });
});
