// What only the integration tests share: the network they seed into etcd servers started here,
// and the check that the CLI listed it.
import assert from 'node:assert/strict';

import type { CliResult } from '../helpers/cli.js';
import { EXIT_OK } from '../helpers/cli-output.js';
import { tableSubnets } from '../helpers/leases.js';

export const CONFIG = '{"Network":"10.7.0.0/16","Backend":{"Type":"vxlan"}}';

export function assertStderrMatches(result: CliResult, pattern: RegExp): void {
  assert.match(result.stderr, pattern, `stderr does not match ${pattern}: ${result.stderr}`);
}

export function assertListed(result: CliResult, subnets: string[]): void {
  assert.equal(result.code, EXIT_OK, `exit code; stderr: ${result.stderr}`);
  assert.deepEqual(tableSubnets(result.stdout), subnets, `stdout: ${result.stdout}`);
}
