// `flanctl doctor`: everything wrong with one flannel network, judged from one read. Pure: the
// command reads etcd, the checks decide what the state means and what to do about it.
import { capacityFindings } from './capacity-checks.js';
import { configFindings } from './config-checks.js';
import { type DoctorInput, type Finding, PLAIN_COMMANDS } from './findings.js';
import {
  keyFindings,
  misfitFindings,
  overlapFindings,
  publicIpFindings,
  vtepMacFindings,
} from './key-checks.js';
import { keylessFindings, leaseFindings, sharedLeaseFindings } from './lease-checks.js';
import { reservationFindings } from './reservation-checks.js';

export {
  type Commands,
  type DoctorInput,
  FINDING_CODES,
  type Finding,
  type FindingCode,
  type FindingCounts,
  type FindingSeverity,
  type LeaseRecordState,
  type StoredText,
  countFindings,
  parseCodeList,
  shellWord,
} from './findings.js';

export function diagnose(input: DoctorInput): Finding[] {
  const cli = input.commands ?? PLAIN_COMMANDS;
  return [
    ...configFindings(input, cli),
    ...keyFindings(input, cli),
    ...misfitFindings(input),
    ...overlapFindings(input.entries),
    ...publicIpFindings(input, cli),
    ...vtepMacFindings(input.entries, input.nowMs, cli),
    ...leaseFindings(input, cli),
    ...sharedLeaseFindings(input.entries),
    ...keylessFindings(input.keylessLeases),
    ...capacityFindings(input),
    ...reservationFindings(input, cli),
  ];
}
