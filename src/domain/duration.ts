// Durations as Go prints and parses them (`23h52m5s`, `90s`, `1h30m`), since operators paste
// them between flanneld logs, etcdctl flags and flanctl.

/** Go's time.Duration text for whole seconds: 0s, 45s, 30m0s, 20h45m37s. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.trunc(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;

  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

// Go's time.ParseDuration grammar: one or more decimal numbers, each with a unit.
const DURATION = /^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)/;
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
export const DURATION_FORMS = 'a duration such as 90s, 1.5s, 30m, 2h or 1h30m';

/** Milliseconds, or undefined when the text is not a Go duration with units (`5` is not). */
export function parseDurationMs(text: string): number | undefined {
  let rest = text.trim();
  if (rest === '') return undefined;

  let total = 0;
  while (rest !== '') {
    const match = DURATION.exec(rest);
    if (!match) return undefined;

    const [, number, unit] = /^([\d.]+)(.+)$/.exec(match[0]) as RegExpExecArray;
    total += Number(number) * UNIT_MS[unit];
    rest = rest.slice(match[0].length);
  }

  return total;
}

/** `in 20h45m37s` or `18h57m52s ago`, relative to now. */
export function formatRelative(secondsFromNow: number): string {
  return secondsFromNow >= 0
    ? `in ${formatDuration(secondsFromNow)}`
    : `${formatDuration(-secondsFromNow)} ago`;
}
