// Flag values shared by several commands, validated into domain values.
import { Flags } from '@oclif/core';

import { parseIp } from './domain/cidr.js';
import { DURATION_FORMS, parseDurationMs } from './domain/duration.js';
import { DEFAULT_RENEW_MARGIN_SECONDS } from './domain/lease-entry.js';
import { DEFAULT_RECORDS_PREFIX, checkRecordsPrefix } from './domain/reservation-record.js';
import { usageError } from './errors.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const jsonFlag = Flags.boolean({ description: 'print one JSON document' });

export const outputFlags = {
  output: Flags.string({
    char: 'o',
    options: [...OUTPUT_FORMATS],
    default: 'table',
    description: 'output format',
  }),
  json: Flags.boolean({
    description: 'print one JSON document (same as -o json)',
    exclusive: ['output'],
  }),
};

export function outputFormat(flags: { output: string; json: boolean }): OutputFormat {
  return flags.json ? 'json' : (flags.output as OutputFormat);
}

/**
 * TimeToLive calls in flight while listing leases. On 2 cores, 32 to 512 all list 65,536 leases
 * within a few % of each other; 128 was ahead of 64 by 1-6% in every run, and etcd spent 5-13%
 * less CPU (README, Design, Performance).
 */
export const DEFAULT_MAX_IN_FLIGHT = 128;

export const renewMarginFlag = Flags.string({
  description:
    "flanneld's --subnet-lease-renew-margin (minutes, or a duration such as 90m): a lease " +
    'with less left is overdue ' +
    `[default: ${DEFAULT_RENEW_MARGIN_SECONDS / 60}m]`,
});

// flanneld accepts a renew margin of 1 to 1439 minutes.
const MIN_MARGIN_SECONDS = 60;
const MAX_MARGIN_SECONDS = 1439 * 60;

export function renewMarginSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_RENEW_MARGIN_SECONDS;

  // A bare number is minutes, as flanneld's --subnet-lease-renew-margin takes it.
  const seconds = /^\d+$/.test(text) ? Number(text) * 60 : durationSeconds('--renew-margin', text);
  if (seconds < MIN_MARGIN_SECONDS || seconds > MAX_MARGIN_SECONDS) {
    throw usageError(`--renew-margin ${text} is outside flanneld's range; expected 1m to 23h59m`);
  }

  return seconds;
}

export function durationSeconds(flag: string, text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw usageError(`${flag} ${JSON.stringify(text)} is not valid; expected ${DURATION_FORMS}`);
  return Math.floor(ms / 1000);
}

/** A flag that names a host's IPv4 address (flannel's PublicIP); undefined when not given. */
export function ipv4Flag(flag: string, text: string | undefined): string | undefined {
  if (text !== undefined && parseIp(text)?.family !== 4) {
    throw usageError(`${flag} ${JSON.stringify(text)} is not an IPv4 address`);
  }

  return text;
}

export const recordsPrefixFlag = Flags.string({
  description: `where flanctl records reservations [default: ${DEFAULT_RECORDS_PREFIX}]`,
  env: 'FLANCTL_RESERVATIONS_PREFIX',
});

/** The reservation records prefix, checked: absolute and never inside a subnets dir. */
export function recordsPrefix(text: string | undefined): string {
  const checked = checkRecordsPrefix(text ?? DEFAULT_RECORDS_PREFIX);
  if (!checked.ok) {
    throw usageError(`--reservations-prefix (or FLANCTL_RESERVATIONS_PREFIX) ${checked.reason}`);
  }
  return checked.prefix;
}
