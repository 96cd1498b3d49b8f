// oclif's own error messages, made into the one line flanctl prints for every error.

// oclif words some parse errors as a header line, the reasons, then a help pointer.
const OCLIF_FILLER = [/^the following errors? occurred:?$/i, /^see more help with --help$/i];

/** One line from an oclif error: its reasons without the header and the help pointer. */
export function oclifErrorReason(error: Error & { args?: Array<{ name?: string }> }): string {
  // oclif's missing-argument error lists each argument with its wrapped description.
  if (/^Missing \d+ required arg/.test(error.message) && Array.isArray(error.args)) {
    const names = error.args.map((arg) => (arg.name ?? 'argument').toUpperCase());
    return `missing argument ${names.join(', ')}`;
  }

  const reasons = error.message
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '' && !OCLIF_FILLER.some((filler) => filler.test(line)));
  const joined = reasons.reduce(
    (text, line) => (text === '' ? line : `${text}${text.endsWith(':') ? ' ' : '; '}${line}`),
    '',
  );
  return joined || error.message.trim();
}
