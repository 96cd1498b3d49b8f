// Operators put global flags anywhere, as with kubectl and etcdctl (`flanctl --prefix
// /kube-centos/network leases ls`, `flanctl leases --endpoints X ls`). oclif only reads flags
// after the full command id, so the launcher moves connection flags to the end, where any
// command accepts them. Flag order does not matter to oclif, so this changes no meaning.

/** Connection flags that take a value; must match FlanctlCommand.baseFlags. */
export const GLOBAL_VALUE_FLAGS = [
  'endpoints',
  'prefix',
  'cacert',
  'cert',
  'key',
  'user',
  'password',
  'dial-timeout',
  'command-timeout',
] as const;

export const GLOBAL_BOOLEAN_FLAGS = ['debug'] as const;

export function hoistGlobalFlags(argv: readonly string[]): string[] {
  const kept: string[] = [];
  const hoisted: string[] = [];

  for (let index = 0; index < argv.length; index++) {
    const token = argv[index];
    if (token === '--') {
      kept.push(...argv.slice(index));
      break;
    }

    const [name, inlineValue] = splitFlag(token);
    if ((GLOBAL_BOOLEAN_FLAGS as readonly string[]).includes(name)) {
      hoisted.push(token);
    } else if ((GLOBAL_VALUE_FLAGS as readonly string[]).includes(name)) {
      hoisted.push(token);
      if (inlineValue === undefined && index + 1 < argv.length) hoisted.push(argv[++index]);
    } else {
      kept.push(token);
    }
  }

  // `flanctl help leases ls --endpoints X`: help takes no connection flags and needs none.
  return kept[0] === 'help' ? kept : [...kept, ...hoisted];
}

function splitFlag(token: string): [string, string | undefined] {
  if (!token.startsWith('--')) return ['', undefined];

  const equals = token.indexOf('=');
  return equals < 0
    ? [token.slice(2), undefined]
    : [token.slice(2, equals), token.slice(equals + 1)];
}
