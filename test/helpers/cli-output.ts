// Reading a finished flanctl run: its exit code, its lines, its one-line errors and its JSON
// document. The exit codes are spelled out here, not imported from src: they are flanctl's
// documented interface, and a test must notice when the code changes them.
import assert from 'node:assert/strict';

import type { CliResult } from './cli.js';

export const EXIT_OK = 0;
export const EXIT_UNEXPECTED = 1;
export const EXIT_USAGE = 2;
export const EXIT_PROBLEMS = 3;
export const EXIT_NOT_FOUND = 4;
export const EXIT_UNREACHABLE = 6;
export const EXIT_DENIED = 7;

const ERROR_PREFIX = 'flanctl: error:';

/** The lines of `text` that hold more than white space. */
export function nonBlankLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

export function stderrLines(result: CliResult): string[] {
  return nonBlankLines(result.stderr);
}

/** The `flanctl: error:` lines on stderr, leaving out notes, warnings and problems. */
export function errorLines(result: CliResult): string[] {
  return stderrLines(result).filter((line) => line.startsWith(ERROR_PREFIX));
}

/** Everything a run said, for assertion messages. */
export function describeRun(result: CliResult): string {
  return `exit ${result.code}; stdout: ${result.stdout}; stderr: ${result.stderr}`;
}

export function assertExitCode(result: CliResult, code: number): void {
  assert.equal(result.code, code, `expected exit ${code}, got ${describeRun(result)}`);
}

export function assertMentions(text: string, ...parts: string[]): void {
  for (const part of parts) {
    assert.ok(text.includes(part), `${JSON.stringify(part)} not in: ${text}`);
  }
}

interface OneLineErrorRules {
  stdoutEmpty: boolean;
  flanctlPrefix: boolean;
}

function checkOneLineError(
  result: CliResult,
  code: number,
  named: string[],
  rules: OneLineErrorRules,
): void {
  assert.equal(result.code, code, `exit code; ${describeRun(result)}`);
  if (rules.stdoutEmpty) {
    assert.equal(result.stdout, '', 'an error wrote to stdout');
  }

  const lines = stderrLines(result);
  assert.equal(lines.length, 1, `one stderr line expected: ${JSON.stringify(result.stderr)}`);
  if (rules.flanctlPrefix) {
    assert.ok(lines[0].startsWith(`${ERROR_PREFIX} `), `not a flanctl error line: ${lines[0]}`);
  }
  for (const text of named) {
    assert.ok(result.stderr.includes(text), `stderr does not name ${text}: ${result.stderr}`);
  }
}

/** Exit code, nothing on stdout, exactly one non-blank stderr line, and each of `named` in it. */
export function assertOneLineError(result: CliResult, code: number, ...named: string[]): void {
  checkOneLineError(result, code, named, { stdoutEmpty: true, flanctlPrefix: false });
}

/** assertOneLineError, and the line is flanctl's own `flanctl: error: ` line. */
export function assertOneLineFlanctlError(
  result: CliResult,
  code: number,
  ...named: string[]
): void {
  checkOneLineError(result, code, named, { stdoutEmpty: true, flanctlPrefix: true });
}

/**
 * The exit code and exactly one `flanctl: error: ` line on stderr naming each of `named`, with
 * stdout left to the caller: a command may print what it found and then fail (exit 3).
 */
export function assertFlanctlErrorLine(result: CliResult, code: number, ...named: string[]): void {
  checkOneLineError(result, code, named, { stdoutEmpty: false, flanctlPrefix: true });
}

/** stdout as one JSON document; anything else fails the test with what was printed. */
export function parseJsonDocument<T = unknown>(stdout: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (error) {
    assert.fail(`stdout is not one JSON document (${(error as Error).message}): ${stdout}`);
  }
}

const GO_DURATION = '(?:(\\d+)h)?(?:(\\d+)m)?(\\d+)s';
const WHOLE_DURATION = new RegExp(`^${GO_DURATION}$`);
const LEADING_DURATION = new RegExp(`^${GO_DURATION}\\b`);

function durationMatchSeconds(match: RegExpExecArray): number {
  const [hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0));
  return hours * 3600 + minutes * 60 + seconds;
}

/** Go's duration text as flanctl prints it (20h45m37s, 29m59s, 45s), in seconds. */
export function durationSeconds(text: string): number {
  const match = WHOLE_DURATION.exec(text);
  assert.ok(match, `${JSON.stringify(text)} is not a duration such as 20h45m37s`);
  return durationMatchSeconds(match);
}

/** The Go duration `text` starts with, such as "23h59m58s (granted 24h0m0s)", in seconds. */
export function leadingDurationSeconds(text: string): number {
  const match = LEADING_DURATION.exec(text);
  assert.ok(match, `${JSON.stringify(text)} does not start with a duration such as 23h59m58s`);
  return durationMatchSeconds(match);
}
