// Writes oclif.manifest.json for the compiled commands in dist/; `npm run build` runs it after
// tsc. With the manifest oclif finds a command's id, flags and help in one file and imports only
// the command that runs, instead of every command module (and all they import) at each start.
//
// It does what `oclif manifest` of the oclif dev CLI does, through @oclif/core's own Plugin
// class: that CLI would add a large dev dependency for one file. Plain JavaScript, so it runs
// before anything else is compiled.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Plugin } from '@oclif/core';

// In development oclif maps dist/ to src/, and the manifest must name the compiled files.
delete process.env.NODE_ENV;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const plugin = new Plugin({
  root,
  isRoot: true,
  type: 'core',
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
});
await plugin.load();

const commands = Object.keys(plugin.manifest.commands);
if (commands.length === 0) throw new Error('oclif-manifest: no commands found in dist/commands');

writeFileSync(path.join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest)}\n`);
