// Connection settings: precedence, normalisation, refusals and what --debug may show.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { FlanctlError } from '../../../src/errors.js';
import {
  type ConnectionFlags,
  type ConnectionSettings,
  type Environment,
  type Resolved,
  type SettingName,
  DEFAULTS,
  describe as describeSource,
  describeSettings,
  resolveSettings,
} from '../../../src/etcd/settings.js';

const DURATION_HINT = 'expected a duration from 1ms to 1h, such as 500ms, 2s, 1.5s or 1m30s';
const ENDPOINTS_TYPO_WARNING =
  'FLANNEL_ETCD_ENDPOINTS is set but not read by flanctl: ' +
  'flanneld reads FLANNELD_ETCD_ENDPOINTS (with a D), so this is likely a typo, ' +
  'and a flanneld without it uses its default http://127.0.0.1:4001,http://127.0.0.1:2379, ' +
  'which may be another cluster than this one';

function usageFailure(flags: ConnectionFlags, env: Environment): string {
  let caught: unknown;
  try {
    resolveSettings(flags, env);
  } catch (error) {
    caught = error;
  }

  assert.ok(caught instanceof FlanctlError, 'expected a FlanctlError');
  assert.equal(caught.kind, 'usage');
  assert.equal(caught.exitCode, 2);
  return caught.message;
}

function resolvedOf(
  settings: ConnectionSettings,
  name: SettingName,
): Resolved<unknown> | undefined {
  switch (name) {
    case 'endpoints':
      return settings.endpoints;
    case 'prefix':
      return settings.prefix;
    case 'cacert':
      return settings.cacert;
    case 'cert':
      return settings.cert;
    case 'key':
      return settings.key;
    case 'user':
      return settings.user;
    case 'password':
      return settings.password;
    case 'dial-timeout':
      return settings.dialTimeoutMs;
    case 'command-timeout':
      return settings.commandTimeoutMs;
  }
}

interface Source {
  /** Where the value is set: 'flag' or an environment variable name. */
  readonly from: string;
  readonly text: string;
  readonly value: unknown;
}

interface PrecedenceCase {
  readonly name: SettingName;
  /** Highest first. */
  readonly sources: Source[];
  readonly fallback?: unknown;
}

const PRECEDENCE: PrecedenceCase[] = [
  {
    name: 'endpoints',
    sources: [
      { from: 'flag', text: 'http://flag.test:2379', value: ['http://flag.test:2379'] },
      {
        from: 'FLANCTL_ENDPOINTS',
        text: 'http://flanctl.test:2379',
        value: ['http://flanctl.test:2379'],
      },
      {
        from: 'ETCDCTL_ENDPOINTS',
        text: 'http://etcdctl.test:2379',
        value: ['http://etcdctl.test:2379'],
      },
      {
        from: 'FLANNELD_ETCD_ENDPOINTS',
        text: 'http://flanneld.test:2379',
        value: ['http://flanneld.test:2379'],
      },
    ],
    fallback: ['http://127.0.0.1:2379'],
  },
  {
    name: 'prefix',
    sources: [
      { from: 'flag', text: '/flag/network', value: '/flag/network' },
      { from: 'FLANCTL_PREFIX', text: '/flanctl/network', value: '/flanctl/network' },
      { from: 'FLANNELD_ETCD_PREFIX', text: '/flanneld/network', value: '/flanneld/network' },
    ],
    fallback: '/coreos.com/network',
  },
  ...(['cacert', 'cert', 'key'] as const).map((name): PrecedenceCase => {
    const flanneld = { cacert: 'CAFILE', cert: 'CERTFILE', key: 'KEYFILE' }[name];
    const upper = name.toUpperCase();
    return {
      name,
      sources: [
        { from: 'flag', text: `/flag/${name}.pem`, value: `/flag/${name}.pem` },
        { from: `FLANCTL_${upper}`, text: `/flanctl/${name}.pem`, value: `/flanctl/${name}.pem` },
        { from: `ETCDCTL_${upper}`, text: `/etcdctl/${name}.pem`, value: `/etcdctl/${name}.pem` },
        {
          from: `FLANNELD_ETCD_${flanneld}`,
          text: `/flanneld/${name}.pem`,
          value: `/flanneld/${name}.pem`,
        },
      ],
    };
  }),
  {
    name: 'user',
    sources: [
      { from: 'flag', text: 'flag-user', value: 'flag-user' },
      { from: 'FLANCTL_USER', text: 'flanctl-user', value: 'flanctl-user' },
      { from: 'ETCDCTL_USER', text: 'etcdctl-user', value: 'etcdctl-user' },
      { from: 'FLANNELD_ETCD_USERNAME', text: 'flanneld-user', value: 'flanneld-user' },
    ],
  },
  {
    name: 'password',
    sources: [
      { from: 'flag', text: 'flag-pw', value: 'flag-pw' },
      { from: 'FLANCTL_PASSWORD', text: 'flanctl-pw', value: 'flanctl-pw' },
      { from: 'ETCDCTL_PASSWORD', text: 'etcdctl-pw', value: 'etcdctl-pw' },
      { from: 'FLANNELD_ETCD_PASSWORD', text: 'flanneld-pw', value: 'flanneld-pw' },
    ],
  },
  {
    name: 'dial-timeout',
    sources: [
      { from: 'flag', text: '1s', value: 1000 },
      { from: 'FLANCTL_DIAL_TIMEOUT', text: '3s', value: 3000 },
      { from: 'ETCDCTL_DIAL_TIMEOUT', text: '4s', value: 4000 },
    ],
    fallback: 2000,
  },
  {
    name: 'command-timeout',
    sources: [
      { from: 'flag', text: '1m', value: 60_000 },
      { from: 'FLANCTL_COMMAND_TIMEOUT', text: '2m', value: 120_000 },
      { from: 'ETCDCTL_COMMAND_TIMEOUT', text: '1500ms', value: 1500 },
    ],
    fallback: 5000,
  },
];

function inputsFrom(name: SettingName, sources: readonly Source[]) {
  const flags: ConnectionFlags = {};
  const env: Environment = {};
  for (const source of sources) {
    if (source.from === 'flag') flags[name] = source.text;
    else env[source.from] = source.text;
  }

  return { flags, env };
}

describe('resolveSettings: flag > FLANCTL_* > ETCDCTL_* > FLANNELD_ETCD_* > default', () => {
  for (const { name, sources, fallback } of PRECEDENCE) {
    sources.forEach((winner, index) => {
      const label = winner.from === 'flag' ? 'the flag' : winner.from;
      test(`${name}: ${label} wins over every source below it`, () => {
        const { flags, env } = inputsFrom(name, sources.slice(index));
        const resolved = resolvedOf(resolveSettings(flags, env), name);
        const source = winner.from === 'flag' ? 'flag' : `env ${winner.from}`;
        assert.deepEqual(resolved, { value: winner.value, source });
      });
    });

    test(`${name}: ${fallback === undefined ? 'stays unset' : 'falls back to the default'}`, () => {
      const resolved = resolvedOf(resolveSettings({}, {}), name);
      const expected = fallback === undefined ? undefined : { value: fallback, source: 'default' };
      assert.deepEqual(resolved, expected);
    });
  }

  test('skips an environment variable that is set but empty', () => {
    const settings = resolveSettings(
      {},
      { FLANCTL_ENDPOINTS: '', ETCDCTL_ENDPOINTS: 'http://192.0.2.6:2379' },
    );
    assert.deepEqual(settings.endpoints, {
      value: ['http://192.0.2.6:2379'],
      source: 'env ETCDCTL_ENDPOINTS',
    });
  });

  test('documents its defaults', () => {
    assert.deepEqual(DEFAULTS, {
      endpoints: 'http://127.0.0.1:2379',
      prefix: '/coreos.com/network',
      'dial-timeout': '2s',
      'command-timeout': '5s',
    });
  });

  test('resolves the C21 environment as documented', () => {
    const settings = resolveSettings(
      {},
      {
        FLANNEL_ETCD_ENDPOINTS: 'https://192.0.2.5:2379',
        FLANNELD_ETCD_PREFIX: '/coreos.com/network',
        ETCDCTL_API: '3',
        ETCDCTL_ENDPOINTS: 'https://192.0.2.6:2379',
        ETCDCTL_CACERT: '/etc/ssl/etcd/ca.pem',
        ETCDCTL_CERT: '/etc/ssl/etcd/client.pem',
        ETCDCTL_KEY: '/etc/ssl/etcd/client-key.pem',
        FLANNELD_ETCD_USERNAME: 'flannel',
        FLANNELD_ETCD_PASSWORD: 'example-only-secret',
      },
    );
    assert.deepEqual(settings, {
      endpoints: { value: ['https://192.0.2.6:2379'], source: 'env ETCDCTL_ENDPOINTS' },
      prefix: { value: '/coreos.com/network', source: 'env FLANNELD_ETCD_PREFIX' },
      cacert: { value: '/etc/ssl/etcd/ca.pem', source: 'env ETCDCTL_CACERT' },
      cert: { value: '/etc/ssl/etcd/client.pem', source: 'env ETCDCTL_CERT' },
      key: { value: '/etc/ssl/etcd/client-key.pem', source: 'env ETCDCTL_KEY' },
      user: { value: 'flannel', source: 'env FLANNELD_ETCD_USERNAME' },
      password: { value: 'example-only-secret', source: 'env FLANNELD_ETCD_PASSWORD' },
      dialTimeoutMs: { value: 2000, source: 'default' },
      commandTimeoutMs: { value: 5000, source: 'default' },
      warnings: [ENDPOINTS_TYPO_WARNING],
    });
  });
});

describe('resolveSettings: user and password', () => {
  test('splits --user name:secret into user and password from the same source', () => {
    const settings = resolveSettings({ user: 'root:s3cret' }, {});
    assert.deepEqual(settings.user, { value: 'root', source: 'flag' });
    assert.deepEqual(settings.password, { value: 's3cret', source: 'flag' });
  });

  test('splits at the first colon only, so a password may hold colons', () => {
    const settings = resolveSettings({}, { ETCDCTL_USER: 'root:pa:ss' });
    assert.deepEqual(settings.user, { value: 'root', source: 'env ETCDCTL_USER' });
    assert.deepEqual(settings.password, { value: 'pa:ss', source: 'env ETCDCTL_USER' });
  });

  test('lets an explicit --password win over the one after the colon', () => {
    const settings = resolveSettings({ user: 'root:embedded', password: 'explicit' }, {});
    assert.deepEqual(settings.user, { value: 'root', source: 'flag' });
    assert.deepEqual(settings.password, { value: 'explicit', source: 'flag' });
  });

  test('lets an explicit password variable win over the one after the colon', () => {
    const settings = resolveSettings({ user: 'root:embedded' }, { ETCDCTL_PASSWORD: 'from-env' });
    assert.deepEqual(settings.password, { value: 'from-env', source: 'env ETCDCTL_PASSWORD' });
  });

  test('takes no password from a lower source when the winning user has none', () => {
    const settings = resolveSettings({ user: 'root' }, { ETCDCTL_USER: 'other:secret' });
    assert.deepEqual(settings.user, { value: 'root', source: 'flag' });
    assert.equal(settings.password, undefined);
  });

  test('keeps a password given without a user', () => {
    const settings = resolveSettings({ password: 'lonely' }, {});
    assert.equal(settings.user, undefined);
    assert.deepEqual(settings.password, { value: 'lonely', source: 'flag' });
  });
});

describe('resolveSettings: prefix', () => {
  const accepted: Array<[string, string]> = [
    ['/coreos.com/network', '/coreos.com/network'],
    ['/kube-centos/network/', '/kube-centos/network'],
    ['/kube-centos/network///', '/kube-centos/network'],
    [' /kube-centos/network ', '/kube-centos/network'],
    ['/flannel', '/flannel'],
  ];
  for (const [typed, expected] of accepted) {
    test(`normalises ${JSON.stringify(typed)} to ${expected}`, () => {
      assert.equal(resolveSettings({ prefix: typed }, {}).prefix.value, expected);
    });
  }

  test('refuses a relative prefix and suggests the absolute one', () => {
    assert.equal(
      usageFailure({ prefix: 'kube-centos/network' }, {}),
      'prefix "kube-centos/network" from the flag must start with /; ' +
        'did you mean /kube-centos/network?',
    );
  });

  test('suggests the absolute prefix without the trailing slash', () => {
    assert.equal(
      usageFailure({}, { FLANNELD_ETCD_PREFIX: 'kube-centos/network/' }),
      'prefix "kube-centos/network/" from FLANNELD_ETCD_PREFIX must start with /; ' +
        'did you mean /kube-centos/network?',
    );
  });

  for (const typed of ['/', '///', '/kube-centos//network']) {
    test(`refuses ${JSON.stringify(typed)}`, () => {
      assert.equal(
        usageFailure({ prefix: typed }, {}),
        `prefix ${JSON.stringify(typed)} from the flag is not valid; ` +
          'expected a key path such as /coreos.com/network',
      );
    });
  }
});

describe('resolveSettings: endpoints', () => {
  const accepted: Array<[string, string[]]> = [
    ['http://127.0.0.1:2379', ['http://127.0.0.1:2379']],
    ['https://etcd-0.example:2379', ['https://etcd-0.example:2379']],
    ['127.0.0.1:2379', ['http://127.0.0.1:2379']],
    ['etcd-0:2379,etcd-1:2379', ['http://etcd-0:2379', 'http://etcd-1:2379']],
    [' http://a.test:2379 , http://b.test:2379, ', ['http://a.test:2379', 'http://b.test:2379']],
    ['http://127.0.0.1:2379/', ['http://127.0.0.1:2379']],
    ['http://[::1]:2379', ['http://[::1]:2379']],
    ['[fc00::1]:2379', ['http://[fc00::1]:2379']],
    ['https://a.test:2379,https://b.test:2379', ['https://a.test:2379', 'https://b.test:2379']],
    ['http://127.0.0.1:65535', ['http://127.0.0.1:65535']],
  ];
  for (const [typed, expected] of accepted) {
    test(`reads ${JSON.stringify(typed)}`, () => {
      assert.deepEqual(resolveSettings({ endpoints: typed }, {}).endpoints.value, expected);
    });
  }

  const refused = [
    'ftp://127.0.0.1:2379',
    'http://127.0.0.1',
    'localhost',
    'http://127.0.0.1:0',
    'http://127.0.0.1:65536',
    'http://127.0.0.1:2379/v3',
    'http://etcd_0:2379',
    'unix:///run/etcd.sock',
  ];
  for (const typed of refused) {
    test(`refuses ${JSON.stringify(typed)}, naming it and its source`, () => {
      assert.equal(
        usageFailure({ endpoints: typed }, {}),
        `endpoint ${JSON.stringify(typed)} from the flag is not valid; ` +
          'expected http://HOST:PORT or https://HOST:PORT',
      );
    });
  }

  test('names the environment variable a bad endpoint came from', () => {
    assert.equal(
      usageFailure({}, { FLANNELD_ETCD_ENDPOINTS: 'etcd.example' }),
      'endpoint "etcd.example" from FLANNELD_ETCD_ENDPOINTS is not valid; ' +
        'expected http://HOST:PORT or https://HOST:PORT',
    );
  });

  const credentialed: Array<[string, string]> = [
    ['http://root:Zq8-secret@127.0.0.1:2379', 'http://***@127.0.0.1:2379'],
    ['https://root:p@ss/w0rd@etcd.test:2379', 'https://***@etcd.test:2379'],
    ['root:Zq8-secret@127.0.0.1:2379', '***@127.0.0.1:2379'],
  ];
  for (const [typed, shown] of credentialed) {
    test(`refuses an endpoint with credentials without echoing them: ${shown}`, () => {
      const message = usageFailure({ endpoints: typed }, {});
      assert.equal(
        message,
        `endpoint ${JSON.stringify(shown)} from the flag is not valid; ` +
          'expected http://HOST:PORT or https://HOST:PORT',
      );
    });
  }

  test('refuses a mix of http:// and https://', () => {
    assert.equal(
      usageFailure({ endpoints: 'http://a.test:2379,https://b.test:2379' }, {}),
      'endpoints http://a.test:2379,https://b.test:2379 mix http:// and https://; ' +
        'expected one scheme for all',
    );
  });

  test('treats a bare host:port as http:// when checking the mix', () => {
    assert.equal(
      usageFailure({ endpoints: 'a.test:2379,https://b.test:2379' }, {}),
      'endpoints http://a.test:2379,https://b.test:2379 mix http:// and https://; ' +
        'expected one scheme for all',
    );
  });

  test('refuses a list with no endpoint in it', () => {
    assert.equal(
      usageFailure({ endpoints: ' , ' }, {}),
      'no endpoint in the flag; expected e.g. http://127.0.0.1:2379',
    );
  });
});

describe('resolveSettings: timeouts', () => {
  test('reads Go-style durations in milliseconds', () => {
    const settings = resolveSettings({ 'dial-timeout': '500ms', 'command-timeout': '45m' }, {});
    assert.equal(settings.dialTimeoutMs.value, 500);
    assert.equal(settings.commandTimeoutMs.value, 2_700_000);
  });

  test('reads the fractions etcdctl users write, e.g. ETCDCTL_COMMAND_TIMEOUT=1.5s', () => {
    const settings = resolveSettings({}, { ETCDCTL_COMMAND_TIMEOUT: '1.5s' });
    assert.equal(settings.commandTimeoutMs.value, 1500);
  });

  // Beyond an hour is a typo; far beyond, Node's timers and gRPC deadlines overflow.
  const refused = ['5', '0s', '0ms', 'soon', '1d', '', '1h0m1s', '99999999999999999999h'];
  for (const typed of refused) {
    test(`refuses dial-timeout ${JSON.stringify(typed)}`, () => {
      assert.equal(
        usageFailure({ 'dial-timeout': typed }, {}),
        `dial-timeout ${JSON.stringify(typed)} from the flag is not valid; ${DURATION_HINT}`,
      );
    });
  }

  test('names the variable a bad command timeout came from', () => {
    assert.equal(
      usageFailure({}, { ETCDCTL_COMMAND_TIMEOUT: '30' }),
      `command-timeout "30" from ETCDCTL_COMMAND_TIMEOUT is not valid; ${DURATION_HINT}`,
    );
  });
});

describe('resolveSettings: warnings for variables nobody reads', () => {
  test('warns that FLANNEL_ETCD_ENDPOINTS (missing D) leaves flanneld on its defaults', () => {
    const settings = resolveSettings({}, { FLANNEL_ETCD_ENDPOINTS: 'https://192.0.2.5:2379' });
    assert.deepEqual(settings.warnings, [ENDPOINTS_TYPO_WARNING]);
  });

  test('warns about any other FLANNEL_ETCD_* (missing D) as a likely typo', () => {
    const settings = resolveSettings({}, { FLANNEL_ETCD_PREFIX: '/kube-centos/network' });
    assert.deepEqual(settings.warnings, [
      'FLANNEL_ETCD_PREFIX is set but not read by flanctl: ' +
        'flanneld reads FLANNELD_ETCD_* (with a D); this is likely a typo',
    ]);
  });

  test('warns about every etcdctl v2-era name, sorted (C21)', () => {
    const settings = resolveSettings(
      {},
      {
        ETCDCTL_PEERS: 'https://192.0.2.6:2379',
        ETCDCTL_CA_FILE: '/etc/ssl/etcd/ca.pem',
        ETCDCTL_CERT_FILE: '/etc/ssl/etcd/client.pem',
        ETCDCTL_KEY_FILE: '/etc/ssl/etcd/client-key.pem',
        ETCDCTL_USERNAME: 'flannel',
        ETCDCTL_ENDPOINT: 'https://192.0.2.6:2379',
      },
    );
    const suffix = 'is set but not read by flanctl: an etcdctl v2-era name';
    assert.deepEqual(settings.warnings, [
      `ETCDCTL_CA_FILE ${suffix}`,
      `ETCDCTL_CERT_FILE ${suffix}`,
      `ETCDCTL_ENDPOINT ${suffix}`,
      `ETCDCTL_KEY_FILE ${suffix}`,
      `ETCDCTL_PEERS ${suffix}`,
      `ETCDCTL_USERNAME ${suffix}`,
    ]);
  });

  test('does not pretend v2-era names were used: the endpoint stays the default', () => {
    const settings = resolveSettings({}, { ETCDCTL_PEERS: 'https://192.0.2.6:2379' });
    assert.deepEqual(settings.endpoints, { value: ['http://127.0.0.1:2379'], source: 'default' });
  });

  test('says nothing about ETCDCTL_API, the v3 names or FLANNELD_ETCD_*', () => {
    const settings = resolveSettings(
      {},
      {
        ETCDCTL_API: '3',
        ETCDCTL_ENDPOINTS: 'http://192.0.2.6:2379',
        ETCDCTL_DIAL_TIMEOUT: '3s',
        FLANNELD_ETCD_PREFIX: '/coreos.com/network',
        PATH: '/usr/bin',
      },
    );
    assert.deepEqual(settings.warnings, []);
  });

  test('ignores a lookalike variable that is set but empty', () => {
    assert.deepEqual(resolveSettings({}, { FLANNEL_ETCD_PREFIX: '' }).warnings, []);
  });
});

describe('describeSettings', () => {
  test('prints every setting with its source, or that it is not set', () => {
    assert.deepEqual(describeSettings(resolveSettings({}, {})), [
      'endpoints=http://127.0.0.1:2379 (from default)',
      'prefix=/coreos.com/network (from default)',
      'cacert not set',
      'cert not set',
      'key not set',
      'user not set',
      'password not set',
      'dial-timeout=2000ms (from default)',
      'command-timeout=5000ms (from default)',
    ]);
  });

  test('names flags and variables as sources', () => {
    const settings = resolveSettings(
      { endpoints: 'a.test:2379,b.test:2379', cacert: '/ca.pem' },
      { FLANNELD_ETCD_USERNAME: 'flannel', FLANNELD_ETCD_PASSWORD: 'x' },
    );
    assert.deepEqual(describeSettings(settings), [
      'endpoints=http://a.test:2379,http://b.test:2379 (from the flag)',
      'prefix=/coreos.com/network (from default)',
      'cacert=/ca.pem (from the flag)',
      'cert not set',
      'key not set',
      'user=flannel (from FLANNELD_ETCD_USERNAME)',
      'password=(set) (from FLANNELD_ETCD_PASSWORD)',
      'dial-timeout=2000ms (from default)',
      'command-timeout=5000ms (from default)',
    ]);
  });

  const SECRET = 'Zq8-distinctive-secret-41';
  const secretInputs: Array<[string, ConnectionFlags, Environment]> = [
    ['--password', { user: 'root', password: SECRET }, {}],
    ['--user name:secret', { user: `root:${SECRET}` }, {}],
    ['FLANCTL_PASSWORD', {}, { FLANCTL_USER: 'root', FLANCTL_PASSWORD: SECRET }],
    ['ETCDCTL_USER name:secret', {}, { ETCDCTL_USER: `root:${SECRET}` }],
    ['FLANNELD_ETCD_PASSWORD', {}, { FLANNELD_ETCD_USERNAME: 'u', FLANNELD_ETCD_PASSWORD: SECRET }],
  ];
  for (const [what, flags, env] of secretInputs) {
    test(`never shows a password given by ${what}`, () => {
      const settings = resolveSettings(flags, env);
      assert.ok(settings.password);
      assert.equal(settings.password.value, SECRET);

      const lines = describeSettings(settings);
      const source = describeSource(settings.password.source);
      assert.ok(lines.includes(`password=(set) (from ${source})`));
      for (const line of lines) assert.ok(!line.includes(SECRET), line);
      assert.ok(!settings.warnings.some((warning) => warning.includes(SECRET)));
    });
  }
});

describe('describe', () => {
  test('names a source the way messages print it', () => {
    assert.equal(describeSource('flag'), 'the flag');
    assert.equal(describeSource('default'), 'default');
    assert.equal(describeSource('env ETCDCTL_ENDPOINTS'), 'ETCDCTL_ENDPOINTS');
  });
});
