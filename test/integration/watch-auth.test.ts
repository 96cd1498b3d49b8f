// `flanctl leases ls --watch` against an etcd with authentication: a watch outlives the auth
// token it opened its stream with, and after an etcd restart it must log in again instead of
// being refused for ever.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { CliProcess } from '../helpers/cli-process.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { etcdctl } from '../helpers/kv-inspect.js';
import { leaseValue } from '../helpers/seed.js';
import { openssl } from './certs.js';
import { CONFIG } from './support.js';

const PREFIX = '/t-watch-auth/coreos.com/network';
const ROOT = 'root:R00t-pw-w4tc';
const FLANNEL_PASSWORD = 'Fl4nnel-pw-w4tc';
// etcd's JWT tokens expire after this long whatever happens; a restart is not needed for that.
const TOKEN_TTL_MS = 2_000;

describe('flanctl leases ls --watch with authentication', () => {
  let etcd: EtcdServer;
  let keyDir: string;
  let watcher: CliProcess | undefined;

  before(async () => {
    keyDir = await mkdtemp(path.join(os.tmpdir(), 'flanctl-jwt-'));
    await openssl(keyDir, ['genrsa', '-out', 'jwt.key', '2048']);
    await openssl(keyDir, ['rsa', '-in', 'jwt.key', '-pubout', '-out', 'jwt.pub']);
    const keys = `pub-key=${path.join(keyDir, 'jwt.pub')},priv-key=${path.join(keyDir, 'jwt.key')}`;
    const token = `jwt,${keys},sign-method=RS256,ttl=${TOKEN_TTL_MS / 1000}s`;
    etcd = await startEtcd({ extraArgs: [`--auth-token=${token}`] });
    await etcdctl(etcd.endpoint, ['put', `${PREFIX}/config`, CONFIG]);
    await etcdctl(etcd.endpoint, ['put', `${PREFIX}/subnets/10.7.1.0-24`, leaseValue('192.0.2.1')]);

    await etcdctl(etcd.endpoint, ['user', 'add', ROOT]);
    await etcdctl(etcd.endpoint, ['user', 'grant-role', 'root', 'root']);
    await etcdctl(etcd.endpoint, ['role', 'add', 'flannel-reader']);
    await etcdctl(etcd.endpoint, [
      ...['role', 'grant-permission', 'flannel-reader', 'read', `${PREFIX}/`, '--prefix=true'],
    ]);
    await etcdctl(etcd.endpoint, ['user', 'add', `flannel:${FLANNEL_PASSWORD}`]);
    await etcdctl(etcd.endpoint, ['user', 'grant-role', 'flannel', 'flannel-reader']);
    await etcdctl(etcd.endpoint, ['auth', 'enable']);
  });

  after(async () => {
    watcher?.kill();
    await etcd?.stop();
    if (keyDir !== undefined) await rm(keyDir, { recursive: true, force: true });
  });

  test('sees a change made after an etcd restart, once its token has expired', async () => {
    watcher = new CliProcess([
      ...['leases', 'ls', '--watch', '--endpoints', etcd.endpoint, '--prefix', PREFIX],
      ...['--user', 'flannel', '--password', FLANNEL_PASSWORD],
    ]);
    await watcher.waitForLine('the table', (line) => line.startsWith('10.7.1.0/24'));

    await sleep(TOKEN_TTL_MS + 1_000);
    await etcd.stopKeepingData();
    await etcd.startAgain();
    const key = `${PREFIX}/subnets/10.7.2.0-24`;
    await etcdctl(etcd.endpoint, ['--user', ROOT, 'put', key, leaseValue('192.0.2.2')]);

    const line = await watcher.waitForLine('the change', (text) => text.includes('10.7.2.0/24'));
    assert.match(line, /reserved {5}10\.7\.2\.0\/24 +192\.0\.2\.2/);
    assert.ok(
      watcher.lines('stderr').some((text) => text.startsWith('flanctl: resumed at revision')),
      watcher.describe(),
    );
  });
});
