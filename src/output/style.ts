// Colour only for people: never in JSON, off a terminal, with NO_COLOR set, or on TERM=dumb.
// FORCE_COLOR=0 turns it off and any other FORCE_COLOR value on, as most tools agree.
// chalk 5 ignores NO_COLOR by itself, so the decision is made here.
import { Chalk, type ChalkInstance } from 'chalk';

export type Style = ChalkInstance;

export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  return new Chalk({ level: wantsColour(stream, env) ? 1 : 0 });
}

function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return !['0', 'false'].includes(env.FORCE_COLOR);
  return stream.isTTY === true && env.TERM !== 'dumb';
}
