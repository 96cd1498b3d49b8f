// Confirmation on a real terminal: `release` and `restore` ask through a pseudo-terminal that
// util-linux `script` provides, and act only on "y".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { cliEnvironment, repoRoot } from '../helpers/cli.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { readKey } from '../helpers/kv-inspect.js';
import { seedState } from '../helpers/seed.js';

const PREFIX = '/t-confirm/coreos.com/network';
const KEY = `${PREFIX}/subnets/10.5.3.0-24`;
const VALUE = '{"PublicIP":"192.0.2.3","PublicIPv6":null,"BackendType":"vxlan"}';

let etcd: EtcdServer;
let journalDir: string;

before(async () => {
  etcd = await startEtcd();
  journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-confirm-'));
  await seedState(etcd.endpoint, [
    { key: `${PREFIX}/config`, value: '{"Network":"10.5.0.0/16"}', ttl: null },
    // Below the 60-minute renew margin: an overdue lease that release may take.
    { key: KEY, value: VALUE, ttl: 1800 },
  ]);
});

after(async () => {
  await etcd?.stop();
  fs.rmSync(journalDir, { recursive: true, force: true });
});

/** Runs flanctl on a pseudo-terminal, typing `answer` at its prompt. */
function onTerminal(args: string[], answer: string): Promise<{ code: number | null; out: string }> {
  const common = ['--endpoints', etcd.endpoint, '--prefix', PREFIX];
  const journal = ['--journal', path.join(journalDir, 'journal.jsonl')];
  const command = [process.execPath, path.join(repoRoot(), 'bin/run.js'), ...args, ...common]
    .concat(journal)
    .map((word) => `'${word}'`)
    .join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: cliEnvironment() });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stdin.end(`${answer}\r`);

  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

test('release on a terminal asks first, and "n" changes nothing (exit 3)', async () => {
  const result = await onTerminal(['release', '10.5.3.0/24'], 'n');

  assert.equal(result.code, 3, result.out);
  assert.match(result.out, /would release 10\.5\.3\.0\/24/);
  assert.match(result.out, /Release 1 subnet\?/);
  assert.match(result.out, /not confirmed; nothing was changed/);
  assert.ok(await readKey(etcd.endpoint, KEY), 'the key must still exist');
});

test('"y" releases, and restore on a terminal puts the key back after its own "y"', async () => {
  const released = await onTerminal(['release', '10.5.3.0/24'], 'y');

  assert.equal(released.code, 0, released.out);
  assert.match(released.out, /released 10\.5\.3\.0\/24 \(192\.0\.2\.3\)/);
  assert.equal(await readKey(etcd.endpoint, KEY), undefined);

  const restored = await onTerminal(['restore'], 'y');

  assert.equal(restored.code, 0, restored.out);
  assert.match(restored.out, /Restore 1 key\(s\)\?/);
  const key = await readKey(etcd.endpoint, KEY);
  assert.equal(key?.value.toString(), VALUE);
  assert.notEqual(key?.leaseHex, null);
});
