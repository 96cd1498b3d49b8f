// Subnet key values: flannel's LeaseAttrs JSON, in every shape found in real etcds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type LeaseAttrs, parseLeaseValue } from '../../../src/domain/lease-attrs.js';

function attrs(value: string): LeaseAttrs {
  const parsed = parseLeaseValue(value);
  assert.ok(parsed.ok, `test setup: ${value} should parse`);
  return parsed.attrs;
}

function reason(value: string): string {
  const parsed = parseLeaseValue(value);
  assert.equal(parsed.ok, false, `${JSON.stringify(value)} should be rejected`);
  return parsed.ok ? '' : parsed.reason;
}

const KEY_PATH_REASON =
  'value is a key path, not LeaseAttrs JSON (left by `etcdctl put KEY $(etcdctl get KEY)`)';

describe('parseLeaseValue: accepted values', () => {
  test('reads the full value flanneld writes', () => {
    const value =
      '{"PublicIP":"192.0.2.10","PublicIPv6":null,"BackendType":"vxlan",' +
      '"BackendData":{"VtepMAC":"82:4b:b6:2f:54:4e"},"BackendV6Data":null}';
    assert.deepEqual(attrs(value), {
      publicIP: '192.0.2.10',
      publicIPv6: null,
      backendType: 'vxlan',
      backendData: { VtepMAC: '82:4b:b6:2f:54:4e' },
      backendV6Data: null,
      vtepMac: '82:4b:b6:2f:54:4e',
    });
  });

  test('reads the older layout without PublicIPv6 and VNI (C01)', () => {
    const value =
      '{"PublicIP":"192.0.2.9","BackendType":"vxlan",' +
      '"BackendData":{"VtepMAC":"00:00:5e:10:00:09"}}';
    assert.deepEqual(attrs(value), {
      publicIP: '192.0.2.9',
      publicIPv6: null,
      backendType: 'vxlan',
      backendData: { VtepMAC: '00:00:5e:10:00:09' },
      backendV6Data: null,
      vtepMac: '00:00:5e:10:00:09',
    });
  });

  test('reads a dual-stack value with its IPv6 backend data (C09)', () => {
    const value =
      '{"PublicIP":"192.0.2.34","PublicIPv6":"2001:db8::34","BackendType":"vxlan",' +
      '"BackendData":{"VNI":1,"VtepMAC":"00:00:5e:10:00:34"},' +
      '"BackendV6Data":{"VNI":1,"VtepMAC":"00:00:5e:10:00:35"}}';
    const parsed = attrs(value);
    assert.equal(parsed.publicIPv6, '2001:db8::34');
    assert.deepEqual(parsed.backendData, { VNI: 1, VtepMAC: '00:00:5e:10:00:34' });
    assert.deepEqual(parsed.backendV6Data, { VNI: 1, VtepMAC: '00:00:5e:10:00:35' });
    assert.equal(parsed.vtepMac, '00:00:5e:10:00:34');
  });

  test('matches field names case-insensitively, as Go decodes them', () => {
    const value =
      '{"publicip":"192.0.2.9","publicipv6":"2001:db8::9","backendtype":"vxlan",' +
      '"backenddata":{"vtepmac":"00:00:5e:10:00:09"},"backendv6data":{"x":1}}';
    assert.deepEqual(attrs(value), {
      publicIP: '192.0.2.9',
      publicIPv6: '2001:db8::9',
      backendType: 'vxlan',
      backendData: { vtepmac: '00:00:5e:10:00:09' },
      backendV6Data: { x: 1 },
      vtepMac: '00:00:5e:10:00:09',
    });
  });

  test('needs only PublicIP', () => {
    assert.deepEqual(attrs('{"PublicIP":"192.0.2.1"}'), {
      publicIP: '192.0.2.1',
      publicIPv6: null,
      backendType: null,
      backendData: null,
      backendV6Data: null,
      vtepMac: null,
    });
  });

  test('accepts surrounding whitespace and unknown fields', () => {
    const parsed = attrs('\n {"PublicIP":"192.0.2.1","BackendType":"host-gw","Extra":[1]} \n');
    assert.equal(parsed.publicIP, '192.0.2.1');
    assert.equal(parsed.backendType, 'host-gw');
  });

  test('has no VTEP MAC for backends that write other data', () => {
    const parsed = attrs('{"PublicIP":"192.0.2.1","BackendType":"udp","BackendData":null}');
    assert.equal(parsed.vtepMac, null);
    assert.equal(attrs('{"PublicIP":"192.0.2.1","BackendData":{"VtepMAC":7}}').vtepMac, null);
    assert.equal(attrs('{"PublicIP":"192.0.2.1","BackendData":"x"}').vtepMac, null);
  });

  test('treats a non-string BackendType as absent', () => {
    assert.equal(attrs('{"PublicIP":"192.0.2.1","BackendType":5}').backendType, null);
  });
});

describe('parseLeaseValue: reported problems', () => {
  const cases: Array<[string, string, string]> = [
    ['an empty value', '', 'empty value; expected LeaseAttrs JSON'],
    ['a whitespace-only value', ' \n\t', 'empty value; expected LeaseAttrs JSON'],
    [
      'a JSON array',
      '[{"PublicIP":"192.0.2.1"}]',
      'value is JSON but not an object: "[{\\"PublicIP\\":\\"192.0.2.1\\"}]"',
    ],
    ['JSON null', 'null', 'value is JSON but not an object: "null"'],
    ['a JSON string', '"192.0.2.1"', 'value is JSON but not an object: "\\"192.0.2.1\\""'],
    ['an object without PublicIP', '{"BackendType":"vxlan"}', 'value has no PublicIP'],
    ['a null PublicIP', '{"PublicIP":null}', 'value has no PublicIP'],
    [
      'an IPv6 PublicIP',
      '{"PublicIP":"2001:db8::1"}',
      'PublicIP "2001:db8::1" is not an IPv4 address',
    ],
    ['a numeric PublicIP', '{"PublicIP":3221225985}', 'PublicIP 3221225985 is not an IPv4 address'],
    [
      'a PublicIP with a prefix',
      '{"PublicIP":"192.0.2.1/24"}',
      'PublicIP "192.0.2.1/24" is not an IPv4 address',
    ],
    [
      'an IPv4 PublicIPv6',
      '{"PublicIP":"192.0.2.1","PublicIPv6":"192.0.2.1"}',
      'PublicIPv6 "192.0.2.1" is not an IPv6 address',
    ],
    [
      'the key path left by etcdctl put KEY $(etcdctl get KEY)',
      '/coreos.com/network/subnets/10.5.1.0-24',
      KEY_PATH_REASON,
    ],
    [
      'a key path under a custom prefix with a trailing newline',
      '/kube-centos/network/subnets/10.254.21.0-24\n',
      KEY_PATH_REASON,
    ],
  ];
  for (const [what, value, expected] of cases) {
    test(`reports ${what}`, () => {
      assert.equal(reason(value), expected);
    });
  }

  test('reports text that is not JSON and quotes the value', () => {
    const text = reason('PublicIP=192.0.2.1');
    assert.match(text, /^not valid JSON \(.+\): "PublicIP=192\.0\.2\.1"$/);
  });

  test('shortens a long non-JSON value to 60 characters and an ellipsis', () => {
    const value = `x${'y'.repeat(99)}`;
    const text = reason(value);
    assert.ok(text.endsWith(`: "x${'y'.repeat(59)}…"`), text);
  });

  test('reports backslash-escaped quotes from a shell mistake as not JSON (C15)', () => {
    assert.match(reason('{\\"PublicIP\\": \\"192.0.2.1\\"}'), /^not valid JSON \(/);
  });
});
