// `npm run demo` is the README's first command: it must show a real network's leases.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { cliEnvironment, repoRoot } from '../helpers/cli.js';

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = path.join(repoRoot(), 'build', 'scripts', 'demo.js');
  const child = spawn(process.execPath, [script], { env: cliEnvironment(), stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end();

  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('the demo lists the sample network with remaining TTLs, then stops its etcd', async () => {
  const result = await runDemo();

  assert.equal(result.code, 0, result.stderr);
  const rows = result.stdout.trimEnd().split('\n');
  assert.match(rows[0], /^SUBNET\s+PUBLIC IP\s+BACKEND\s+TYPE\s+TTL\s+EXPIRES\s+NOTES$/);
  assert.equal(rows.length - 1, 24, result.stdout);
  assert.match(result.stdout, /^10\.5\.34\.0\/24\s+192\.0\.2\.34\s+vxlan\s+lease\s+23h5\dm/m);
  assert.equal(result.stdout.match(/\breservation\b/g)?.length, 2);
  assert.match(result.stdout, /renewal overdue/);
  assert.match(result.stderr, /problem: \/coreos\.com\/network\/subnets\/10\.5\.91\.0_24/);

  const pid = Number(/\(pid (\d+)\)/.exec(result.stderr)?.[1]);
  assert.ok(pid > 0, result.stderr);
  assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
});
