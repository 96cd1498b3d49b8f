// Shared assertions for the integration tests: the built CLI against etcd servers started here.
import assert from 'node:assert/strict';

import { type CliResult, type RunCliOptions, runCli } from '../helpers/cli.js';

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 6;
export const EXIT_DENIED = 7;

export const CONFIG = '{"Network":"10.7.0.0/16","Backend":{"Type":"vxlan"}}';

export function leaseValue(publicIp: string): string {
  return JSON.stringify({ PublicIP: publicIp, BackendType: 'vxlan', BackendData: null });
}

export function ls(
  endpoints: string,
  prefix: string,
  extra: string[] = [],
  options: RunCliOptions = {},
): Promise<CliResult> {
  return runCli(['leases', 'ls', '--endpoints', endpoints, '--prefix', prefix, ...extra], options);
}

export function stderrLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => line.trim() !== '');
}

/** Exit code, empty stdout, one stderr line, and each of `named` in it. */
export function assertOneLineError(result: CliResult, code: number, ...named: string[]): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '', 'an error wrote to stdout');
  assert.equal(stderrLines(result).length, 1, `one stderr line expected: ${result.stderr}`);
  for (const text of named) {
    assert.ok(result.stderr.includes(text), `stderr does not name ${text}: ${result.stderr}`);
  }
}

export function assertStderrMatches(result: CliResult, pattern: RegExp): void {
  assert.match(result.stderr, pattern, `stderr does not match ${pattern}: ${result.stderr}`);
}

/** The first column of each data row of a table; the header is the first line. */
export function tableSubnets(stdout: string): string[] {
  const lines = stdout.split('\n').filter((line) => line.trim() !== '');
  return lines.slice(1).map((line) => line.split(/\s+/)[0]);
}

export function assertListed(result: CliResult, subnets: string[]): void {
  assert.equal(result.code, EXIT_OK, `exit code; stderr: ${result.stderr}`);
  assert.deepEqual(tableSubnets(result.stdout), subnets, `stdout: ${result.stdout}`);
}
