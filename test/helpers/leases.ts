// Running `flanctl leases ls` and reading what `leases ls` and `leases show` print: the table,
// the detail block of one lease, the JSON document, and remaining TTLs against seeded ones.
import assert from 'node:assert/strict';

import { type CliResult, type RunCliOptions, runCli } from './cli.js';
import { nonBlankLines, parseJsonDocument } from './cli-output.js';
import { TTL_SLACK_SECONDS } from './seed.js';

export function leasesLs(
  endpoints: string,
  prefix: string,
  extra: string[] = [],
  options: RunCliOptions = {},
): Promise<CliResult> {
  return runCli(['leases', 'ls', '--endpoints', endpoints, '--prefix', prefix, ...extra], options);
}

/** The first word of each data row of a table: its subnet. The header is the first line. */
export function tableSubnets(stdout: string): string[] {
  return nonBlankLines(stdout)
    .slice(1)
    .map((line) => line.split(/\s+/)[0]);
}

export interface Table {
  headers: string[];
  rows: Array<Record<string, string>>;
}

// Columns start where their header starts: the printer pads each cell to its column's width and
// separates columns by several spaces, while a header name holds at most single spaces.
export function parseTable(stdout: string): Table {
  const lines = nonBlankLines(stdout);
  if (lines.length === 0) {
    return { headers: [], rows: [] };
  }

  const starts: number[] = [];
  const headers: string[] = [];
  for (const match of lines[0].matchAll(/\S+(?: \S+)*/g)) {
    starts.push(match.index ?? 0);
    headers.push(match[0]);
  }

  const rows = lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    headers.forEach((header, index) => {
      row[header] = line.slice(starts[index], starts[index + 1]).trim();
    });
    return row;
  });
  return { headers, rows };
}

/** The SUBNET column of a parsed table, in the order printed. */
export function subnets(table: Table): string[] {
  return table.rows.map((row) => row.SUBNET);
}

export function rowFor(table: Table, subnet: string): Record<string, string> {
  const row = table.rows.find((candidate) => candidate.SUBNET === subnet);
  assert.ok(row, `no row for ${subnet} in ${JSON.stringify(subnets(table))}`);
  return row;
}

/**
 * The `leases show` text output: one "Label: value" line per fact, by lower-case label. A label
 * printed twice (more than one block) fails the test unless eachLabelOnce is false.
 */
export function detailFields(
  stdout: string,
  options: { eachLabelOnce: boolean } = { eachLabelOnce: true },
): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([A-Za-z][A-Za-z0-9 ]*):\s*(.*)$/.exec(line);
    if (match) {
      const label = match[1].trim().toLowerCase();
      if (options.eachLabelOnce) {
        assert.ok(!fields.has(label), `label ${label} printed twice (more than one block?)`);
      }
      fields.set(label, match[2].trim());
    }
  }
  return fields;
}

/** The value of the "Label:" line; labels are matched case-insensitively. */
export function field(fields: Map<string, string>, label: string): string {
  const value = fields.get(label.toLowerCase());
  assert.ok(value !== undefined, `no "${label}" line in ${JSON.stringify([...fields.keys()])}`);
  return value;
}

/** One lease of a `leases ls --json` document; `leases show --json` adds three fields. */
export interface LeaseJson {
  key: string;
  subnet: string;
  ipv6Subnet: string | null;
  publicIP: string;
  publicIPv6: string | null;
  backendType: string | null;
  backendData: unknown;
  type: string;
  status: string;
  leaseId: string | null;
  ttlSeconds: number | null;
  grantedTtlSeconds: number | null;
  expiresAt: string | null;
  createRevision: number;
  modRevision: number;
  configMisfits: string[];
}

export interface LeasesDocument<Lease> {
  prefix: string;
  revision: number;
  leases: Lease[];
  problems: Array<{ key: string; reason: string }>;
}

export interface LeasesDocumentChecks {
  /** Also check the prefix (a string) and the store revision (an integer). */
  prefixAndRevision: boolean;
  /** Fields every lease must have. */
  leaseFields?: readonly string[];
}

/** stdout as the one JSON document of `leases ls --json` or `leases show --json`. */
export function parseLeasesDocument<Lease extends { key: string }>(
  stdout: string,
  checks: LeasesDocumentChecks,
): LeasesDocument<Lease> {
  const document = parseJsonDocument<LeasesDocument<Lease>>(stdout);
  if (checks.prefixAndRevision) {
    assert.equal(typeof document.prefix, 'string');
    assert.ok(Number.isInteger(document.revision), `revision ${document.revision} is no integer`);
  }
  assert.ok(Array.isArray(document.leases), 'leases is not an array');
  assert.ok(Array.isArray(document.problems), 'problems is not an array');
  for (const lease of document.leases) {
    for (const name of checks.leaseFields ?? []) {
      assert.ok(name in lease, `lease ${lease.key} has no field ${name}`);
    }
  }
  return document;
}

/** A remaining TTL (whole seconds) that counted down from `seeded` for at most the slack. */
export function assertTtlNear(actual: number | null, seeded: number, what: string): void {
  assert.ok(
    actual !== null &&
      Number.isInteger(actual) &&
      actual <= seeded &&
      actual >= seeded - TTL_SLACK_SECONDS,
    `${what}: remaining TTL ${actual} is not within ${TTL_SLACK_SECONDS}s below ${seeded}`,
  );
}
