#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly, without a build (tsx is a dev dependency).
import { execute } from '@oclif/core';

import { hoistGlobalFlags } from '../src/argv.ts';

await execute({
  args: hoistGlobalFlags(process.argv.slice(2)),
  development: true,
  dir: import.meta.url,
});
