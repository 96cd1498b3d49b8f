// What `npm run bench` runs for each figure, and how each run's output is checked: a figure
// counts only when its run did the whole job (exit 0, every key listed, the TTL calls made or
// skipped as the figure says), so a fast failure can never pass for a fast listing.
import fs from 'node:fs';
import path from 'node:path';

import type { RunOutcome } from './measure.js';

export const STARTUP_FIGURES = ['node', 'bare-version', 'version', 'ls-empty'] as const;
export const SIZE_FIGURES = [
  'floor',
  'reference',
  'ls-json',
  'reference-no-ttl',
  'ls-json-no-ttl',
  'ls-table',
  'anchor',
] as const;

export type StartupFigure = (typeof STARTUP_FIGURES)[number];
export type SizeFigure = (typeof SIZE_FIGURES)[number];
export type FigureId = StartupFigure | SizeFigure;

export const LABELS: Record<FigureId, string> = {
  node: 'node -e 0',
  'bare-version': 'bare oclif 4 CLI --version',
  version: 'flanctl --version',
  'ls-empty': 'flanctl leases ls (empty prefix)',
  floor: 'etcdctl get --prefix -w json',
  reference: 'etcd3 reference, TTLs',
  'ls-json': 'flanctl leases ls --json',
  'reference-no-ttl': 'etcd3 reference, no TTLs',
  'ls-json-no-ttl': 'flanctl leases ls --json --no-ttl',
  'ls-table': 'flanctl leases ls (table)',
  anchor: 'etcdctl loop',
};

export interface FigureContext {
  readonly repoRoot: string;
  readonly benchDir: string;
  readonly endpoint: string;
  readonly prefix: string;
  readonly emptyPrefix: string;
}

/** The argv of one figure: never without our own etcd's endpoint. */
export function figureArgv(id: FigureId, context: FigureContext): string[] {
  const node = process.execPath;
  const flanctl = path.join(context.repoRoot, 'bin', 'run.js');
  const reference = path.join(context.benchDir, 'reference-etcd3.js');
  const { endpoint, prefix, emptyPrefix: empty } = context;
  const subnets = `${prefix}/subnets`;
  const connection = ['--endpoints', endpoint, '--prefix', prefix];

  switch (id) {
    case 'node':
      return [node, '-e', '0'];
    case 'bare-version':
      return [node, path.join(context.repoRoot, 'bench', 'bare-oclif', 'bin.js'), '--version'];
    case 'version':
      return [node, flanctl, '--version'];
    case 'ls-empty':
      return [node, flanctl, 'leases', 'ls', ...connection.slice(0, 2), '--prefix', empty];
    case 'floor':
      return ['etcdctl', `--endpoints=${endpoint}`, 'get', '--prefix', subnets, '-w', 'json'];
    case 'reference':
      return [node, reference, ...connection];
    case 'reference-no-ttl':
      return [node, reference, ...connection, '--no-ttl'];
    case 'ls-json':
      return [node, flanctl, 'leases', 'ls', '--json', ...connection];
    case 'ls-json-no-ttl':
      return [node, flanctl, 'leases', 'ls', '--json', '--no-ttl', ...connection];
    case 'ls-table':
      return [node, flanctl, 'leases', 'ls', ...connection];
    case 'anchor':
      return ['sh', path.join(context.repoRoot, 'bench', 'etcdctl-loop.sh'), endpoint, prefix];
  }
}

/** What a complete run of a figure must have produced over `keys` keys, `leases` of them leased. */
export interface Expected {
  readonly keys: number;
  readonly leases: number;
}

/** Why a run does not count, or undefined when it did the whole job. */
export function checkRun(
  id: FigureId,
  outcome: RunOutcome,
  expected: Expected,
): string | undefined {
  if (outcome.exitCode !== 0) {
    const how = outcome.signal ?? `exit ${outcome.exitCode}`;
    return `${how}; stderr: ${outcome.stderr.trim().slice(0, 500)}`;
  }

  const stdout = fs.readFileSync(outcome.stdoutPath, 'utf8');
  const stderrAllowed = id === 'ls-empty' || id === 'anchor';
  if (!stderrAllowed && outcome.stderr !== '') {
    return `unexpected stderr: ${outcome.stderr.trim().slice(0, 500)}`;
  }

  const ttlCalls = outcome.sample.ttlCalls;
  const wantedCalls = asksTtls(id) ? expected.leases : 0;
  if (ttlCalls !== wantedCalls) {
    return `${ttlCalls} TimeToLive calls reached etcd, expected ${wantedCalls}`;
  }

  return checkStdout(id, stdout, expected);
}

function asksTtls(id: FigureId): boolean {
  return id === 'reference' || id === 'ls-json' || id === 'ls-table' || id === 'anchor';
}

function checkStdout(id: FigureId, stdout: string, expected: Expected): string | undefined {
  switch (id) {
    case 'node':
      return stdout === '' ? undefined : `printed ${JSON.stringify(stdout.slice(0, 80))}`;
    case 'bare-version':
      return startsWith(stdout, 'bare-oclif/1.0.0 ');
    case 'version':
      return startsWith(stdout, 'flanctl/');
    case 'ls-empty':
      return stdout === '' ? undefined : `listed ${JSON.stringify(stdout.slice(0, 80))}`;
    case 'floor':
      return counted('keys', (JSON.parse(stdout) as { count?: number }).count ?? 0, expected.keys);
    case 'anchor':
      return counted(
        'TTL answers',
        countMatches(stdout, /^lease \w+ granted with TTL\(/gm),
        expected.leases,
      );
    case 'ls-table':
      // A header, then one row per key.
      return counted('rows', stdout.trimEnd().split('\n').length - 1, expected.keys);
    case 'reference':
    case 'reference-no-ttl':
    case 'ls-json':
    case 'ls-json-no-ttl':
      return checkDocument(id, stdout, expected);
  }
}

interface ListedLease {
  leaseId: string | null;
  ttlSeconds: number | null;
}

function checkDocument(id: FigureId, stdout: string, expected: Expected): string | undefined {
  const document = JSON.parse(stdout) as { leases?: ListedLease[]; problems?: unknown[] };
  const leases = document.leases ?? [];
  const wrongCount = counted('keys', leases.length, expected.keys);
  if (wrongCount !== undefined) return wrongCount;
  if ((document.problems ?? []).length > 0) return `problems listed: ${stdout.slice(0, 300)}`;

  const leased = leases.filter((lease) => lease.leaseId !== null);
  const withTtl = leased.filter((lease) => lease.ttlSeconds !== null && lease.ttlSeconds > 0);
  const wanted = asksTtls(id) ? expected.leases : 0;
  return (
    counted('leases with a TTL', withTtl.length, wanted) ??
    counted('leases', leased.length, expected.leases)
  );
}

function startsWith(stdout: string, start: string): string | undefined {
  return stdout.startsWith(start) ? undefined : `printed ${JSON.stringify(stdout.slice(0, 80))}`;
}

function counted(what: string, actual: number, wanted: number): string | undefined {
  return actual === wanted ? undefined : `${actual} ${what} in the output, expected ${wanted}`;
}

function countMatches(text: string, pattern: RegExp): number {
  return [...text.matchAll(pattern)].length;
}
