// Garbage-collector settings for the whole process, set by bin/run.js before anything loads.
import v8 from 'node:v8';

/**
 * Listing 65,536 leases makes 65,536 HTTP/2 requests, and each leaves a few KB of Node's stream
 * objects that only a full collection frees: native handles keep them alive through the quick
 * young-generation collections. V8 by default lets the old generation grow to about four times
 * its live size before the next full collection; held to twice, a 65,536-lease listing peaked
 * at 210 MB instead of 292 MB for 4% more CPU (README, Design, Performance). V8 reads this
 * number at every full collection, so setting it at run time takes effect.
 */
export function keepHeapSmall(): void {
  v8.setFlagsFromString('--heap-growing-percent=100');
}
