// subnet.env as its two readers see it (the flannel CNI plugin and flanneld's dotenv reader):
// syntax, the values each key must hold, the comparison with etcd, and the file `env render`
// writes. Small inline files; each finding's severity, line, key, reader and, where the text is
// what an operator reads, the exact message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type Cidr, formatCidr, parseCidr } from '../../../src/domain/cidr.js';
import { type NetworkConfig, parseNetworkConfig } from '../../../src/domain/network-config.js';
import {
  type EnvCheckOptions,
  type EnvFinding,
  type EtcdView,
  type HeldLease,
  checkSubnetEnv,
  crossCheckWithEtcd,
  declaredSubnets,
  defaultMtu,
  readSubnetEnv,
  renderSubnetEnv,
} from '../../../src/domain/subnet-env.js';

const NETWORK = 'FLANNEL_NETWORK=10.5.0.0/16';
const SUBNET = 'FLANNEL_SUBNET=10.5.31.1/24';
const MTU = 'FLANNEL_MTU=1450';
const IPMASQ = 'FLANNEL_IPMASQ=false';
const NOT_CHECKED = 'FLANNEL_MTU not checked against a backend (give --backend or --etcd)';

/** A file from lines, each ended by `\n` (or `eol`). */
function file(lines: string[], eol = '\n'): string {
  return lines.map((line) => `${line}${eol}`).join('');
}

/** A valid IPv4 file with `line` in place of the line for the same key (or added at the end). */
function v4With(...replacements: string[]): string {
  const lines = [NETWORK, SUBNET, MTU, IPMASQ];
  for (const replacement of replacements) {
    // The key the line sets, as flanneld reads it (`export` and spaces left out).
    const key = replacement
      .split('=')[0]
      .replace(/^\s*export\s+/, '')
      .trim();
    const index = lines.findIndex((line) => line.split('=')[0] === key);
    if (index >= 0) lines[index] = replacement;
    else lines.push(replacement);
  }
  return file(lines);
}

function allFindings(text: string, options: EnvCheckOptions = {}): EnvFinding[] {
  const env = readSubnetEnv(text);
  return [...env.findings, ...checkSubnetEnv(env, options)];
}

/** Errors and warnings only: the info that the MTU was not checked is left out. */
function problems(findings: EnvFinding[]): EnvFinding[] {
  return findings.filter((item) => item.severity !== 'info');
}

function describeAll(findings: EnvFinding[]): string {
  return JSON.stringify(findings, null, 1);
}

function only(findings: EnvFinding[], what: string): EnvFinding {
  assert.equal(findings.length, 1, `one ${what} expected: ${describeAll(findings)}`);
  return findings[0];
}

function onlyProblem(text: string, options: EnvCheckOptions = {}): EnvFinding {
  return only(problems(allFindings(text, options)), 'error or warning');
}

function withMessage(findings: EnvFinding[], pattern: RegExp): EnvFinding {
  const found = findings.filter((item) => pattern.test(item.message));
  return only(found, `finding matching ${pattern}`);
}

function assertClean(text: string, options: EnvCheckOptions = {}): void {
  const found = problems(allFindings(text, options));
  assert.deepEqual(found, [], `no error or warning expected: ${describeAll(found)}`);
}

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed, `test setup: ${text} should parse`);
  return parsed;
}

function config(text: string): NetworkConfig {
  const parsed = parseNetworkConfig(text);
  assert.deepEqual(parsed.problems, [], `test setup: ${text} should be accepted`);
  assert.ok(parsed.config);
  return parsed.config;
}

function lease(
  ipv4: string,
  publicIP: string,
  type: HeldLease['type'] = 'lease',
  ipv6?: string,
): HeldLease {
  return { ipv4: cidr(ipv4), ipv6: ipv6 === undefined ? undefined : cidr(ipv6), publicIP, type };
}

const CONFIG_KEY = '/t/coreos.com/network/config';
const VXLAN_10_5 = '{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}';
const DUAL_10_5 =
  '{"Network":"10.5.0.0/16","EnableIPv6":true,"IPv6Network":"fc00::/48","Backend":{"Type":"vxlan"}}';

function view(configText: string | undefined, leases: HeldLease[], publicIP?: string): EtcdView {
  return {
    configKey: CONFIG_KEY,
    config: configText === undefined ? undefined : config(configText),
    leases,
    publicIP,
  };
}

function crossCheck(text: string, etcd: EtcdView): EnvFinding[] {
  return crossCheckWithEtcd(readSubnetEnv(text), etcd);
}

describe('readSubnetEnv: what each reader reads', () => {
  test('a file as flanneld writes it has no findings and both readers see the same values', () => {
    const env = readSubnetEnv(file([NETWORK, SUBNET, MTU, IPMASQ]));

    assert.deepEqual(env.findings, []);
    const expected = [
      ['FLANNEL_NETWORK', { value: '10.5.0.0/16', line: 1 }],
      ['FLANNEL_SUBNET', { value: '10.5.31.1/24', line: 2 }],
      ['FLANNEL_MTU', { value: '1450', line: 3 }],
      ['FLANNEL_IPMASQ', { value: 'false', line: 4 }],
    ];
    assert.deepEqual([...env.flanneld], expected);
    assert.deepEqual([...env.cni], expected);
  });

  test('a last line without a line end is read like the others', () => {
    const env = readSubnetEnv(`${NETWORK}\n${SUBNET}\n${MTU}\n${IPMASQ}`);

    assert.deepEqual(env.findings, []);
    assert.deepEqual(env.flanneld.get('FLANNEL_IPMASQ'), { value: 'false', line: 4 });
  });

  test('comments, indented comments, commented-out keys and blank lines are fine', () => {
    const text = file([
      '# written by hand',
      '',
      NETWORK,
      '   # FLANNEL_MTU=9000 was too big',
      '   ',
      SUBNET,
      MTU,
      '',
      IPMASQ,
    ]);
    const env = readSubnetEnv(text);

    assert.deepEqual(env.findings, []);
    assert.deepEqual(problems(checkSubnetEnv(env)), []);
    // Line numbers count every line of the file, comments and blank ones included.
    assert.deepEqual(env.flanneld.get('FLANNEL_NETWORK'), { value: '10.5.0.0/16', line: 3 });
    assert.deepEqual(env.flanneld.get('FLANNEL_MTU'), { value: '1450', line: 7 });
    assert.deepEqual(env.flanneld.get('FLANNEL_IPMASQ'), { value: 'false', line: 9 });
    assert.equal(env.flanneld.size, 4);
  });

  test('CRLF line ends: one CNI error naming every line, with \\r written as an escape', () => {
    const env = readSubnetEnv(file([NETWORK, SUBNET, MTU, IPMASQ], '\r\n'));
    const crlf = only(env.findings, 'finding');

    assert.deepEqual(crlf, {
      severity: 'error',
      line: 1,
      key: null,
      value: null,
      reader: 'cni',
      message:
        'CRLF line ends (\\r\\n) on lines 1-4: the CNI plugin keeps the \\r in each value, so ' +
        'CIDRs and the MTU fail to parse',
    });
    assert.ok(!crlf.message.includes('\r'), 'the raw carriage return is printed');
    // flanneld's dotenv reader drops the \r.
    assert.equal(env.flanneld.get('FLANNEL_MTU')?.value, '1450');
  });

  test('CRLF on some lines only names those lines', () => {
    const env = readSubnetEnv(`${NETWORK}\r\n${SUBNET}\n${MTU}\r\n${IPMASQ}\n`);
    const crlf = only(env.findings, 'finding');

    assert.equal(crlf.line, 1);
    assert.equal(crlf.reader, 'cni');
    assert.match(crlf.message, /^CRLF line ends \(\\r\\n\) on lines 1, 3:/);
  });

  test('CRLF on one line names that line', () => {
    const env = readSubnetEnv(`${NETWORK}\n${SUBNET}\n${MTU}\r\n${IPMASQ}\n`);
    const crlf = only(env.findings, 'finding');

    assert.equal(crlf.line, 3);
    assert.match(crlf.message, /^CRLF line ends \(\\r\\n\) on line 3:/);
  });

  test('the cni view keeps what the CNI plugin reads: the \\r of a CRLF line stays in the value', () => {
    // SubnetEnv.cni is documented as "the raw text after the first `=`".
    const env = readSubnetEnv(file([NETWORK, SUBNET, MTU, IPMASQ], '\r\n'));

    assert.equal(env.cni.get('FLANNEL_MTU')?.value, '1450\r');
    assert.equal(env.flanneld.get('FLANNEL_MTU')?.value, '1450');
  });

  test('a UTF-8 BOM: a CNI error on line 1 naming U+FEFF, shown as a name and not raw', () => {
    const env = readSubnetEnv(`\uFEFF${file([NETWORK, SUBNET, MTU, IPMASQ])}`);
    const bom = only(env.findings, 'finding');

    assert.deepEqual(bom, {
      severity: 'error',
      line: 1,
      key: null,
      value: null,
      reader: 'cni',
      message:
        'the file starts with a byte-order mark (U+FEFF): the CNI plugin reads the first key ' +
        'with it glued on and does not recognise it',
    });
    assert.ok(!bom.message.includes('\uFEFF'), 'the raw BOM is printed');
    // flanneld's reader still sees the first key.
    assert.deepEqual(env.flanneld.get('FLANNEL_NETWORK'), { value: '10.5.0.0/16', line: 1 });
  });

  test('the cni view keeps what the CNI plugin reads: the BOM stays glued to the first key', () => {
    const env = readSubnetEnv(`\uFEFF${file([NETWORK, SUBNET, MTU, IPMASQ])}`);

    assert.ok(env.cni.has('\uFEFFFLANNEL_NETWORK'), JSON.stringify([...env.cni.keys()]));
    assert.ok(!env.cni.has('FLANNEL_NETWORK'));
  });

  test('"export": a CNI error on that line; flanneld reads the key', () => {
    const env = readSubnetEnv(v4With(`export ${MTU}`));

    assert.deepEqual(env.findings, [
      {
        severity: 'error',
        line: 3,
        key: 'FLANNEL_MTU',
        value: '1450',
        reader: 'cni',
        message: '"export" before FLANNEL_MTU: the CNI plugin does not know the key',
      },
    ]);
    assert.deepEqual(env.flanneld.get('FLANNEL_MTU'), { value: '1450', line: 3 });
    assert.ok(!env.cni.has('FLANNEL_MTU'), 'the CNI plugin sees the key "export FLANNEL_MTU"');
  });

  for (const quoted of ['"1450"', "'1450'"]) {
    test(`a quoted value (${quoted}): a CNI error; flanneld unquotes it`, () => {
      const env = readSubnetEnv(v4With(`FLANNEL_MTU=${quoted}`));
      const error = only(env.findings, 'finding');

      assert.equal(error.severity, 'error');
      assert.equal(error.line, 3);
      assert.equal(error.key, 'FLANNEL_MTU');
      assert.equal(error.reader, 'cni');
      assert.equal(
        error.message,
        'FLANNEL_MTU is quoted: the CNI plugin keeps the quotes in the value',
      );
      assert.equal(env.flanneld.get('FLANNEL_MTU')?.value, '1450');
      assert.equal(env.cni.get('FLANNEL_MTU')?.value, quoted);
    });
  }

  test('spaces around "=": CNI errors for the key and for the value; flanneld trims both', () => {
    const env = readSubnetEnv(v4With('FLANNEL_MTU = 1450'));

    assert.deepEqual(
      env.findings.map(({ severity, line, key, value, reader, message }) => ({
        severity,
        line,
        key,
        value,
        reader,
        message,
      })),
      [
        {
          severity: 'error',
          line: 3,
          key: 'FLANNEL_MTU',
          value: ' 1450',
          reader: 'cni',
          message: 'spaces around "=" after FLANNEL_MTU: the CNI plugin reads another key',
        },
        {
          severity: 'error',
          line: 3,
          key: 'FLANNEL_MTU',
          value: ' 1450',
          reader: 'cni',
          message: 'FLANNEL_MTU has spaces around its value: the CNI plugin keeps them',
        },
      ],
    );
    assert.equal(env.flanneld.get('FLANNEL_MTU')?.value, '1450');
  });

  test('a space before "=" alone is a CNI error about the key', () => {
    const error = only(readSubnetEnv(v4With('FLANNEL_MTU =1450')).findings, 'finding');

    assert.equal(error.reader, 'cni');
    assert.equal(error.severity, 'error');
    assert.equal(
      error.message,
      'spaces around "=" after FLANNEL_MTU: the CNI plugin reads another key',
    );
  });

  for (const [name, value] of [
    ['trailing spaces', '1450   '],
    ['a trailing tab', '1450\t'],
    ['a leading space', ' 1450'],
  ] as const) {
    test(`${name} in a value: a CNI error; flanneld trims them`, () => {
      const env = readSubnetEnv(v4With(`FLANNEL_MTU=${value}`));
      const error = only(env.findings, 'finding');

      assert.equal(error.severity, 'error');
      assert.equal(error.line, 3);
      assert.equal(error.key, 'FLANNEL_MTU');
      assert.equal(error.reader, 'cni');
      assert.equal(
        error.message,
        'FLANNEL_MTU has spaces around its value: the CNI plugin keeps them',
      );
      assert.equal(env.flanneld.get('FLANNEL_MTU')?.value, '1450');
      assert.equal(env.cni.get('FLANNEL_MTU')?.value, value);
    });
  }

  test('a comment after a value: a CNI error (it reads "1450 # jumbo off"), flanneld drops it', () => {
    const env = readSubnetEnv(v4With('FLANNEL_MTU=1450 # jumbo off'));

    assert.equal(env.flanneld.get('FLANNEL_MTU')?.value, '1450');
    assert.equal(env.cni.get('FLANNEL_MTU')?.value, '1450 # jumbo off');
    const cniErrors = env.findings.filter(
      (item) => item.severity === 'error' && item.reader === 'cni' && item.line === 3,
    );
    assert.equal(
      cniErrors.length,
      1,
      `one CNI error on line 3 expected: ${describeAll(env.findings)}`,
    );
  });

  test('a duplicate key: a warning on the first line giving the value both readers use, the last', () => {
    const env = readSubnetEnv(
      file([NETWORK, SUBNET, 'FLANNEL_MTU=1450', 'FLANNEL_MTU=1400', IPMASQ]),
    );

    assert.deepEqual(env.findings, [
      {
        severity: 'warning',
        line: 3,
        key: 'FLANNEL_MTU',
        value: '1400',
        reader: 'both',
        message: 'FLANNEL_MTU is set on lines 3-4; both readers use the last one, "1400"',
      },
    ]);
    assert.deepEqual(env.flanneld.get('FLANNEL_MTU'), { value: '1400', line: 4 });
    assert.deepEqual(env.cni.get('FLANNEL_MTU'), { value: '1400', line: 4 });
  });

  test('a key set three times on separate lines lists each line', () => {
    const env = readSubnetEnv(
      file([
        'FLANNEL_IPMASQ=true',
        NETWORK,
        'FLANNEL_IPMASQ=true',
        SUBNET,
        MTU,
        'FLANNEL_IPMASQ=false',
      ]),
    );
    const duplicate = only(env.findings, 'finding');

    assert.equal(duplicate.line, 1);
    assert.equal(duplicate.value, 'false');
    assert.equal(
      duplicate.message,
      'FLANNEL_IPMASQ is set on lines 1, 3, 6; both readers use the last one, "false"',
    );
  });

  test('a duplicate the CNI plugin does not see as one: the finding gives each reader its value', () => {
    // The CNI plugin does not know "export FLANNEL_MTU", so it uses 1450 from line 3;
    // flanneld's dotenv reader takes the last line, 1400.
    const env = readSubnetEnv(
      file([NETWORK, SUBNET, 'FLANNEL_MTU=1450', 'export FLANNEL_MTU=1400', IPMASQ]),
    );

    assert.deepEqual(env.cni.get('FLANNEL_MTU'), { value: '1450', line: 3 });
    assert.deepEqual(env.flanneld.get('FLANNEL_MTU'), { value: '1400', line: 4 });
    const duplicate = withMessage(env.findings, /set on lines 3-4/);
    assert.match(duplicate.message, /1450/, 'the value the CNI plugin uses is not named');
    assert.match(duplicate.message, /1400/, 'the value flanneld uses is not named');
    assert.doesNotMatch(duplicate.message, /both readers use/);
  });

  test('an empty value is an error for both readers', () => {
    const env = readSubnetEnv(v4With('FLANNEL_IPMASQ='));

    assert.deepEqual(env.findings, [
      {
        severity: 'error',
        line: 4,
        key: 'FLANNEL_IPMASQ',
        value: '',
        reader: 'both',
        message: 'FLANNEL_IPMASQ is empty',
      },
    ]);
  });

  test('an empty quoted value is empty for flanneld too', () => {
    const env = readSubnetEnv(v4With('FLANNEL_SUBNET=""'));

    const empty = withMessage(env.findings, /is empty$/);
    assert.equal(empty.key, 'FLANNEL_SUBNET');
    assert.equal(empty.line, 2);
    assert.equal(empty.severity, 'error');
    assert.equal(env.flanneld.get('FLANNEL_SUBNET')?.value, '');
  });

  test('a line without "=" is a warning naming its line and text: both readers skip it', () => {
    const env = readSubnetEnv(file([NETWORK, SUBNET, 'FLANNEL_MTU 1450', MTU, IPMASQ]));

    assert.deepEqual(env.findings, [
      {
        severity: 'warning',
        line: 3,
        key: null,
        value: 'FLANNEL_MTU 1450',
        reader: 'both',
        message: 'line 3 is not KEY=VALUE; both readers skip it',
      },
    ]);
    assert.deepEqual(env.flanneld.get('FLANNEL_MTU'), { value: '1450', line: 4 });
  });

  test('an unknown FLANNEL_* key is a warning', () => {
    const env = readSubnetEnv(v4With('FLANNEL_BACKEND=vxlan'));

    assert.deepEqual(env.findings, [
      {
        severity: 'warning',
        line: 5,
        key: 'FLANNEL_BACKEND',
        value: 'vxlan',
        reader: 'both',
        message: 'FLANNEL_BACKEND is not read by flannel',
      },
    ]);
  });

  for (const [typo, meant] of [
    ['FLANEL_IPMASQ', 'FLANNEL_IPMASQ'],
    ['FLANNEL_SUBNT', 'FLANNEL_SUBNET'],
    ['FLANNEL_IPV6SUBNET', 'FLANNEL_IPV6_SUBNET'],
    ['flannel_mtu', 'FLANNEL_MTU'],
  ] as const) {
    test(`a likely typo ${typo} gets the hint ${meant}, and ${meant} is then missing`, () => {
      const v6 = meant === 'FLANNEL_IPV6_SUBNET';
      const lines = v6
        ? ['FLANNEL_IPV6_NETWORK=fc00::/48', `${typo}=fc00:0:0:5::1/64`, 'FLANNEL_MTU=1430', IPMASQ]
        : [NETWORK, SUBNET, MTU, IPMASQ].map((line) =>
            line.startsWith(`${meant}=`) ? `${typo}${line.slice(meant.length)}` : line,
          );
      const findings = allFindings(file(lines));

      const hint = withMessage(findings, /is not read by flannel/);
      assert.equal(hint.severity, 'warning');
      assert.equal(hint.key, typo);
      assert.equal(hint.reader, 'both');
      assert.equal(hint.message, `${typo} is not read by flannel; did you mean ${meant}?`);
      const missing = findings.filter((item) => item !== hint && item.message.includes(meant));
      assert.ok(
        missing.some((item) => item.severity === 'error'),
        `no error that ${meant} is missing: ${describeAll(findings)}`,
      );
    });
  }
});

describe('checkSubnetEnv: required keys', () => {
  test('an empty file: every missing key in one error', () => {
    const findings = allFindings('');

    assert.deepEqual(findings, [
      {
        severity: 'error',
        line: null,
        key: null,
        value: null,
        reader: 'both',
        message:
          'missing: FLANNEL_NETWORK and FLANNEL_SUBNET (or their IPv6 pair), FLANNEL_MTU, FLANNEL_IPMASQ',
      },
    ]);
  });

  test('a file of comments only is as empty as an empty one', () => {
    const findings = problems(allFindings(file(['# nothing yet', ''])));

    assert.equal(
      only(findings, 'error').message,
      'missing: FLANNEL_NETWORK and FLANNEL_SUBNET (or their IPv6 pair), FLANNEL_MTU, FLANNEL_IPMASQ',
    );
  });

  test('no family at all: at least one pair is required', () => {
    const error = onlyProblem(file([MTU, IPMASQ]));

    assert.equal(error.severity, 'error');
    assert.equal(error.message, 'missing: FLANNEL_NETWORK and FLANNEL_SUBNET (or their IPv6 pair)');
  });

  test('FLANNEL_MTU and FLANNEL_IPMASQ missing are named together', () => {
    const error = onlyProblem(file([NETWORK, SUBNET]));

    assert.equal(error.message, 'missing: FLANNEL_MTU, FLANNEL_IPMASQ');
    assert.equal(error.line, null);
  });

  test('an IPv4-only file needs no IPv6 keys', () => {
    assertClean(file([NETWORK, SUBNET, MTU, IPMASQ]));
  });

  test('an IPv6-only file needs no IPv4 keys', () => {
    assertClean(
      file([
        'FLANNEL_IPV6_NETWORK=fc00::/48',
        'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64',
        'FLANNEL_MTU=1430',
        'FLANNEL_IPMASQ=true',
      ]),
    );
  });

  test('a dual-stack file as flanneld writes it is clean', () => {
    assertClean(
      file([
        NETWORK,
        'FLANNEL_SUBNET=10.5.5.1/24',
        'FLANNEL_IPV6_NETWORK=fc00::/48',
        'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64',
        'FLANNEL_MTU=1430',
        'FLANNEL_IPMASQ=true',
      ]),
    );
  });

  for (const [present, absent, line] of [
    ['FLANNEL_NETWORK=10.5.0.0/16', 'FLANNEL_SUBNET', 'FLANNEL_NETWORK'],
    ['FLANNEL_SUBNET=10.5.5.1/24', 'FLANNEL_NETWORK', 'FLANNEL_SUBNET'],
    ['FLANNEL_IPV6_NETWORK=fc00::/48', 'FLANNEL_IPV6_SUBNET', 'FLANNEL_IPV6_NETWORK'],
    ['FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64', 'FLANNEL_IPV6_NETWORK', 'FLANNEL_IPV6_SUBNET'],
  ] as const) {
    test(`${line} without ${absent}: the pair must be complete`, () => {
      const other = line.includes('IPV6')
        ? [NETWORK, SUBNET]
        : ['FLANNEL_IPV6_NETWORK=fc00::/48', 'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64'];
      const error = onlyProblem(file([...other, present, 'FLANNEL_MTU=1430', IPMASQ]));

      assert.deepEqual(error, {
        severity: 'error',
        line: 3,
        key: line,
        value: present.split('=')[1],
        reader: 'both',
        message: `${line} without ${absent}: the pair must be complete`,
      });
    });
  }
});

describe('checkSubnetEnv: networks and subnets', () => {
  test('C24: a subnet outside the network names both values and the subnet network', () => {
    const error = onlyProblem(
      file([
        'FLANNEL_NETWORK=10.244.0.0/16',
        'FLANNEL_SUBNET=172.24.0.1/24',
        MTU,
        'FLANNEL_IPMASQ=true',
      ]),
    );

    assert.deepEqual(error, {
      severity: 'error',
      line: 2,
      key: 'FLANNEL_SUBNET',
      value: '172.24.0.1/24',
      reader: 'both',
      message:
        'FLANNEL_SUBNET 172.24.0.1/24 (network 172.24.0.0/24) is not inside FLANNEL_NETWORK 10.244.0.0/16',
    });
  });

  test('C24 b: a neighbouring /16 is outside too', () => {
    const error = onlyProblem(
      file(['FLANNEL_NETWORK=10.20.0.0/16', 'FLANNEL_SUBNET=10.21.3.1/24', MTU, IPMASQ]),
    );

    assert.equal(
      error.message,
      'FLANNEL_SUBNET 10.21.3.1/24 (network 10.21.3.0/24) is not inside FLANNEL_NETWORK 10.20.0.0/16',
    );
  });

  for (const [subnet, why] of [
    ['10.0.0.1/8', 'shorter than the network'],
    ['10.5.0.1/16', 'as long as the network'],
    ['10.4.255.1/24', 'just below the network'],
    ['10.6.0.1/24', 'just above the network'],
  ] as const) {
    test(`a subnet ${subnet} (${why}) is an error`, () => {
      const error = onlyProblem(v4With(`FLANNEL_SUBNET=${subnet}`));

      assert.equal(error.severity, 'error');
      assert.equal(error.key, 'FLANNEL_SUBNET');
      assert.equal(error.line, 2);
      assert.match(error.message, /is not inside FLANNEL_NETWORK 10\.5\.0\.0\/16$/);
    });
  }

  test('the first and the last /24 of the network are inside', () => {
    assertClean(v4With('FLANNEL_SUBNET=10.5.0.1/24'));
    assertClean(v4With('FLANNEL_SUBNET=10.5.255.1/24'));
  });

  test('a subnet longer than /24 inside the network is fine', () => {
    assertClean(v4With('FLANNEL_SUBNET=10.5.31.129/25'));
  });

  test('C29: an IPv6 subnet outside the IPv6 network, compared on 128-bit values', () => {
    const error = onlyProblem(
      file([
        NETWORK,
        'FLANNEL_SUBNET=10.5.5.1/24',
        'FLANNEL_IPV6_NETWORK=fc00::/48',
        'FLANNEL_IPV6_SUBNET=fc00:1:0:5::1/64',
        'FLANNEL_MTU=1430',
        'FLANNEL_IPMASQ=true',
      ]),
    );

    assert.deepEqual(error, {
      severity: 'error',
      line: 4,
      key: 'FLANNEL_IPV6_SUBNET',
      value: 'fc00:1:0:5::1/64',
      reader: 'both',
      message:
        'FLANNEL_IPV6_SUBNET fc00:1:0:5::1/64 (network fc00:1:0:5::/64) is not inside FLANNEL_IPV6_NETWORK fc00::/48',
    });
  });

  test('an IPv6 subnet shorter than its network is an error', () => {
    const error = onlyProblem(
      file([
        'FLANNEL_IPV6_NETWORK=fc00::/48',
        'FLANNEL_IPV6_SUBNET=fc00::1/32',
        'FLANNEL_MTU=1430',
        IPMASQ,
      ]),
    );

    assert.equal(error.key, 'FLANNEL_IPV6_SUBNET');
    assert.match(error.message, /is not inside FLANNEL_IPV6_NETWORK fc00::\/48$/);
  });

  const v6Only = (subnet: string, network = 'fc00::/48') =>
    file([
      `FLANNEL_IPV6_NETWORK=${network}`,
      `FLANNEL_IPV6_SUBNET=${subnet}`,
      'FLANNEL_MTU=1430',
      IPMASQ,
    ]);

  test('IPv6 text forms are compared as numbers: fc00:0000:0000:0005::1/64 is fc00:0:0:5::1/64', () => {
    assertClean(v6Only('fc00:0000:0000:0005::1/64'));
    assertClean(v6Only('fc00:0:0:5::1/64'));
    assertClean(v6Only('FC00:0:0:5::1/64'));
    assertClean(v6Only('fc00:0:0:5::1/64', 'fc00:0000:0000::/48'));

    const long = declaredSubnets(readSubnetEnv(v6Only('fc00:0000:0000:0005::1/64')));
    const short = declaredSubnets(readSubnetEnv(v6Only('fc00:0:0:5::1/64')));
    assert.deepEqual(long, short);
  });

  test('fc00::5:1/64 is another address: a host address of fc00::/64, not its first', () => {
    const warning = onlyProblem(v6Only('fc00::5:1/64'));

    assert.deepEqual(warning, {
      severity: 'warning',
      line: 2,
      key: 'FLANNEL_IPV6_SUBNET',
      value: 'fc00::5:1/64',
      reader: 'both',
      message: "FLANNEL_IPV6_SUBNET is not the subnet's first address; flanneld writes fc00::1/64",
    });
    const declared = declaredSubnets(readSubnetEnv(v6Only('fc00::5:1/64')));
    assert.equal(declared.ipv6Subnet && formatCidr(declared.ipv6Subnet), 'fc00::/64');
  });

  test('C25: the first address of the subnet is what flanneld writes: no finding at all', () => {
    const findings = allFindings(v4With('FLANNEL_SUBNET=10.5.31.1/24'), { backend: 'vxlan' });

    assert.deepEqual(findings, []);
  });

  test('C25: the network address is an info giving what flanneld writes, not an error', () => {
    const found = allFindings(v4With('FLANNEL_SUBNET=10.5.31.0/24'), { backend: 'vxlan' });

    assert.deepEqual(found, [
      {
        severity: 'info',
        line: 2,
        key: 'FLANNEL_SUBNET',
        value: '10.5.31.0/24',
        reader: 'both',
        message: 'FLANNEL_SUBNET names the network address; flanneld itself writes 10.5.31.1/24',
      },
    ]);
  });

  test('another host address is a warning giving the first address', () => {
    const warning = onlyProblem(v4With('FLANNEL_SUBNET=10.5.31.7/24'));

    assert.deepEqual(warning, {
      severity: 'warning',
      line: 2,
      key: 'FLANNEL_SUBNET',
      value: '10.5.31.7/24',
      reader: 'both',
      message: "FLANNEL_SUBNET is not the subnet's first address; flanneld writes 10.5.31.1/24",
    });
  });

  test('the IPv6 network address is an info', () => {
    const info = withMessage(allFindings(v6Only('fc00:0:0:5::/64')), /network address/);

    assert.equal(info.severity, 'info');
    assert.equal(
      info.message,
      'FLANNEL_IPV6_SUBNET names the network address; flanneld itself writes fc00:0:0:5::1/64',
    );
  });

  for (const key of ['FLANNEL_NETWORK', 'FLANNEL_SUBNET'] as const) {
    test(`a comma list in ${key} is an error: flanneld expects one CIDR`, () => {
      const value =
        key === 'FLANNEL_NETWORK' ? '10.5.0.0/16,10.6.0.0/16' : '10.5.31.1/24,10.5.32.1/24';
      const error = onlyProblem(v4With(`${key}=${value}`));

      assert.deepEqual(error, {
        severity: 'error',
        line: key === 'FLANNEL_NETWORK' ? 1 : 2,
        key,
        value,
        reader: 'both',
        message: `${key} holds a comma list; flanneld expects exactly one CIDR`,
      });
    });
  }

  test('a comma list of both families in FLANNEL_SUBNET is an error too', () => {
    const error = onlyProblem(v4With('FLANNEL_SUBNET=10.5.31.1/24,fc00:0:0:5::1/64'));

    assert.equal(
      error.message,
      'FLANNEL_SUBNET holds a comma list; flanneld expects exactly one CIDR',
    );
  });

  test('a comma list in FLANNEL_IPV6_SUBNET is an error', () => {
    const error = onlyProblem(v6Only('fc00:0:0:5::1/64,fc00:0:0:6::1/64'));

    assert.equal(error.key, 'FLANNEL_IPV6_SUBNET');
    assert.equal(
      error.message,
      'FLANNEL_IPV6_SUBNET holds a comma list; flanneld expects exactly one CIDR',
    );
  });

  for (const [value, expected] of [
    ['10.5.31.1', 'an address without a prefix'],
    ['10.5.31.1/33', 'a prefix too long'],
    ['10.5.300.1/24', 'an octet too big'],
    ['subnet', 'a word'],
  ] as const) {
    test(`FLANNEL_SUBNET ${value} (${expected}) is not a CIDR`, () => {
      const error = onlyProblem(v4With(`FLANNEL_SUBNET=${value}`));

      assert.deepEqual(error, {
        severity: 'error',
        line: 2,
        key: 'FLANNEL_SUBNET',
        value,
        reader: 'both',
        message: `FLANNEL_SUBNET "${value}" is not a CIDR; expected e.g. 10.5.0.0/16`,
      });
    });
  }

  test('C29: an IPv4 CIDR in FLANNEL_IPV6_SUBNET is the wrong family', () => {
    const error = onlyProblem(
      file([
        'FLANNEL_IPV6_NETWORK=fc00::/48',
        'FLANNEL_IPV6_SUBNET=10.5.5.1/24',
        'FLANNEL_MTU=1430',
        'FLANNEL_IPMASQ=true',
      ]),
    );

    assert.deepEqual(error, {
      severity: 'error',
      line: 2,
      key: 'FLANNEL_IPV6_SUBNET',
      value: '10.5.5.1/24',
      reader: 'both',
      message: 'FLANNEL_IPV6_SUBNET holds an IPv4 CIDR; expected IPv6',
    });
  });

  test('an IPv6 CIDR in FLANNEL_NETWORK is the wrong family', () => {
    const error = onlyProblem(v4With('FLANNEL_NETWORK=fc00::/48', 'FLANNEL_MTU=1430'));

    assert.equal(error.key, 'FLANNEL_NETWORK');
    assert.equal(error.message, 'FLANNEL_NETWORK holds an IPv6 CIDR; expected IPv4');
  });

  test('a bad IPv6 CIDR suggests an IPv6 example', () => {
    const error = onlyProblem(v6Only('fc00:::5::1/64'));

    assert.equal(
      error.message,
      'FLANNEL_IPV6_SUBNET "fc00:::5::1/64" is not a CIDR; expected e.g. fc00::/48',
    );
  });
});

describe('checkSubnetEnv: FLANNEL_MTU', () => {
  const mtuError = (value: string, minimum = 68) =>
    `FLANNEL_MTU "${value}" is not a usable MTU; expected a whole number from ${minimum} to 65535`;

  for (const value of ['68', '576', '1450', '1500', '9000']) {
    test(`${value} is accepted without a backend (only an info that it was not checked)`, () => {
      const findings = allFindings(v4With(`FLANNEL_MTU=${value}`));

      assert.deepEqual(findings, [
        {
          severity: 'info',
          line: 3,
          key: 'FLANNEL_MTU',
          value,
          reader: 'both',
          message: NOT_CHECKED,
        },
      ]);
    });
  }

  for (const value of [
    '0',
    '67',
    '65536',
    '99999999999',
    'auto',
    '1450.0',
    '-1450',
    '1e3',
    '0x5aa',
  ]) {
    test(`${JSON.stringify(value)} is not a usable MTU`, () => {
      const error = onlyProblem(v4With(`FLANNEL_MTU=${value}`));

      assert.deepEqual(error, {
        severity: 'error',
        line: 3,
        key: 'FLANNEL_MTU',
        value,
        reader: 'both',
        message: mtuError(value),
      });
    });
  }

  test('65535 is the largest MTU, and a warning for being above 9000', () => {
    const warning = onlyProblem(v4With('FLANNEL_MTU=65535'));

    assert.equal(warning.severity, 'warning');
    assert.equal(
      warning.message,
      'FLANNEL_MTU 65535 is above 9000 (jumbo frames are 9000 at most)',
    );
  });

  test('9001 is a warning, 9000 is not', () => {
    assert.equal(onlyProblem(v4With('FLANNEL_MTU=9001')).severity, 'warning');
    assertClean(v4With('FLANNEL_MTU=9000'));
  });

  const dual = (mtu: string) =>
    file([
      NETWORK,
      SUBNET,
      'FLANNEL_IPV6_NETWORK=fc00::/48',
      'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64',
      `FLANNEL_MTU=${mtu}`,
      IPMASQ,
    ]);

  test('with IPv6 the smallest MTU is 1280', () => {
    assertClean(dual('1280'));
    const error = onlyProblem(dual('1279'));
    assert.equal(error.message, mtuError('1279', 1280));
    assert.equal(error.line, 5);
  });

  test('an IPv6-only file needs 1280 too', () => {
    const text = file([
      'FLANNEL_IPV6_NETWORK=fc00::/48',
      'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64',
      'FLANNEL_MTU=576',
      IPMASQ,
    ]);

    assert.equal(onlyProblem(text).message, mtuError('576', 1280));
  });

  test('IPv4 alone allows 1279', () => {
    assertClean(v4With('FLANNEL_MTU=1279'));
  });

  test('fits the backend: vxlan on a 1500-byte interface takes 1450', () => {
    assert.deepEqual(
      allFindings(v4With('FLANNEL_MTU=1450'), { backend: 'vxlan', ifaceMtu: 1500 }),
      [],
    );
    assert.deepEqual(allFindings(v4With('FLANNEL_MTU=1450'), { backend: 'vxlan' }), []);
    assert.deepEqual(allFindings(v4With('FLANNEL_MTU=1400'), { backend: 'vxlan' }), []);
  });

  test('C30: 1500 with vxlan on a 1500-byte interface is an error expecting at most 1450', () => {
    const error = onlyProblem(v4With('FLANNEL_MTU=1500'), { backend: 'vxlan', ifaceMtu: 1500 });

    assert.deepEqual(error, {
      severity: 'error',
      line: 3,
      key: 'FLANNEL_MTU',
      value: '1500',
      reader: 'both',
      message:
        'FLANNEL_MTU 1500 does not fit vxlan on a 1500-byte interface: expected at most 1450 (interface MTU minus 50)',
    });
  });

  test('without the interface MTU, 1500 is assumed and a misfit is only a warning', () => {
    const warning = onlyProblem(v4With('FLANNEL_MTU=1500'), { backend: 'vxlan' });

    assert.deepEqual(warning, {
      severity: 'warning',
      line: 3,
      key: 'FLANNEL_MTU',
      value: '1500',
      reader: 'both',
      message:
        'FLANNEL_MTU 1500 does not fit vxlan on an assumed 1500-byte interface: expected at most 1450 (interface MTU minus 50)',
    });
  });

  test('C30: 8951 with vxlan on a 9001-byte interface fits (jumbo frames)', () => {
    assert.deepEqual(
      allFindings(v4With('FLANNEL_MTU=8951'), { backend: 'vxlan', ifaceMtu: 9001 }),
      [],
    );
    const error = onlyProblem(v4With('FLANNEL_MTU=8952'), { backend: 'vxlan', ifaceMtu: 9001 });
    assert.match(error.message, /expected at most 8951 \(interface MTU minus 50\)$/);
  });

  for (const [backend, largest] of [
    ['vxlan', 1450],
    ['udp', 1472],
    ['ipip', 1480],
    ['wireguard', 1440],
    ['host-gw', 1500],
  ] as const) {
    test(`${backend} on a 1500-byte interface: ${largest} fits, ${largest + 1} does not`, () => {
      const options = { backend, ifaceMtu: 1500 };
      assert.deepEqual(allFindings(v4With(`FLANNEL_MTU=${largest}`), options), []);

      const error = onlyProblem(v4With(`FLANNEL_MTU=${largest + 1}`), options);
      assert.equal(error.severity, 'error');
      assert.equal(
        error.message,
        `FLANNEL_MTU ${largest + 1} does not fit ${backend} on a 1500-byte interface: expected at most ${largest} (interface MTU minus ${1500 - largest})`,
      );
    });
  }

  test('a value that is not an MTU is not also checked against the backend', () => {
    const found = problems(
      allFindings(v4With('FLANNEL_MTU=0'), { backend: 'vxlan', ifaceMtu: 1500 }),
    );

    assert.equal(only(found, 'error').message, mtuError('0'));
  });

  test('no FLANNEL_MTU: only the missing-key error, no MTU finding', () => {
    const findings = allFindings(file([NETWORK, SUBNET, IPMASQ]), { backend: 'vxlan' });

    assert.deepEqual(
      findings.map((item) => item.message),
      ['missing: FLANNEL_MTU'],
    );
  });
});

describe('checkSubnetEnv: FLANNEL_IPMASQ', () => {
  for (const value of ['true', 'false']) {
    test(`${value} is accepted`, () => {
      assertClean(v4With(`FLANNEL_IPMASQ=${value}`));
    });
  }

  for (const value of ['True', 'TRUE', 'False', '1', '0', 'yes', 'no', 'on']) {
    test(`${value} is an error for the CNI plugin, which takes only "true" as true`, () => {
      const error = onlyProblem(v4With(`FLANNEL_IPMASQ=${value}`));

      assert.deepEqual(error, {
        severity: 'error',
        line: 4,
        key: 'FLANNEL_IPMASQ',
        value,
        reader: 'cni',
        message: `FLANNEL_IPMASQ "${value}" must be true or false; the CNI plugin takes only "true" as true`,
      });
    });
  }
});

describe('declaredSubnets', () => {
  test('networks as written, subnets as their network addresses', () => {
    const declared = declaredSubnets(
      readSubnetEnv(
        file([
          NETWORK,
          SUBNET,
          'FLANNEL_IPV6_NETWORK=fc00::/48',
          'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64',
          MTU,
          IPMASQ,
        ]),
      ),
    );

    assert.deepEqual(
      Object.fromEntries(
        Object.entries(declared).map(([name, value]) => [name, value && formatCidr(value as Cidr)]),
      ),
      {
        network: '10.5.0.0/16',
        subnet: '10.5.31.0/24',
        ipv6Network: 'fc00::/48',
        ipv6Subnet: 'fc00:0:0:5::/64',
      },
    );
  });

  test('absent and unparsable values are left out', () => {
    const declared = declaredSubnets(
      readSubnetEnv(
        file(['FLANNEL_NETWORK=10.5.0.0/16,10.6.0.0/16', 'FLANNEL_SUBNET=nope', MTU, IPMASQ]),
      ),
    );

    assert.equal(declared.network, undefined);
    assert.equal(declared.subnet, undefined);
    assert.equal(declared.ipv6Network, undefined);
    assert.equal(declared.ipv6Subnet, undefined);
  });

  test("flanneld's reading is used: quotes and export do not hide the subnet", () => {
    const declared = declaredSubnets(
      readSubnetEnv(
        file(['export FLANNEL_NETWORK="10.5.0.0/16"', "FLANNEL_SUBNET='10.5.31.1/24'"]),
      ),
    );

    assert.equal(declared.network && formatCidr(declared.network), '10.5.0.0/16');
    assert.equal(declared.subnet && formatCidr(declared.subnet), '10.5.31.0/24');
  });
});

describe('crossCheckWithEtcd', () => {
  const C31_FILE = file([
    'FLANNEL_NETWORK=10.244.0.0/16',
    'FLANNEL_SUBNET=10.244.3.1/24',
    MTU,
    'FLANNEL_IPMASQ=true',
  ]);
  const C31_CONFIG = '{"Network":"10.83.0.0/16","Backend":{"Type":"vxlan"}}';
  const C31_LEASES = [lease('10.83.12.0/24', '192.0.2.83')];

  test('no usable config: an error naming the config key, and the subnet this node held (C17)', () => {
    const findings = crossCheck(v4With(), view(undefined, [lease('10.5.31.0/24', '192.0.2.10')]));

    assert.deepEqual(findings[0], {
      severity: 'error',
      line: null,
      key: null,
      value: null,
      reader: 'flanneld',
      message: `etcd has no usable network config at ${CONFIG_KEY}`,
    });
    assert.equal(findings.length, 2);
    assert.equal(findings[1].severity, 'info');
    assert.equal(findings[1].key, 'FLANNEL_SUBNET');
    assert.match(
      findings[1].message,
      /^this node held 10\.5\.31\.0\/24; flanneld will try to take it again/,
    );
  });

  test("C31: a network other than the config's is an error: the file is stale", () => {
    const findings = crossCheck(C31_FILE, view(C31_CONFIG, C31_LEASES));

    const error = withMessage(findings, /differs from/);
    assert.deepEqual(error, {
      severity: 'error',
      line: 1,
      key: 'FLANNEL_NETWORK',
      value: '10.244.0.0/16',
      reader: 'flanneld',
      message:
        'FLANNEL_NETWORK 10.244.0.0/16 differs from the configured Network 10.83.0.0/16: the file is stale',
    });
  });

  test("C31 without --public-ip: the network mismatch, and no claim about which lease is the host's", () => {
    const findings = crossCheck(C31_FILE, view(C31_CONFIG, C31_LEASES));

    assert.equal(
      findings.filter((item) => item.severity === 'error').length,
      1,
      describeAll(findings),
    );
    assert.ok(!findings.some((item) => item.message.includes('192.0.2.83')), describeAll(findings));
  });

  test("C31 with the host's public IP: etcd holds another subnet for it; the old bridge address stays", () => {
    const findings = crossCheck(C31_FILE, view(C31_CONFIG, C31_LEASES, '192.0.2.83'));

    const stale = withMessage(findings, /for this host/);
    assert.equal(stale.severity, 'error');
    assert.equal(stale.key, 'FLANNEL_SUBNET');
    assert.equal(stale.line, 2);
    assert.equal(stale.reader, 'flanneld');
    assert.equal(
      stale.message,
      'etcd holds 10.83.12.0/24 for this host 192.0.2.83 while the file says 10.244.3.0/24: the file is stale; the old bridge address stays on the node until cleaned up, which makes pods fail with "already has an IP address different from"',
    );
    withMessage(findings, /differs from the configured Network 10\.83\.0\.0\/16/);
  });

  test('C31: flanneld would not reuse a subnet outside the network, and says why', () => {
    const findings = crossCheck(C31_FILE, view(C31_CONFIG, C31_LEASES));

    const reuse = withMessage(findings, /would not reuse/);
    assert.equal(reuse.key, 'FLANNEL_SUBNET');
    assert.notEqual(reuse.severity, 'info');
    assert.match(reuse.message, /10\.244\.3\.0\/24 is outside the network 10\.83\.0\.0\/16/);
  });

  test('a subnet that fits the config: flanneld would reuse it (info)', () => {
    const findings = crossCheck(v4With(), view(VXLAN_10_5, []));

    const reuse = withMessage(findings, /would reuse/);
    assert.deepEqual(reuse, {
      severity: 'info',
      line: 2,
      key: 'FLANNEL_SUBNET',
      value: '10.5.31.1/24',
      reader: 'flanneld',
      message: 'flanneld would reuse 10.5.31.0/24 on restart: it fits the config',
    });
    assert.deepEqual(problems(findings), []);
  });

  test('another length than SubnetLen: flanneld would not reuse it, and the reason names SubnetLen', () => {
    const findings = crossCheck(
      v4With(),
      view('{"Network":"10.5.0.0/16","SubnetLen":26,"Backend":{"Type":"vxlan"}}', []),
    );

    const reuse = withMessage(findings, /would not reuse 10\.5\.31\.0\/24 on restart/);
    assert.notEqual(reuse.severity, 'info');
    assert.match(reuse.message, /10\.5\.31\.0\/24 is \/24 but SubnetLen is 26/);
  });

  test('outside SubnetMin..SubnetMax: flanneld would not reuse it', () => {
    const findings = crossCheck(
      v4With(),
      view('{"Network":"10.5.0.0/16","SubnetMin":"10.5.100.0","Backend":{"Type":"vxlan"}}', []),
    );

    const reuse = withMessage(findings, /would not reuse 10\.5\.31\.0\/24 on restart/);
    assert.match(
      reuse.message,
      /outside SubnetMin\.\.SubnetMax \(10\.5\.100\.0\.\.10\.5\.255\.0\)/,
    );
  });

  test('dual-stack: both networks compared, both halves judged for reuse', () => {
    const text = file([
      NETWORK,
      SUBNET,
      'FLANNEL_IPV6_NETWORK=fc00:0000:0000::/48',
      'FLANNEL_IPV6_SUBNET=fc00:0:0:5::1/64',
      'FLANNEL_MTU=1450',
      IPMASQ,
    ]);
    const findings = crossCheck(text, view(DUAL_10_5, []));

    assert.deepEqual(problems(findings), []);
    withMessage(findings, /would reuse 10\.5\.31\.0\/24/);
    withMessage(findings, /would reuse fc00:0:0:5::\/64/);
  });

  test("an IPv6 network other than the config's IPv6Network is an error", () => {
    const text = file([
      NETWORK,
      SUBNET,
      'FLANNEL_IPV6_NETWORK=fc01::/48',
      'FLANNEL_IPV6_SUBNET=fc01:0:0:5::1/64',
      'FLANNEL_MTU=1450',
      IPMASQ,
    ]);
    const error = withMessage(crossCheck(text, view(DUAL_10_5, [])), /differs from/);

    assert.deepEqual(error, {
      severity: 'error',
      line: 3,
      key: 'FLANNEL_IPV6_NETWORK',
      value: 'fc01::/48',
      reader: 'flanneld',
      message:
        'FLANNEL_IPV6_NETWORK fc01::/48 differs from the configured IPv6Network fc00::/48: the file is stale',
    });
  });

  test('without --public-ip, the holder of the subnet is an info', () => {
    const findings = crossCheck(v4With(), view(VXLAN_10_5, [lease('10.5.31.0/24', '192.0.2.10')]));

    const owner = withMessage(findings, /192\.0\.2\.10/);
    assert.deepEqual(owner, {
      severity: 'info',
      line: 2,
      key: 'FLANNEL_SUBNET',
      value: '10.5.31.1/24',
      reader: 'flanneld',
      message: 'etcd holds 10.5.31.0/24 as a lease of 192.0.2.10',
    });
    assert.deepEqual(problems(findings), []);
  });

  test('a reservation holding the subnet is named as one', () => {
    const findings = crossCheck(
      v4With(),
      view(VXLAN_10_5, [lease('10.5.31.0/24', '192.0.2.11', 'reservation')]),
    );

    withMessage(findings, /^etcd holds 10\.5\.31\.0\/24 as a reservation of 192\.0\.2\.11$/);
  });

  test('no key for the subnet: an info', () => {
    const findings = crossCheck(v4With(), view(VXLAN_10_5, [lease('10.5.32.0/24', '192.0.2.10')]));

    const free = withMessage(findings, /holds no key/);
    assert.equal(free.severity, 'info');
    assert.match(free.message, /^etcd holds no key for 10\.5\.31\.0\/24/);
  });

  test('with --public-ip, a subnet held by another host is an error naming the owner', () => {
    const findings = crossCheck(
      v4With(),
      view(VXLAN_10_5, [lease('10.5.31.0/24', '192.0.2.10')], '192.0.2.99'),
    );

    const error = withMessage(findings, /held by/);
    assert.deepEqual(error, {
      severity: 'error',
      line: 2,
      key: 'FLANNEL_SUBNET',
      value: '10.5.31.1/24',
      reader: 'flanneld',
      message:
        '10.5.31.0/24 is held by 192.0.2.10 in etcd, not by this host 192.0.2.99: two nodes would route the same pod range',
    });
    for (const item of findings) {
      assert.doesNotMatch(item.message, /\breserve\b/i, "suggests reserving another host's subnet");
    }
  });

  test('with --public-ip of the holder: no error or warning', () => {
    const findings = crossCheck(
      v4With(),
      view(
        VXLAN_10_5,
        [lease('10.5.31.0/24', '192.0.2.10'), lease('10.5.32.0/24', '192.0.2.11')],
        '192.0.2.10',
      ),
    );

    assert.deepEqual(problems(findings), []);
  });

  test('with --public-ip, the host holding another subnet than the file says is an error', () => {
    const findings = crossCheck(
      v4With(),
      view(VXLAN_10_5, [lease('10.5.40.0/24', '192.0.2.99')], '192.0.2.99'),
    );

    const stale = withMessage(findings, /for this host/);
    assert.equal(stale.severity, 'error');
    assert.match(
      stale.message,
      /^etcd holds 10\.5\.40\.0\/24 for this host 192\.0\.2\.99 while the file says 10\.5\.31\.0\/24/,
    );
    assert.match(stale.message, /bridge address/);
  });
});

describe('defaultMtu', () => {
  for (const [backend, mtu] of [
    ['vxlan', 1450],
    ['udp', 1472],
    ['ipip', 1480],
    ['wireguard', 1440],
    ['host-gw', 1500],
  ] as const) {
    test(`${backend}: ${mtu} on a 1500-byte interface`, () => {
      assert.equal(defaultMtu(backend), mtu);
    });
  }

  test('an unknown backend has no default', () => {
    assert.equal(defaultMtu('gce'), undefined);
    assert.equal(defaultMtu(''), undefined);
    assert.equal(defaultMtu('VXLAN'), undefined);
  });
});

describe('renderSubnetEnv', () => {
  test('IPv4: the configured network, the first address of the lease, MTU and IPMASQ', () => {
    const text = renderSubnetEnv({ ipv4: cidr('10.5.34.0/24') }, config(VXLAN_10_5), {
      mtu: 1450,
      ipMasq: false,
    });

    assert.equal(
      text,
      'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.34.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n',
    );
  });

  test('--ipmasq and another MTU', () => {
    const text = renderSubnetEnv({ ipv4: cidr('10.5.34.0/24') }, config(VXLAN_10_5), {
      mtu: 8951,
      ipMasq: true,
    });

    assert.equal(
      text,
      'FLANNEL_NETWORK=10.5.0.0/16\nFLANNEL_SUBNET=10.5.34.1/24\nFLANNEL_MTU=8951\nFLANNEL_IPMASQ=true\n',
    );
  });

  test('dual-stack: both families, in the order flanneld writes them', () => {
    const text = renderSubnetEnv(
      { ipv4: cidr('10.5.34.0/24'), ipv6: cidr('fc00:0:0:22::/64') },
      config(DUAL_10_5),
      { mtu: 1450, ipMasq: false },
    );

    assert.equal(
      text,
      [
        'FLANNEL_NETWORK=10.5.0.0/16',
        'FLANNEL_SUBNET=10.5.34.1/24',
        'FLANNEL_IPV6_NETWORK=fc00::/48',
        'FLANNEL_IPV6_SUBNET=fc00:0:0:22::1/64',
        'FLANNEL_MTU=1450',
        'FLANNEL_IPMASQ=false',
        '',
      ].join('\n'),
    );
  });

  test('an IPv4-only config writes no IPv6 lines even for a dual-stack key', () => {
    const text = renderSubnetEnv(
      { ipv4: cidr('10.5.34.0/24'), ipv6: cidr('fc00:0:0:22::/64') },
      config(VXLAN_10_5),
      { mtu: 1450, ipMasq: false },
    );

    assert.doesNotMatch(text, /IPV6/);
  });

  test('what it writes validates clean for both readers, with the backend known', () => {
    for (const [lease, configText] of [
      [{ ipv4: cidr('10.5.34.0/24') }, VXLAN_10_5],
      [{ ipv4: cidr('10.5.34.0/24'), ipv6: cidr('fc00:0:0:22::/64') }, DUAL_10_5],
    ] as const) {
      const networkConfig = config(configText);
      const text = renderSubnetEnv(lease, networkConfig, { mtu: 1450, ipMasq: true });
      const env = readSubnetEnv(text);

      assert.deepEqual(env.findings, []);
      assert.deepEqual(checkSubnetEnv(env, { backend: 'vxlan', ifaceMtu: 1500 }), []);
      const cross = crossCheckWithEtcd(env, {
        configKey: CONFIG_KEY,
        config: networkConfig,
        leases: [{ ...lease, publicIP: '192.0.2.34', type: 'lease' as const }],
        publicIP: '192.0.2.34',
      });
      assert.deepEqual(problems(cross), []);
    }
  });
});
