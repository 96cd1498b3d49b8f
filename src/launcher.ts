// What bin/run.js runs: oclif with flanctl's argv handling, and one-line errors for what
// happens outside any command (unknown command, output that cannot be written).
import { fileURLToPath } from 'node:url';

import { Errors, type Interfaces, Plugin, flush, run } from '@oclif/core';

import { hoistGlobalFlags } from './argv.js';
import { ExitCode } from './errors.js';
import { oclifErrorReason } from './oclif-errors.js';
import { oneLine } from './output/printable.js';

export async function main(argv: readonly string[], binUrl: string): Promise<void> {
  // gRPC sets the TLS server name to the endpoint's IP address, for which Node prints a
  // deprecation warning (DEP0123) on every https run; stderr is for the operator's messages.
  process.noDeprecation = true;
  // oclif rethrows every stdout error but EPIPE from its own listener, which ends in a stack.
  process.stdout.removeAllListeners('error');
  process.stdout.on('error', onOutputError);

  try {
    await run(hoistGlobalFlags(argv), await loadOptions(binUrl));
    await flush();
  } catch (error) {
    if (error instanceof Errors.ExitError) process.exit(error.oclif.exit);

    const exit = (error as Errors.CLIError).oclif?.exit ?? ExitCode.unexpected;
    const message = oneLine(oclifErrorReason(error as Error)).replace(
      /^command (\S+) not found$/,
      (_, id: string) => `command "${id.replaceAll(':', ' ')}" not found`,
    );
    process.stderr.write(`flanctl: error: ${message}; hint: run flanctl --help\n`);
    process.exit(exit);
  }
}

/**
 * bin/run.js: oclif finds the commands through oclif.manifest.json, written by `npm run build`.
 * bin/dev.js runs the sources, which a manifest from the last build may not describe (a new
 * command or flag): there the commands are found by importing them, as without a manifest.
 */
async function loadOptions(binUrl: string): Promise<Interfaces.LoadOptions> {
  if (process.env.NODE_ENV !== 'development') return binUrl;

  const root = fileURLToPath(new URL('..', binUrl));
  const rootPlugin = new Plugin({ root, isRoot: true, ignoreManifest: true });
  await rootPlugin.load();
  const plugins = new Map([[rootPlugin.name, rootPlugin]]);
  for (const name of rootPlugin.pjson.oclif.plugins ?? []) {
    const plugin = new Plugin({ name, root, type: 'core' });
    await plugin.load();
    plugins.set(plugin.name, plugin);
  }

  return { root, plugins };
}

// `flanctl leases ls | head` closes the pipe early: that is the reader's choice, not an error.
function onOutputError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);

  process.stderr.write(`flanctl: error: cannot write the output: ${error.code ?? error.message}\n`);
  process.exit(ExitCode.unexpected);
}
