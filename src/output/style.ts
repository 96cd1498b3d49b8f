// Colour only for people: never in JSON, off a terminal, with NO_COLOR set, or on TERM=dumb.
// chalk 5 ignores NO_COLOR by itself, so the decision is made here.
import { Chalk, type ChalkInstance } from 'chalk';

export type Style = ChalkInstance;

export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const colour = !noColor && stream.isTTY === true && env.TERM !== 'dumb';
  return new Chalk({ level: colour ? 1 : 0 });
}
