#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly, without a build (tsx is a dev dependency).
// In development mode oclif maps ./dist/commands back to src/commands through tsconfig.json.
process.env.NODE_ENV = 'development';

const { keepHeapSmall } = await import('../src/heap.ts');
keepHeapSmall();
const { main } = await import('../src/launcher.ts');
await main(process.argv.slice(2), import.meta.url);
