// Where each connection setting comes from. Highest first: flag, FLANCTL_*, ETCDCTL_* (v3 names),
// FLANNELD_ETCD_* (what flanneld itself reads), default. Pure: the caller passes flags and env.
import { parseDurationMs } from '../domain/duration.js';
import { usageError } from '../errors.js';

export type SettingName =
  | 'endpoints'
  | 'prefix'
  | 'cacert'
  | 'cert'
  | 'key'
  | 'user'
  | 'password'
  | 'dial-timeout'
  | 'command-timeout';

/** Environment variable names per setting, in precedence order. */
const ENV_SOURCES: Record<SettingName, string[]> = {
  endpoints: ['FLANCTL_ENDPOINTS', 'ETCDCTL_ENDPOINTS', 'FLANNELD_ETCD_ENDPOINTS'],
  prefix: ['FLANCTL_PREFIX', 'FLANNELD_ETCD_PREFIX'],
  cacert: ['FLANCTL_CACERT', 'ETCDCTL_CACERT', 'FLANNELD_ETCD_CAFILE'],
  cert: ['FLANCTL_CERT', 'ETCDCTL_CERT', 'FLANNELD_ETCD_CERTFILE'],
  key: ['FLANCTL_KEY', 'ETCDCTL_KEY', 'FLANNELD_ETCD_KEYFILE'],
  user: ['FLANCTL_USER', 'ETCDCTL_USER', 'FLANNELD_ETCD_USERNAME'],
  password: ['FLANCTL_PASSWORD', 'ETCDCTL_PASSWORD', 'FLANNELD_ETCD_PASSWORD'],
  'dial-timeout': ['FLANCTL_DIAL_TIMEOUT', 'ETCDCTL_DIAL_TIMEOUT'],
  'command-timeout': ['FLANCTL_COMMAND_TIMEOUT', 'ETCDCTL_COMMAND_TIMEOUT'],
};

export const DEFAULTS = {
  endpoints: 'http://127.0.0.1:2379',
  prefix: '/coreos.com/network',
  'dial-timeout': '2s',
  'command-timeout': '5s',
} as const;

// Names that look like connection settings but that neither flanctl nor flanneld reads.
const UNREAD_VARIABLES: Array<[RegExp, string]> = [
  [
    /^FLANNEL_ETCD_ENDPOINTS$/,
    'flanneld reads FLANNELD_ETCD_ENDPOINTS (with a D), so this is likely a typo, and a flanneld ' +
      'without it uses its default http://127.0.0.1:4001,http://127.0.0.1:2379, which may be ' +
      'another cluster than this one',
  ],
  [/^FLANNEL_ETCD_/, 'flanneld reads FLANNELD_ETCD_* (with a D); this is likely a typo'],
  [/^ETCDCTL_(PEERS|ENDPOINT|CA_FILE|CERT_FILE|KEY_FILE|USERNAME)$/, 'an etcdctl v2-era name'],
];

export type SettingSource = 'flag' | 'default' | `env ${string}` | 'user flag';

export interface Resolved<T> {
  readonly value: T;
  readonly source: SettingSource;
}

export interface ConnectionSettings {
  readonly endpoints: Resolved<string[]>;
  readonly prefix: Resolved<string>;
  readonly cacert?: Resolved<string>;
  readonly cert?: Resolved<string>;
  readonly key?: Resolved<string>;
  readonly user?: Resolved<string>;
  readonly password?: Resolved<string>;
  readonly dialTimeoutMs: Resolved<number>;
  readonly commandTimeoutMs: Resolved<number>;
  /** One line each: variables that look like settings but are not read. */
  readonly warnings: string[];
}

export type ConnectionFlags = Partial<Record<SettingName, string>>;
export type Environment = Record<string, string | undefined>;

export function resolveSettings(flags: ConnectionFlags, env: Environment): ConnectionSettings {
  const pick = (name: SettingName): Resolved<string> | undefined => {
    const flagValue = flags[name];
    if (flagValue !== undefined) return { value: flagValue, source: 'flag' };

    for (const variable of ENV_SOURCES[name]) {
      const value = env[variable];
      if (value !== undefined && value !== '') return { value, source: `env ${variable}` };
    }

    return undefined;
  };
  const withDefault = (name: keyof typeof DEFAULTS): Resolved<string> =>
    pick(name) ?? { value: DEFAULTS[name], source: 'default' };

  const endpoints = withDefault('endpoints');
  const prefix = withDefault('prefix');
  const dial = withDefault('dial-timeout');
  const command = withDefault('command-timeout');
  const { user, password } = splitUser(pick('user'), pick('password'));

  return {
    endpoints: { value: parseEndpoints(endpoints), source: endpoints.source },
    prefix: { value: normalisePrefix(prefix), source: prefix.source },
    cacert: pick('cacert'),
    cert: pick('cert'),
    key: pick('key'),
    user,
    password,
    dialTimeoutMs: { value: parseTimeout('dial-timeout', dial), source: dial.source },
    commandTimeoutMs: { value: parseTimeout('command-timeout', command), source: command.source },
    warnings: [...unreadVariableWarnings(env), ...passwordWithoutUser(user, password)],
  };
}

function passwordWithoutUser(user?: Resolved<string>, password?: Resolved<string>): string[] {
  if (user || !password) return [];
  return [`a password is set (from ${describe(password.source)}) but no user; it is not used`];
}

// etcdctl accepts `--user name:password`; an explicit password setting wins over the suffix.
function splitUser(user?: Resolved<string>, password?: Resolved<string>) {
  if (!user) return { user: undefined, password };

  const colon = user.value.indexOf(':');
  const name = { value: colon < 0 ? user.value : user.value.slice(0, colon), source: user.source };
  if (name.value === '') {
    throw usageError(
      `the user from ${describe(user.source)} has an empty name; expected name or name:password`,
    );
  }

  if (colon < 0) return { user: name, password };

  const embedded = { value: user.value.slice(colon + 1), source: user.source };
  return { user: name, password: password ?? embedded };
}

const ENDPOINT = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/;
const BARE_ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function parseEndpoints(setting: Resolved<string>): string[] {
  const endpoints = setting.value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => normaliseEndpoint(part, setting.source));
  if (endpoints.length === 0) {
    throw usageError(
      `no endpoint in ${describe(setting.source)}; expected e.g. ${DEFAULTS.endpoints}`,
    );
  }

  const schemes = new Set(endpoints.map((endpoint) => endpoint.split(':')[0]));
  if (schemes.size > 1) {
    throw usageError(
      `endpoints ${endpoints.join(',')} mix http:// and https://; expected one scheme for all`,
    );
  }

  return endpoints;
}

function normaliseEndpoint(text: string, source: SettingSource): string {
  const bare = BARE_ENDPOINT.exec(text);
  const candidate = bare ? `http://${text}` : text;
  const match = ENDPOINT.exec(candidate);
  const port = match ? Number(match[3]) : 0;
  if (!match || port < 1 || port > 65535) {
    // Credentials in a URL (`http://root:secret@host:2379`) must not reach the message.
    const shown = text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/, '$1***@');
    throw usageError(
      `endpoint ${JSON.stringify(shown)} from ${describe(source)} is not valid; ` +
        'expected http://HOST:PORT or https://HOST:PORT',
    );
  }

  return `${match[1]}://${match[2]}:${port}`;
}

/** `/kube-centos/network/` -> `/kube-centos/network`; a relative prefix is refused. */
function normalisePrefix(setting: Resolved<string>): string {
  const text = setting.value.trim();
  const trimmed = text.replace(/\/+$/, '');
  if (!text.startsWith('/')) {
    throw usageError(
      `prefix ${JSON.stringify(text)} from ${describe(setting.source)} must start with /` +
        `; did you mean /${trimmed}?`,
    );
  }

  if (trimmed === '' || trimmed.includes('//')) {
    throw usageError(
      `prefix ${JSON.stringify(text)} from ${describe(setting.source)} is not valid; ` +
        `expected a key path such as ${DEFAULTS.prefix}`,
    );
  }

  return trimmed;
}

// Longer waits are a typo, and past ~24.8 days Node's timers and gRPC deadlines overflow.
const MAX_TIMEOUT_MS = 3_600_000;

function parseTimeout(name: SettingName, setting: Resolved<string>): number {
  const ms = parseDurationMs(setting.value);
  if (ms === undefined || ms < 1 || ms > MAX_TIMEOUT_MS) {
    throw usageError(
      `${name} ${JSON.stringify(setting.value)} from ${describe(setting.source)} is not valid; ` +
        'expected a duration from 1ms to 1h, such as 500ms, 2s, 1.5s or 1m30s',
    );
  }

  return Math.round(ms);
}

function unreadVariableWarnings(env: Environment): string[] {
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    const rule = UNREAD_VARIABLES.find(([pattern]) => pattern.test(name));
    if (rule && env[name]) warnings.push(`${name} is set but not read by flanctl: ${rule[1]}`);
  }

  return warnings;
}

export function describe(source: SettingSource): string {
  return source.startsWith('env ') ? source.slice(4) : source === 'flag' ? 'the flag' : source;
}

/** `--debug` lines: every setting with its source; the password only as "(set)". */
export function describeSettings(settings: ConnectionSettings): string[] {
  const line = (name: string, resolved: Resolved<unknown> | undefined, shown?: string) =>
    resolved
      ? `${name}=${shown ?? String(resolved.value)} (from ${describe(resolved.source)})`
      : `${name} not set`;

  return [
    line('endpoints', settings.endpoints, settings.endpoints.value.join(',')),
    line('prefix', settings.prefix),
    line('cacert', settings.cacert),
    line('cert', settings.cert),
    line('key', settings.key),
    line('user', settings.user),
    line('password', settings.password, '(set)'),
    line('dial-timeout', settings.dialTimeoutMs, `${settings.dialTimeoutMs.value}ms`),
    line('command-timeout', settings.commandTimeoutMs, `${settings.commandTimeoutMs.value}ms`),
  ];
}
