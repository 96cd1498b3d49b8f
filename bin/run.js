#!/usr/bin/env node
// Heap settings first: they apply only to a heap that has not grown yet (src/heap.ts).
import { keepHeapSmall } from '../dist/heap.js';

keepHeapSmall();
const { main } = await import('../dist/launcher.js');
await main(process.argv.slice(2), import.meta.url);
