// Exit codes are part of flanctl's interface for scripts; README lists them.
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  problems: 3,
  notFound: 4,
  conflict: 5,
  unreachable: 6,
  denied: 7,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/** An error meant for the operator: one line, a documented exit code, an optional hint. */
export class FlanctlError extends Error {
  constructor(
    readonly kind: Exclude<ExitCodeName, 'ok'>,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FlanctlError';
  }

  get exitCode(): number {
    return ExitCode[this.kind];
  }
}

export function usageError(message: string, hint?: string): FlanctlError {
  return new FlanctlError('usage', message, hint);
}

export function notFoundError(message: string, hint?: string): FlanctlError {
  return new FlanctlError('notFound', message, hint);
}
