// The one base of every flanctl command: connection flags, the single etcd client (created on
// first use, closed in finally), and the one place where errors become exit codes.
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';

import { EtcdClient } from './etcd/client.js';
import {
  type ConnectionFlags,
  type ConnectionSettings,
  DEFAULTS,
  describeSettings,
  resolveSettings,
} from './etcd/settings.js';
import { ExitCode, FlanctlError } from './errors.js';
import { oclifErrorReason } from './oclif-errors.js';
import { oneLine } from './output/printable.js';
import type { RegistryBackend } from './registry/backend.js';
import { V3Backend } from './registry/v3.js';

const CONNECTION = 'CONNECTION';

export type BaseFlags = Interfaces.InferredFlags<typeof FlanctlCommand.baseFlags>;

export abstract class FlanctlCommand extends Command {
  static override baseFlags = {
    endpoints: Flags.string({
      helpGroup: CONNECTION,
      description: `etcd endpoints, comma-separated [default: ${DEFAULTS.endpoints}]`,
    }),
    prefix: Flags.string({
      helpGroup: CONNECTION,
      description: `flannel's etcd prefix [default: ${DEFAULTS.prefix}]`,
    }),
    cacert: Flags.string({ helpGroup: CONNECTION, description: 'CA bundle for https endpoints' }),
    cert: Flags.string({ helpGroup: CONNECTION, description: 'client certificate (TLS)' }),
    key: Flags.string({ helpGroup: CONNECTION, description: 'client private key (TLS)' }),
    user: Flags.string({ helpGroup: CONNECTION, description: 'etcd user, name or name:password' }),
    password: Flags.string({ helpGroup: CONNECTION, description: 'etcd password' }),
    'dial-timeout': Flags.string({
      helpGroup: CONNECTION,
      description: `time to connect [default: ${DEFAULTS['dial-timeout']}]`,
    }),
    'command-timeout': Flags.string({
      helpGroup: CONNECTION,
      description: `time for each etcd request [default: ${DEFAULTS['command-timeout']}]`,
    }),
    debug: Flags.boolean({
      description: 'print resolved settings and their sources, and stacks on errors',
    }),
  };

  private backend?: RegistryBackend;
  /** The settings of this run, once resolved (for messages that must name them). */
  protected resolvedSettings?: ConnectionSettings;
  private debugEnabled = process.argv.includes('--debug');

  /** Settings from flags and environment; warns about look-alike variables. No I/O. */
  protected connectionSettings(flags: BaseFlags): ConnectionSettings {
    this.debugEnabled = flags.debug;
    const connectionFlags: ConnectionFlags = {
      endpoints: flags.endpoints,
      prefix: flags.prefix,
      cacert: flags.cacert,
      cert: flags.cert,
      key: flags.key,
      user: flags.user,
      password: flags.password,
      'dial-timeout': flags['dial-timeout'],
      'command-timeout': flags['command-timeout'],
    };
    const settings = resolveSettings(connectionFlags, process.env);
    this.resolvedSettings = settings;

    for (const warning of settings.warnings) this.warnLine(warning);
    if (flags.debug) {
      for (const line of describeSettings(settings)) process.stderr.write(`debug: ${line}\n`);
    }

    return settings;
  }

  /** The registry over the shared etcd client, connected on first use. */
  protected async registry(settings: ConnectionSettings): Promise<RegistryBackend> {
    if (!this.backend) this.backend = new V3Backend(await EtcdClient.connect(settings));
    return this.backend;
  }

  protected warnLine(message: string): void {
    process.stderr.write(`flanctl: warning: ${oneLine(message)}\n`);
  }

  protected infoLine(message: string): void {
    process.stderr.write(`flanctl: ${oneLine(message)}\n`);
  }

  protected writeOut(text: string): void {
    try {
      process.stdout.write(text);
    } catch (error) {
      // A file on a full disk fails synchronously; a closed pipe is handled by the launcher.
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new FlanctlError('unexpected', `cannot write the output: ${reason}`);
    }
  }

  override async catch(
    error: Error & { oclif?: { exit?: number }; code?: string },
  ): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error;

    if (error instanceof FlanctlError) {
      this.printError(error.message, error.hint, error);
      throw new Errors.ExitError(error.exitCode);
    }

    // oclif's parse errors (unknown flag, bad option value) carry exit code 2.
    if (error instanceof Errors.CLIError && error.oclif?.exit === ExitCode.usage) {
      const command = [this.config.bin, ...(this.id?.split(':') ?? [])].join(' ');
      this.printError(oclifErrorReason(error), `see ${command} --help`, error);
      throw new Errors.ExitError(ExitCode.usage);
    }

    this.printError(`unexpected failure: ${error.message.split('\n')[0]}`, undefined, error);
    throw new Errors.ExitError(ExitCode.unexpected);
  }

  override async finally(error: Error | undefined): Promise<unknown> {
    this.backend?.close();
    return super.finally(error);
  }

  protected errorLine(message: string, hint?: string): void {
    const line = `${message}${hint ? `; hint: ${hint}` : ''}`;
    process.stderr.write(`flanctl: error: ${oneLine(line)}\n`);
  }

  private printError(message: string, hint: string | undefined, error: Error): void {
    this.errorLine(message, hint);
    if (this.debugEnabled) process.stderr.write(`${stackOf(error)}\n`);
  }
}

function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? '' : `\ncaused by: ${stackOf(error.cause)}`;
  return `${error.stack ?? error.message}${cause}`;
}
