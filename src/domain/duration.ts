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

const DURATION = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;
export const DURATION_FORMS = 'a duration such as 90s, 30m, 2h or 1h30m';

/** Milliseconds, or undefined when the text is not a Go-style duration with units. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '' || match.slice(1).every((part) => part === undefined)) {
    return undefined;
  }

  const [hours, minutes, seconds, millis] = match.slice(1).map((part) => Number(part ?? 0));
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis;
}

/** `in 20h45m37s` or `18h57m52s ago`, relative to now. */
export function formatRelative(secondsFromNow: number): string {
  return secondsFromNow >= 0
    ? `in ${formatDuration(secondsFromNow)}`
    : `${formatDuration(-secondsFromNow)} ago`;
}
