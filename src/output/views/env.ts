// `env validate` output: one line per finding, worst first within file order, or one JSON
// document. Pure.
import type { EnvFinding, SubnetEnv } from '../../domain/subnet-env.js';
import { printable } from '../printable.js';

const LABEL = { error: 'ERROR', warning: 'WARN', info: 'INFO' } as const;
const READER = { cni: 'CNI plugin', flanneld: 'flanneld', both: 'both readers' } as const;

export function findingLines(path: string, findings: readonly EnvFinding[]): string {
  const lines = findings.map((item) => {
    const where = item.line === null ? path : `${path}:${item.line}`;
    return printable(
      `${LABEL[item.severity].padEnd(5)} ${where}  ${item.message} [${READER[item.reader]}]`,
    );
  });
  const errors = findings.filter((item) => item.severity === 'error').length;
  const warnings = findings.filter((item) => item.severity === 'warning').length;
  lines.push(
    `${path}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  return `${lines.join('\n')}\n`;
}

export function findingsDocument(path: string, env: SubnetEnv, findings: readonly EnvFinding[]) {
  return JSON.stringify({
    path,
    ok: !findings.some((item) => item.severity === 'error'),
    findings: findings.map(({ severity, line, key, value, reader, message }) => ({
      severity,
      line,
      key,
      value,
      reader,
      message,
    })),
    values: Object.fromEntries([...env.flanneld].map(([key, entry]) => [key, entry.value])),
  });
}
