// The hand-written protobuf of the read path, byte for byte. Expected bytes are built here with
// BigInt arithmetic, independently of the 32-bit halves the codec works with; that the messages
// are what etcd speaks is shown by every command test, which reads through this codec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  MalformedMessageError,
  decodeAuthenticateResponse,
  decodeLeaseTimeToLiveResponse,
  decodeRangeResponse,
  encodeAuthenticateRequest,
  encodeLeaseTimeToLiveRequest,
  encodeRangeRequest,
} from '../../../src/etcd/wire.js';

const VARINT = 0;
const BYTES = 2;

/** A varint of the int64 `value` as protobuf writes it (negative: ten bytes). */
function varint(value: bigint): number[] {
  let rest = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

function field(number: number, value: bigint | Buffer | string): number[] {
  if (typeof value === 'bigint')
    return [...varint(BigInt((number << 3) | VARINT)), ...varint(value)];

  const bytes = Buffer.from(value);
  return [...varint(BigInt((number << 3) | BYTES)), ...varint(BigInt(bytes.length)), ...bytes];
}

function message(...fields: number[][]): Buffer {
  return Buffer.from(fields.flat());
}

/** What the encoders return: gRPC's 5-byte prefix (uncompressed, length) and the message. */
function framed(body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

// 0xf000000000000001: above 2^63, so etcd's int64 holds it as a negative number.
const ID_ABOVE_2_63 = BigInt.asIntN(64, 0xf000000000000001n);
// 0x694d8543300001a1: above 2^53, where a JS number would lose the low bits.
const ID_ABOVE_2_53 = 0x694d8543300001a1n;

describe('encodeLeaseTimeToLiveRequest', () => {
  test('a small id, without keys', () => {
    assert.deepEqual(
      encodeLeaseTimeToLiveRequest('12345', false),
      framed(message(field(1, 12345n))),
    );
  });

  test('an id above 2^53, with keys', () => {
    assert.deepEqual(
      encodeLeaseTimeToLiveRequest(ID_ABOVE_2_53.toString(), true),
      framed(message(field(1, ID_ABOVE_2_53), field(2, 1n))),
    );
  });

  test('an id above 2^63 (negative in decimal) becomes a ten-byte varint', () => {
    const encoded = encodeLeaseTimeToLiveRequest(ID_ABOVE_2_63.toString(), false);

    assert.deepEqual(encoded, framed(message(field(1, ID_ABOVE_2_63))));
    assert.equal(encoded.length, 5 + 1 + 10);
  });

  test('id 0 is the default and is left out', () => {
    assert.deepEqual(encodeLeaseTimeToLiveRequest('0', false), framed(Buffer.alloc(0)));
  });
});

describe('encodeRangeRequest', () => {
  test('key, range end, limit, revision and keys only, in field order', () => {
    const request = {
      key: Buffer.from('/coreos.com/network/subnets/'),
      rangeEnd: Buffer.from('/coreos.com/network/subnets0'),
      limit: 1000,
      revision: 2 ** 40 + 7,
      keysOnly: true,
    };

    assert.deepEqual(
      encodeRangeRequest(request),
      framed(
        message(
          field(1, request.key),
          field(2, request.rangeEnd),
          field(3, 1000n),
          field(4, 2n ** 40n + 7n),
          field(8, 1n),
        ),
      ),
    );
  });

  test('a single key leaves every default out', () => {
    const key = Buffer.from([0x00, 0xff, 0x80]);

    assert.deepEqual(encodeRangeRequest({ key }), framed(message(field(1, key))));
  });
});

describe('encodeAuthenticateRequest', () => {
  test('name and password as UTF-8 strings', () => {
    assert.deepEqual(
      encodeAuthenticateRequest('flannel', 'pässwörd'),
      framed(message(field(1, 'flannel'), field(2, 'pässwörd'))),
    );
  });
});

describe('decodeLeaseTimeToLiveResponse', () => {
  const header = field(1, message(field(1, 8348928126112426848n), field(3, 75539n)));

  test('remaining and granted TTL; the header and the id are skipped', () => {
    const answer = message(header, field(2, ID_ABOVE_2_63), field(3, 86311n), field(4, 86400n));

    assert.deepEqual(decodeLeaseTimeToLiveResponse(answer), {
      ttl: 86311,
      grantedTtl: 86400,
      keys: [],
    });
  });

  test('TTL -1 for a lease etcd does not know, granted TTL left at its default 0', () => {
    const answer = message(header, field(2, 12345n), field(3, -1n));

    assert.deepEqual(decodeLeaseTimeToLiveResponse(answer), { ttl: -1, grantedTtl: 0, keys: [] });
  });

  test('the attached keys, in order', () => {
    const answer = message(
      field(3, 60n),
      field(4, 90n),
      field(5, '/coreos.com/network/subnets/10.5.1.0-24'),
      field(5, '/ä'),
    );

    assert.deepEqual(decodeLeaseTimeToLiveResponse(answer).keys, [
      '/coreos.com/network/subnets/10.5.1.0-24',
      '/ä',
    ]);
  });
});

describe('decodeRangeResponse', () => {
  const kv = (key: string, value: string, lease: bigint, revisions: [bigint, bigint, bigint]) =>
    field(
      2,
      message(
        field(1, key),
        field(2, revisions[0]),
        field(3, revisions[1]),
        field(4, revisions[2]),
        field(5, value),
        ...(lease === 0n ? [] : [field(6, lease)]),
      ),
    );

  test('revision, keys with values and exact lease ids, and more', () => {
    const answer = message(
      field(1, message(field(1, 99n), field(2, 98n), field(3, 75539n), field(4, 2n))),
      kv('/n/subnets/10.5.1.0-24', '{"PublicIP":"192.0.2.1"}', ID_ABOVE_2_63, [7n, 9n, 2n]),
      kv('/n/subnets/10.5.2.0-24', 'värde', ID_ABOVE_2_53, [8n, 8n, 1n]),
      kv('/n/subnets/10.5.3.0-24', '', 0n, [10n, 10n, 1n]),
      field(3, 1n),
      field(4, 3n),
    );

    assert.deepEqual(decodeRangeResponse(answer), {
      revision: 75539,
      more: true,
      kvs: [
        {
          key: '/n/subnets/10.5.1.0-24',
          value: '{"PublicIP":"192.0.2.1"}',
          lease: '-1152921504606846975',
          createRevision: 7,
          modRevision: 9,
          version: 2,
        },
        {
          key: '/n/subnets/10.5.2.0-24',
          value: 'värde',
          lease: '7587867470803763617',
          createRevision: 8,
          modRevision: 8,
          version: 1,
        },
        {
          key: '/n/subnets/10.5.3.0-24',
          value: '',
          lease: '0',
          createRevision: 10,
          modRevision: 10,
          version: 1,
        },
      ],
    });
  });

  test('an empty answer: no keys, no more, revision 0', () => {
    assert.deepEqual(decodeRangeResponse(Buffer.alloc(0)), { revision: 0, more: false, kvs: [] });
  });

  test('fields it does not know are skipped, whatever their wire type', () => {
    const answer = message(
      [(9 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8],
      [(10 << 3) | 5, 1, 2, 3, 4],
      field(11, 'ignored'),
      field(12, 5n),
      field(3, 1n),
    );

    assert.deepEqual(decodeRangeResponse(answer), { revision: 0, more: true, kvs: [] });
  });
});

describe('decodeAuthenticateResponse', () => {
  test('the token', () => {
    const answer = message(field(1, message(field(3, 5n))), field(2, 'abc.def.ghi'));

    assert.equal(decodeAuthenticateResponse(answer), 'abc.def.ghi');
  });
});

describe('malformed messages', () => {
  const cases: Array<[string, Buffer]> = [
    ['a varint cut short', Buffer.from([(3 << 3) | VARINT, 0x80, 0x80])],
    ['a varint longer than 10 bytes', Buffer.from([(3 << 3) | VARINT, ...Array(11).fill(0x80), 1])],
    ['a field longer than the message', Buffer.from([(5 << 3) | BYTES, 10, 0x61])],
    ['a fixed field cut short', Buffer.from([(9 << 3) | 1, 1, 2])],
    ['wire type 3 (groups)', Buffer.from([(9 << 3) | 3])],
  ];

  for (const [name, bytes] of cases) {
    test(`${name}: MalformedMessageError`, () => {
      assert.throws(() => decodeLeaseTimeToLiveResponse(bytes), MalformedMessageError);
    });
  }
});
