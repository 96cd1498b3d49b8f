#!/usr/bin/env node
// What any oclif 4 CLI pays to start: the same @oclif/core as flanctl (resolved from the repo's
// node_modules), one command, no plugins, no manifest, started the way bin/run.js starts flanctl.
import { flush, run } from '@oclif/core';

await run(process.argv.slice(2), import.meta.url);
await flush();
