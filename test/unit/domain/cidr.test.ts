// Address arithmetic under everything else: parse, format, contain, order.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Address4 } from 'ip-address';

import {
  type Cidr,
  bitsOf,
  blockSize,
  compareCidr,
  compareIp,
  containsCidr,
  containsIp,
  formatCidr,
  formatIp,
  hasHostBits,
  lastAddress,
  maskAddress,
  networkOf,
  parseCidr,
  parseIp,
  sameCidr,
} from '../../../src/domain/cidr.js';

function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed, `test setup: ${text} should parse`);
  return parsed;
}

function ip(text: string) {
  const parsed = parseIp(text);
  assert.ok(parsed, `test setup: ${text} should parse`);
  return parsed;
}

describe('parseIp', () => {
  const valid: Array<[string, 4 | 6, bigint]> = [
    ['0.0.0.0', 4, 0n],
    ['10.5.34.0', 4, (10n << 24n) + (5n << 16n) + (34n << 8n)],
    ['255.255.255.255', 4, 0xffffffffn],
    ['::', 6, 0n],
    ['::1', 6, 1n],
    ['fc00:0:0:22::', 6, (0xfc00n << 112n) + (0x22n << 64n)],
    ['FC00::1', 6, (0xfc00n << 112n) + 1n],
    ['fc00:0000:0000:0005::1', 6, (0xfc00n << 112n) + (5n << 64n) + 1n],
  ];
  for (const [text, family, value] of valid) {
    test(`reads ${text} as IPv${family}`, () => {
      assert.deepEqual(parseIp(text), { family, value });
    });
  }

  const invalid = [
    '',
    '10.5.1',
    '10.5.1.0.0',
    '256.1.1.1',
    '10.05.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '10.5.1.0/24',
    ' 10.5.1.1',
    'fc00::/64',
    'fe80::1%eth0',
    'fc00:::1',
    'example.com',
    'abc',
  ];
  for (const text of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseIp(text), undefined);
    });
  }

  test('treats differently written forms of one IPv6 address as equal', () => {
    assert.equal(ip('fc00:0000:0000:0005::1').value, ip('fc00:0:0:5::1').value);
    assert.notEqual(ip('fc00::5:1').value, ip('fc00:0:0:5::1').value);
  });
});

describe('parseCidr', () => {
  test('reads an IPv4 network and keeps its prefix length', () => {
    assert.deepEqual(cidr('10.5.0.0/16'), {
      family: 4,
      address: ip('10.5.0.0').value,
      prefixLength: 16,
    });
  });

  test('keeps host bits so callers can tell 10.5.1.1/24 from 10.5.1.0/24', () => {
    assert.equal(cidr('10.5.1.1/24').address, ip('10.5.1.1').value);
    assert.equal(hasHostBits(cidr('10.5.1.1/24')), true);
  });

  test('reads an IPv6 network', () => {
    assert.deepEqual(cidr('fc00:0:0:22::/64'), {
      family: 6,
      address: ip('fc00:0:0:22::').value,
      prefixLength: 64,
    });
  });

  test('accepts /0 and the full length of each family', () => {
    assert.equal(cidr('0.0.0.0/0').prefixLength, 0);
    assert.equal(cidr('10.5.1.1/32').prefixLength, 32);
    assert.equal(cidr('fc00::1/128').prefixLength, 128);
  });

  const invalid = [
    '10.5.0.0',
    '10.5.0.0/',
    '10.5.0.0/33',
    '10.5.0.0/-1',
    '10.5.0.0/1a',
    '10.5.0.0/ 16',
    '10.5.0.0/16/1',
    '/16',
    'fc00::/129',
    '10.05.0.0/16',
    'garbage/8',
  ];
  for (const text of invalid) {
    test(`rejects ${JSON.stringify(text)}`, () => {
      assert.equal(parseCidr(text), undefined);
    });
  }
});

describe('formatIp and formatCidr', () => {
  test('print IPv4 dotted and IPv6 in its shortest lowercase form', () => {
    assert.equal(formatIp(4, ip('10.5.34.0').value), '10.5.34.0');
    assert.equal(formatIp(6, ip('FC00:0000:0000:0022:0000:0000:0000:0000').value), 'fc00:0:0:22::');
  });

  test('round-trip a CIDR through its text', () => {
    for (const text of ['10.5.34.0/24', '0.0.0.0/0', 'fc00:0:0:22::/64', 'fc00::/48']) {
      assert.equal(formatCidr(cidr(text)), text);
    }
  });
});

describe('masks and blocks', () => {
  test('bitsOf gives 32 for IPv4 and 128 for IPv6', () => {
    assert.equal(bitsOf(4), 32);
    assert.equal(bitsOf(6), 128);
  });

  test('maskAddress clears the host bits', () => {
    assert.equal(maskAddress(4, ip('10.10.178.200').value, 26), ip('10.10.178.192').value);
    assert.equal(maskAddress(6, ip('fc00:0:0:22::1').value, 64), ip('fc00:0:0:22::').value);
  });

  test('networkOf keeps family and prefix and drops host bits', () => {
    assert.deepEqual(networkOf(cidr('10.5.1.1/24')), cidr('10.5.1.0/24'));
  });

  test('hasHostBits is false for a network address', () => {
    assert.equal(hasHostBits(cidr('10.5.1.0/24')), false);
    assert.equal(hasHostBits(cidr('fc00:0:0:22::/64')), false);
    assert.equal(hasHostBits(cidr('fc00:0:0:22::1/64')), true);
  });

  test('blockSize counts the addresses in a block', () => {
    assert.equal(blockSize(4, 24), 256n);
    assert.equal(blockSize(4, 32), 1n);
    assert.equal(blockSize(6, 64), 1n << 64n);
  });

  test('lastAddress is the broadcast end, also when the CIDR has host bits', () => {
    assert.equal(lastAddress(cidr('10.5.0.0/16')), ip('10.5.255.255').value);
    assert.equal(lastAddress(cidr('10.5.1.7/24')), ip('10.5.1.255').value);
  });
});

describe('containment', () => {
  const cases: Array<[string, string, boolean]> = [
    ['10.5.0.0/16', '10.5.12.0/25', true],
    ['10.5.0.0/16', '10.5.0.0/16', true],
    ['10.5.0.0/16', '10.6.1.0/24', false],
    ['10.5.0.0/16', '10.0.0.0/8', false],
    ['10.244.0.0/16', '172.24.0.1/24', false],
    ['fc00::/48', 'fc00:0:0:5::1/64', true],
    ['fc00::/48', 'fc00:1:0:5::1/64', false],
    ['10.5.0.0/16', 'fc00::/64', false],
  ];
  for (const [outer, inner, expected] of cases) {
    test(`containsCidr(${outer}, ${inner}) is ${expected}`, () => {
      assert.equal(containsCidr(cidr(outer), cidr(inner)), expected);
    });
  }

  test('containsIp checks an address against a block of its own family only', () => {
    assert.equal(containsIp(cidr('10.5.1.0/24'), ip('10.5.1.200')), true);
    assert.equal(containsIp(cidr('10.5.1.0/24'), ip('10.5.2.0')), false);
    assert.equal(containsIp(cidr('0.0.0.0/0'), ip('::1')), false);
  });

  test('sameCidr compares family, address and prefix length', () => {
    assert.equal(sameCidr(cidr('10.5.1.0/24'), cidr('10.5.1.0/24')), true);
    assert.equal(sameCidr(cidr('10.5.1.0/24'), cidr('10.5.1.0/25')), false);
    assert.equal(sameCidr(cidr('10.5.1.0/24'), cidr('10.5.1.1/24')), false);
  });
});

describe('ordering', () => {
  test('compareCidr orders numerically, not as strings', () => {
    const texts = ['10.5.52.0/24', '10.5.9.0/24', 'fc00::/64', '10.5.1.0/25', '10.5.1.0/24'];
    const sorted = texts.map(cidr).sort(compareCidr).map(formatCidr);
    assert.deepEqual(sorted, [
      '10.5.1.0/24',
      '10.5.1.0/25',
      '10.5.9.0/24',
      '10.5.52.0/24',
      'fc00::/64',
    ]);
  });

  test('compareIp orders IPv4 before IPv6 and by value', () => {
    assert.ok(compareIp(ip('192.0.2.9'), ip('192.0.2.10')) < 0);
    assert.ok(compareIp(ip('192.0.2.10'), ip('192.0.2.9')) > 0);
    assert.ok(compareIp(ip('255.255.255.255'), ip('::')) < 0);
    assert.equal(compareIp(ip('fc00::1'), ip('FC00:0::1')), 0);
  });
});

// IPv4 text is read and written without ip-address for speed; it must agree with ip-address.
describe('IPv4 text agrees with ip-address', () => {
  const texts = [
    '0.0.0.0',
    '255.255.255.255',
    '10.0.0.0',
    '10.255.0.1',
    '192.0.2.200',
    '256.0.0.1',
    '1.2.3.256',
    '999.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '00.0.0.0',
    '0.0.0.00',
    '1.2.3',
    '1.2.3.4.5',
    '1..2.3',
    '1.2.3.4 ',
    '+1.2.3.4',
  ];

  for (const text of texts) {
    test(`${JSON.stringify(text)}: same verdict and value`, () => {
      const expected = Address4.isValid(text) ? new Address4(text).bigInt() : undefined;

      assert.equal(parseIp(text)?.value, expected);
    });
  }

  test('formatIp prints what ip-address prints, across the whole range', () => {
    for (let step = 0; step <= 4096; step++) {
      const value = BigInt(Math.min(2 ** 32 - 1, step * 1048573));

      assert.equal(formatIp(4, value), Address4.fromBigInt(value).correctForm());
    }
  });
});
