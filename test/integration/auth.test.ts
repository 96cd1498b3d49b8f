// `flanctl leases ls` against an etcd with authentication enabled: every way to give the user and
// password, and the refusals. A password never appears in any output, with or without --debug.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { CliResult } from '../helpers/cli.js';
import { EXIT_DENIED, EXIT_OK, assertOneLineError, stderrLines } from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { etcdctl } from '../helpers/kv-inspect.js';
import { leasesLs } from '../helpers/leases.js';
import { leaseValue, seedState } from '../helpers/seed.js';
import { CONFIG, assertListed } from './support.js';

const PREFIX = '/t-auth/coreos.com/network';
const SUBNETS = ['10.7.1.0/24', '10.7.2.0/24'];

// Distinctive strings, so finding one in the output cannot be a coincidence.
const ROOT_PASSWORD = 'R00t-pw-5Lm2';
const FLANNEL_PASSWORD = 'Fl4nnel-pw-7Qz9';
const READER_LESS_PASSWORD = 'N0read-pw-3Kx4';
const WRONG_PASSWORD = 'Wr0ng-pw-8Jd6';
const PASSWORDS = [ROOT_PASSWORD, FLANNEL_PASSWORD, READER_LESS_PASSWORD, WRONG_PASSWORD];

// root (required by `auth enable`), flannel reading the prefix, and noreader with no role at all.
async function enableAuth(endpoint: string): Promise<void> {
  await etcdctl(endpoint, ['user', 'add', `root:${ROOT_PASSWORD}`]);
  await etcdctl(endpoint, ['user', 'grant-role', 'root', 'root']);

  await etcdctl(endpoint, ['role', 'add', 'flannel-reader']);
  await etcdctl(endpoint, [
    'role',
    'grant-permission',
    'flannel-reader',
    'read',
    `${PREFIX}/`,
    '--prefix=true',
  ]);
  await etcdctl(endpoint, ['user', 'add', `flannel:${FLANNEL_PASSWORD}`]);
  await etcdctl(endpoint, ['user', 'grant-role', 'flannel', 'flannel-reader']);

  await etcdctl(endpoint, ['user', 'add', `noreader:${READER_LESS_PASSWORD}`]);

  await etcdctl(endpoint, ['auth', 'enable']);
}

function assertNoPassword(result: CliResult): void {
  for (const password of PASSWORDS) {
    assert.ok(!result.stdout.includes(password), `a password is on stdout: ${result.stdout}`);
    assert.ok(!result.stderr.includes(password), `a password is on stderr: ${result.stderr}`);
  }
}

/** With --debug the error line comes after the settings and is followed by its stack. */
function assertDebugError(result: CliResult, code: number, ...named: string[]): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'an error wrote to stdout');
  const errorLine = stderrLines(result).find((line) => line.startsWith('flanctl: error:'));
  assert.ok(errorLine, `no error line: ${result.stderr}`);
  for (const text of named) {
    assert.ok(errorLine.includes(text), `the error does not name ${text}: ${errorLine}`);
  }
}

interface AuthCase {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** Undefined: the network is listed. */
  refusal?: { named: string[]; pattern: RegExp };
}

describe('flanctl against etcd with authentication', () => {
  let etcd: EtcdServer;
  let hostPort: string;

  before(async () => {
    etcd = await startEtcd();
    hostPort = `127.0.0.1:${etcd.clientPort}`;

    await seedState(etcd.endpoint, [
      { key: `${PREFIX}/config`, value: CONFIG, ttl: null },
      { key: `${PREFIX}/subnets/10.7.1.0-24`, value: leaseValue('192.0.2.71'), ttl: 86400 },
      { key: `${PREFIX}/subnets/10.7.2.0-24`, value: leaseValue('192.0.2.72'), ttl: null },
    ]);
    await enableAuth(etcd.endpoint);
  });

  after(async () => {
    await etcd?.stop();
  });

  const cases: AuthCase[] = [
    { name: '--user flannel:PASSWORD', args: ['--user', `flannel:${FLANNEL_PASSWORD}`] },
    {
      name: '--user flannel --password PASSWORD',
      args: ['--user', 'flannel', '--password', FLANNEL_PASSWORD],
    },
    {
      name: 'ETCDCTL_USER=flannel:PASSWORD',
      args: [],
      env: { ETCDCTL_USER: `flannel:${FLANNEL_PASSWORD}` },
    },
    {
      name: 'FLANNELD_ETCD_USERNAME and FLANNELD_ETCD_PASSWORD',
      args: [],
      env: { FLANNELD_ETCD_USERNAME: 'flannel', FLANNELD_ETCD_PASSWORD: FLANNEL_PASSWORD },
    },
    {
      name: 'a wrong password: exit 7 naming the user',
      args: ['--user', `flannel:${WRONG_PASSWORD}`],
      refusal: { named: ['flannel'], pattern: /authentication/i },
    },
    {
      name: 'no user on an auth-enabled cluster: exit 7',
      args: [],
      refusal: { named: [], pattern: /user/i },
    },
    {
      name: 'a user without read permission on the prefix: exit 7, permission denied',
      args: ['--user', `noreader:${READER_LESS_PASSWORD}`],
      refusal: { named: ['noreader'], pattern: /permission denied/i },
    },
  ];

  for (const { name, args, env, refusal } of cases) {
    test(name, async () => {
      const result = await leasesLs(etcd.endpoint, PREFIX, args, { env });

      assertNoPassword(result);
      if (refusal === undefined) {
        assertListed(result, SUBNETS);
      } else {
        assertOneLineError(result, EXIT_DENIED, hostPort, ...refusal.named);
        assert.match(result.stderr, refusal.pattern);
      }
    });

    test(`${name}, with --debug`, async () => {
      const result = await leasesLs(etcd.endpoint, PREFIX, [...args, '--debug'], { env });

      assertNoPassword(result);
      if (refusal === undefined) {
        assert.equal(result.code, EXIT_OK, `exit code; stderr: ${result.stderr}`);
        assert.match(result.stderr, /password=\(set\)/);
      } else {
        assertDebugError(result, EXIT_DENIED, hostPort, ...refusal.named);
      }
    });
  }
});
