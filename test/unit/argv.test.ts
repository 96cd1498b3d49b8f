import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GLOBAL_BOOLEAN_FLAGS, GLOBAL_VALUE_FLAGS, hoistGlobalFlags } from '../../src/argv.js';
import { FlanctlCommand } from '../../src/base-command.js';

test('leading connection flags move behind the command', () => {
  const argv = ['--prefix', '/kube-centos/network', '--debug', 'leases', 'ls', '-o', 'wide'];

  assert.deepEqual(hoistGlobalFlags(argv), [
    'leases',
    'ls',
    '-o',
    'wide',
    '--prefix',
    '/kube-centos/network',
    '--debug',
  ]);
});

test('inline values stay with their flag', () => {
  const argv = ['--endpoints=http://127.0.0.1:1', 'leases', 'show', '10.5.1.0/24'];

  assert.deepEqual(hoistGlobalFlags(argv), [
    'leases',
    'show',
    '10.5.1.0/24',
    '--endpoints=http://127.0.0.1:1',
  ]);
});

test('other leading flags are left for oclif to judge', () => {
  assert.deepEqual(hoistGlobalFlags(['--version']), ['--version']);
  assert.deepEqual(hoistGlobalFlags(['--remote-cafile', 'x', 'leases', 'ls']), [
    '--remote-cafile',
    'x',
    'leases',
    'ls',
  ]);
});

test('the hoisted flag names are exactly the base command flags', () => {
  const hoisted = [...GLOBAL_VALUE_FLAGS, ...GLOBAL_BOOLEAN_FLAGS].sort();

  assert.deepEqual(Object.keys(FlanctlCommand.baseFlags).sort(), hoisted);
});

test('help takes no connection flags, so they are dropped for it', () => {
  assert.deepEqual(hoistGlobalFlags(['help', 'leases', 'ls', '--endpoints', 'http://x:1']), [
    'help',
    'leases',
    'ls',
  ]);
});
