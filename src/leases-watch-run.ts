// The `leases ls --watch` part that runs after the first listing: follow the changes and print
// them. Loaded only with --watch, so a plain listing does not pay for importing it.
import { type LeaseFilter, filterLeases } from './domain/lease-filter.js';
import type { LeaseEntry } from './domain/lease-entry.js';
import {
  type WatchLineOptions,
  changeText,
  noteText,
  problemText,
  resyncText,
} from './output/views/lease-watch.js';
import type { RegistryBackend } from './registry/backend.js';
import {
  type FollowOptions,
  type LeaseChange,
  type WatchOutput,
  followLeases,
} from './registry/lease-watch.js';
import type { NetworkState } from './registry/network.js';

export { renderWatchStart } from './output/views/lease-watch.js';

export interface WatchPrinter {
  writeOut(text: string): void;
  infoLine(text: string): void;
}

/** Prints every change after the listing `state` until `options.signal` aborts. */
export async function followAndPrint(
  backend: RegistryBackend,
  state: NetworkState,
  options: FollowOptions,
  view: { filter: LeaseFilter; lines: WatchLineOptions },
  printer: WatchPrinter,
): Promise<void> {
  await followLeases(backend, state, options, (output) => show(output, view, printer));
}

function show(
  output: WatchOutput,
  { filter, lines }: { filter: LeaseFilter; lines: WatchLineOptions },
  printer: WatchPrinter,
): void {
  switch (output.kind) {
    case 'change':
      if (changeMatches(output.change, filter)) printer.writeOut(changeText(output.change, lines));
      break;
    case 'problem': {
      const { revision, timeMs } = output;
      const text = problemText(output, revision, timeMs, lines.format);
      if (text.note !== undefined) printer.infoLine(text.note);
      if (text.stdout !== undefined) printer.writeOut(text.stdout);
      break;
    }
    case 'resync':
      printer.writeOut(
        resyncText(output.compactRevision, output.state.revision, output.timeMs, lines),
      );
      break;
    case 'note':
      printer.infoLine(noteText(output.note, Date.now()));
      break;
  }
}

/** A change shows when the key matches the filters before or after it. */
function changeMatches(change: LeaseChange, filter: LeaseFilter): boolean {
  const states: LeaseEntry[] = change.previous ? [change.entry, change.previous] : [change.entry];
  return filterLeases(states, filter).length > 0;
}
