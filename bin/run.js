#!/usr/bin/env node
import { execute } from '@oclif/core';

import { hoistGlobalFlags } from '../dist/argv.js';

// gRPC sets the TLS server name to the endpoint's IP address, for which Node prints a
// deprecation warning (DEP0123) on every https run; stderr is for the operator's messages.
process.noDeprecation = true;

await execute({ args: hoistGlobalFlags(process.argv.slice(2)), dir: import.meta.url });
