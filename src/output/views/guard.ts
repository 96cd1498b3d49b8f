// `reserve --watch` output: each repair as `reserve` prints it, time-stamped; or one NDJSON
// object per event. Notes about etcd go to stderr. Pure.
import { formatDuration } from '../../domain/duration.js';
import type { GuardOutput } from '../../registry/guard.js';
import { resultJson } from './changes.js';
import { noteText } from './lease-watch.js';

export interface GuardText {
  readonly stdout?: string;
  readonly note?: string;
}

/** ISO 8601 in UTC to the second, as etcd and Kubernetes log. */
export function logTime(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Text for one guard event. `resultText` is a change result as the changing commands print it
 * (they know the undo flags); its first line gets the time.
 */
export function guardText(
  output: GuardOutput,
  nowMs: number,
  context: { prefix: string; marginSeconds: number; resultText: string },
): GuardText {
  switch (output.kind) {
    case 'watching':
      return {
        note:
          `guarding ${output.records} recorded reservation${output.records === 1 ? '' : 's'} ` +
          `under ${context.prefix} from revision ${output.revision} (renew margin ` +
          `${formatDuration(context.marginSeconds)}); Ctrl-C stops`,
      };
    case 'result':
      return context.resultText === '' ? {} : { stdout: `${logTime(nowMs)} ${context.resultText}` };
    case 'held-back':
      return {
        note:
          `${output.key} needs repair again within one renewal period; ` +
          `held back until ${logTime(output.untilMs)}`,
      };
    case 'cannot-keep':
      return { note: `cannot keep the recorded reservation ${output.key}: ${output.reason}` };
    case 'resync':
      return {
        note: `etcd compacted its history to revision ${output.compactRevision}; listing again`,
      };
    case 'note':
      return { note: noteText(output.note, nowMs) };
  }
}

export function guardJson(output: GuardOutput, nowMs: number): string | undefined {
  const time = new Date(nowMs).toISOString();
  switch (output.kind) {
    case 'watching':
      return JSON.stringify({
        event: 'watching',
        time,
        records: output.records,
        revision: output.revision,
      });
    case 'result':
      return JSON.stringify({ event: 'result', time, ...resultJson(output.result) });
    case 'held-back':
      return JSON.stringify({
        event: 'held-back',
        time,
        key: output.key,
        until: new Date(output.untilMs).toISOString(),
      });
    case 'cannot-keep':
      return JSON.stringify({ event: 'cannot-keep', time, key: output.key, reason: output.reason });
    case 'resync':
      return JSON.stringify({ event: 'resync', time, compactRevision: output.compactRevision });
    case 'note':
      return undefined;
  }
}
