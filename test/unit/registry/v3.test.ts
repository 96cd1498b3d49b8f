// V3Backend without a server: a fake stands in for EtcdClient and serves range() pages from a
// script, so the retry after a compacted revision and the paging can be checked exactly. Lease
// id conversion between etcd's signed decimal int64 and etcdctl's 16-digit hex is pure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { EtcdClient, KeyValue, RangeRequest, RangeResult } from '../../../src/etcd/client.js';
import { FlanctlError } from '../../../src/errors.js';
import { V3Backend, decimalToHex, hexToDecimal } from '../../../src/registry/v3.js';

const DIR = '/coreos.com/network/subnets/';

type PageStep = RangeResult | FlanctlError;

/** What the fake was asked, in order, with the buffers as text. */
interface RecordedRange {
  key: string;
  rangeEnd: string | undefined;
  limit: number | undefined;
  revision: number | undefined;
}

class FakeEtcdClient {
  readonly requests: RecordedRange[] = [];

  constructor(private readonly steps: PageStep[]) {}

  async range(request: RangeRequest): Promise<RangeResult> {
    this.requests.push({
      key: request.key.toString('latin1'),
      rangeEnd: request.rangeEnd?.toString('latin1'),
      limit: request.limit,
      revision: request.revision,
    });

    const step = this.steps.shift();
    if (step === undefined) {
      throw new Error(`range() called ${this.requests.length} times; the script has no more pages`);
    }
    if (step instanceof FlanctlError) throw step;
    return step;
  }

  close(): void {}
}

function backendOver(fake: FakeEtcdClient): V3Backend {
  return new V3Backend(fake as unknown as EtcdClient);
}

function kv(name: string, lease = '0', modRevision = 5): KeyValue {
  return {
    key: `${DIR}${name}`,
    value: '{"PublicIP":"192.0.2.1"}',
    lease,
    createRevision: modRevision,
    modRevision,
    version: 1,
  };
}

function page(names: string[], more: boolean, revision: number): RangeResult {
  return { kvs: names.map((name) => kv(name)), more, revision };
}

function compacted(): FlanctlError {
  return new FlanctlError(
    'conflict',
    'etcd at http://127.0.0.1:1 compacted the revision flanctl was reading',
    'the data changed underneath; run the command again',
  );
}

describe('V3Backend.listSubnets', () => {
  test('reads every page, pinned to the first page revision, from the key after the last', async () => {
    const fake = new FakeEtcdClient([
      page(['10.5.1.0-24', '10.5.2.0-24'], true, 40),
      page(['10.5.3.0-24'], false, 41),
    ]);

    const listing = await backendOver(fake).listSubnets(DIR);

    assert.equal(listing.revision, 40);
    assert.deepEqual(
      listing.subnets.map((subnet) => subnet.name),
      ['10.5.1.0-24', '10.5.2.0-24', '10.5.3.0-24'],
    );
    assert.equal(fake.requests.length, 2);
    assert.deepEqual(fake.requests[0], {
      key: DIR,
      // The prefix with its last byte incremented: '/' + 1 is '0'.
      rangeEnd: '/coreos.com/network/subnets0',
      limit: 1000,
      revision: undefined,
    });
    assert.deepEqual(fake.requests[1], {
      key: `${DIR}10.5.2.0-24\u0000`,
      rangeEnd: '/coreos.com/network/subnets0',
      limit: 1000,
      revision: 40,
    });
  });

  test('a compacted revision on a later page: one fresh read, then success', async () => {
    const fake = new FakeEtcdClient([
      page(['10.5.1.0-24'], true, 40),
      compacted(),
      page(['10.5.1.0-24'], true, 57),
      page(['10.5.2.0-24', '10.5.9.0-24'], false, 57),
    ]);

    const listing = await backendOver(fake).listSubnets(DIR);

    assert.equal(listing.revision, 57);
    assert.deepEqual(
      listing.subnets.map((subnet) => subnet.name),
      ['10.5.1.0-24', '10.5.2.0-24', '10.5.9.0-24'],
      'the first attempt left rows behind',
    );
    assert.equal(fake.requests.length, 4);
    // The retry starts over from the top of the directory at the newest revision.
    assert.equal(fake.requests[2].key, DIR);
    assert.equal(fake.requests[2].revision, undefined);
    assert.equal(fake.requests[3].revision, 57);
  });

  test('a compacted revision on the first page is retried too', async () => {
    const fake = new FakeEtcdClient([compacted(), page(['10.5.1.0-24'], false, 60)]);

    const listing = await backendOver(fake).listSubnets(DIR);

    assert.equal(listing.revision, 60);
    assert.equal(listing.subnets.length, 1);
    assert.equal(fake.requests.length, 2);
  });

  test('a second conflict propagates, after exactly one retry', async () => {
    const second = compacted();
    const fake = new FakeEtcdClient([
      page(['10.5.1.0-24'], true, 40),
      compacted(),
      page(['10.5.1.0-24'], true, 57),
      second,
      page(['10.5.2.0-24'], false, 70),
    ]);

    await assert.rejects(backendOver(fake).listSubnets(DIR), (error: unknown) => {
      assert.equal(error, second);
      return true;
    });
    assert.equal(fake.requests.length, 4, 'read again after the second conflict');
  });

  for (const kind of ['unreachable', 'denied', 'unexpected'] as const) {
    test(`an error of kind ${kind} is not retried`, async () => {
      const failure = new FlanctlError(kind, `a ${kind} failure`);
      const fake = new FakeEtcdClient([page(['10.5.1.0-24'], true, 40), failure]);

      await assert.rejects(backendOver(fake).listSubnets(DIR), (error: unknown) => {
        assert.equal(error, failure);
        return true;
      });
      assert.equal(fake.requests.length, 2);
    });
  }

  test('an error that is not a FlanctlError is not retried', async () => {
    const fake = new FakeEtcdClient([]);
    fake.range = async () => {
      fake.requests.push({ key: '', rangeEnd: undefined, limit: undefined, revision: undefined });
      throw new Error('boom');
    };

    await assert.rejects(backendOver(fake).listSubnets(DIR), /boom/);
    assert.equal(fake.requests.length, 1);
  });

  test('lease ids become hex, lease 0 a reservation (null)', async () => {
    const fake = new FakeEtcdClient([
      {
        kvs: [kv('10.5.1.0-24', '0'), kv('10.5.2.0-24', '-4539648215598759870')],
        more: false,
        revision: 9,
      },
    ]);

    const listing = await backendOver(fake).listSubnets(DIR);

    assert.deepEqual(
      listing.subnets.map((subnet) => subnet.leaseId),
      [null, 'c0ffee0000000042'],
    );
  });
});

describe('lease id conversion', () => {
  // [decimal as etcd's int64 sends it, hex as etcdctl prints it]
  const pairs: Array<[string, string]> = [
    ['1', '0000000000000001'],
    ['43969', '000000000000abc1'],
    ['7587867470820299024', '694d854330fc5110'],
    ['9223372036854775807', '7fffffffffffffff'],
    // From 2^63 up, the int64 is negative.
    ['-9223372036854775808', '8000000000000000'],
    ['-4539648215598759870', 'c0ffee0000000042'],
    ['-1', 'ffffffffffffffff'],
  ];

  for (const [decimal, hex] of pairs) {
    test(`${decimal} <-> ${hex}`, () => {
      assert.equal(decimalToHex(decimal), hex);
      assert.equal(hexToDecimal(hex), decimal);
      assert.equal(hexToDecimal(decimalToHex(decimal)), decimal);
    });
  }

  test('hex is always 16 lowercase digits', () => {
    for (const [decimal] of pairs) {
      assert.match(decimalToHex(decimal), /^[0-9a-f]{16}$/);
    }
  });

  test('an unsigned decimal at or above 2^63 gives the same hex as its negative form', () => {
    assert.equal(decimalToHex('13907095858110791746'), 'c0ffee0000000042');
    assert.equal(decimalToHex('18446744073709551615'), 'ffffffffffffffff');
  });

  test('hexToDecimal accepts unpadded and uppercase hex', () => {
    assert.equal(hexToDecimal('abc1'), '43969');
    assert.equal(hexToDecimal('C0FFEE0000000042'), '-4539648215598759870');
  });
});
