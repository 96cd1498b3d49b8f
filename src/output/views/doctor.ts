// `doctor` output: findings worst first, each with its fix on the next line, then a summary;
// or one JSON document. Pure.
import type { Finding, FindingCounts } from '../../domain/doctor/index.js';
import { printable } from '../printable.js';
import type { Style } from '../style.js';

export interface DoctorSummary extends FindingCounts {
  readonly prefix: string;
  readonly revision: number;
  readonly keys: number;
}

const LABEL = { error: 'ERROR', warning: 'WARN', info: 'INFO' } as const;
const RANK = { error: 0, warning: 1, info: 2 } as const;
const FIX_INDENT = ' '.repeat(7);

/** Errors first, then warnings, then info; the order of the checks within each. */
export function worstFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}

export function doctorText(findings: readonly Finding[], summary: DoctorSummary, style: Style) {
  const paint = { error: style.red.bold, warning: style.yellow, info: style.dim } as const;
  const lines: string[] = [];
  for (const item of worstFirst(findings)) {
    const label = LABEL[item.severity].padEnd(5);
    lines.push(
      `${paint[item.severity](label)}  ${printable(`[${item.code}] ${item.subject}: ${item.message}`)}`,
    );
    if (item.fix) lines.push(`${FIX_INDENT}fix: ${printable(item.fix)}`);
  }

  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
  lines.push(
    `${summary.prefix}: ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')}, ` +
      `${summary.infos} info (${plural(summary.keys, 'subnet key')} at revision ${summary.revision})`,
  );
  return `${lines.join('\n')}\n`;
}

/** `fixes` is the changing commands' results document, with --fix. */
export function doctorDocument(
  findings: readonly Finding[],
  summary: DoctorSummary,
  fixes?: unknown,
): string {
  return JSON.stringify({
    findings: worstFirst(findings).map(({ severity, code, subject, message, fix }) => ({
      severity,
      code,
      subject,
      message,
      fix,
    })),
    summary: { ...summary, ok: summary.errors === 0 },
    ...(fixes === undefined ? {} : { fixes }),
  });
}
