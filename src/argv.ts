// Operators type global flags before the command, as with kubectl and etcdctl
// (`flanctl --prefix /kube-centos/network leases ls`). oclif only reads flags after the command
// id, so the launcher moves leading connection flags behind it.

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
  const rest = [...argv];
  const leading: string[] = [];

  while (rest.length > 0 && rest[0].startsWith('--')) {
    const [name, inlineValue] = splitFlag(rest[0]);
    const takesValue = (GLOBAL_VALUE_FLAGS as readonly string[]).includes(name);
    const isSwitch = (GLOBAL_BOOLEAN_FLAGS as readonly string[]).includes(name);
    if (!takesValue && !isSwitch) break;

    leading.push(rest.shift() as string);
    if (takesValue && inlineValue === undefined && rest.length > 0) {
      leading.push(rest.shift() as string);
    }
  }

  return [...rest, ...leading];
}

function splitFlag(token: string): [string, string | undefined] {
  const equals = token.indexOf('=');
  return equals < 0
    ? [token.slice(2), undefined]
    : [token.slice(2, equals), token.slice(equals + 1)];
}
