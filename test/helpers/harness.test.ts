// Self-test of the test helpers: a real etcd, C01 seeded into it, checked with etcdctl and etcd3.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { runCli } from './cli.js';
import { startEtcd, freePort, type EtcdServer } from './etcd-server.js';
import { etcdctl } from './kv-inspect.js';
import { hexLeaseIdToDecimal, loadCaseState, seedState, withRawClient } from './seed.js';

const CASE_PREFIX = '/coreos.com/network';
const TEST_PREFIX = '/harness/coreos.com/network';
const LEASED_KEY = `${TEST_PREFIX}/subnets/10.5.52.0-24`;
const RESERVED_KEY = `${TEST_PREFIX}/subnets/10.5.1.0-24`;
const LEASED_HEX_ID = '694d854330fc5110';
const LEASED_TTL = 74737;
const TTL_SLACK_SECONDS = 5;

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe('test helpers', () => {
  let server: EtcdServer;

  before(async () => {
    server = await startEtcd();
  });

  after(async () => {
    // Undefined only when before() failed; stop() is idempotent after the last test's call.
    await server?.stop();
  });

  test('freePort returns a bindable port number', async () => {
    const port = await freePort();
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536, `bad port ${port}`);
  });

  test('etcd listens on 127.0.0.1 and keeps its data in a temp dir', () => {
    assert.equal(server.endpoint, `http://127.0.0.1:${server.clientPort}`);
    assert.ok(pidIsAlive(server.pid));
    assert.ok(fs.existsSync(server.dataDir));
  });

  test('seeding C01 reproduces keys, values, reservation and lease', async () => {
    const entries = loadCaseState('C01');
    await seedState(server.endpoint, entries, {
      rewritePrefix: { from: CASE_PREFIX, to: TEST_PREFIX },
    });

    const stored = await withRawClient(server.endpoint, async (client) => {
      const response = await client.kv.range({
        key: Buffer.from('/'),
        range_end: Buffer.from('0'),
      });
      return response.kvs;
    });

    const storedKeys = stored.map((kv) => kv.key.toString('utf8')).sort();
    const expectedKeys = entries.map((entry) => entry.key.replace(CASE_PREFIX, TEST_PREFIX));
    assert.deepEqual(storedKeys, [...expectedKeys].sort());

    for (const entry of entries) {
      const key = entry.key.replace(CASE_PREFIX, TEST_PREFIX);
      const kv = stored.find((candidate) => candidate.key.toString('utf8') === key);
      assert.ok(kv, `missing ${key}`);
      assert.ok(kv.value.equals(Buffer.from(entry.value, 'utf8')), `value of ${key} differs`);
    }

    const reserved = stored.find((kv) => kv.key.toString('utf8') === RESERVED_KEY);
    assert.equal(reserved?.lease, '0');

    const leased = stored.find((kv) => kv.key.toString('utf8') === LEASED_KEY);
    assert.equal(leased?.lease, BigInt(`0x${LEASED_HEX_ID}`).toString());
  });

  test('etcdctl sees the C01 lease by its hex id with the case TTL', async () => {
    const output = await etcdctl(server.endpoint, ['lease', 'timetolive', LEASED_HEX_ID, '--keys']);

    const timeToLiveLine =
      /^lease (\w+) granted with TTL\((\d+)s\), remaining\((\d+)s\), attached keys\(\[(.*)\]\)/;
    const match = timeToLiveLine.exec(output.trim());
    assert.ok(match, `unexpected etcdctl output: ${output}`);
    const [, hexId, grantedTtl, remainingTtl, attachedKeys] = match;
    assert.equal(hexId, LEASED_HEX_ID);
    assert.equal(Number(grantedTtl), LEASED_TTL);
    assert.ok(
      Math.abs(Number(remainingTtl) - LEASED_TTL) <= TTL_SLACK_SECONDS,
      `remaining TTL ${remainingTtl} is not near ${LEASED_TTL}`,
    );
    assert.equal(attachedKeys, LEASED_KEY);
  });

  test('seeding refuses states a real etcd cannot hold', async () => {
    const expiredEntry = { key: '/harness-expired/k', value: 'v', ttl: -1, lease: 'abc' };
    await assert.rejects(seedState(server.endpoint, [expiredEntry]), /cannot be built/);

    // C01's lease ids are already granted in this server by the test above.
    await assert.rejects(
      seedState(server.endpoint, loadCaseState('C01'), {
        rewritePrefix: { from: CASE_PREFIX, to: '/harness-again/coreos.com/network' },
      }),
      /lease already exists/,
    );
  });

  test('lease ids above 2^53 convert without precision loss', () => {
    assert.equal(hexLeaseIdToDecimal(LEASED_HEX_ID), '7587867470820299024');
    assert.equal(hexLeaseIdToDecimal('ffffffffffffffff'), '-1');
  });

  test('loadCaseState names the path of a missing file', () => {
    assert.throws(() => loadCaseState('C01', 'no-such-file.json'), /no-such-file\.json/);
  });

  test('runCli resolves with an exit code and text output', async () => {
    const result = await runCli(['--version'], { timeoutMs: 20_000 });
    assert.equal(typeof result.code, 'number');
    assert.equal(typeof result.stdout, 'string');
    assert.equal(typeof result.stderr, 'string');
  });

  test('stop kills etcd by PID, removes the data dir, and can be called again', async () => {
    const { pid, dataDir } = server;
    await server.stop();

    assert.equal(pidIsAlive(pid), false, `etcd PID ${pid} is still alive`);
    assert.equal(fs.existsSync(dataDir), false, `${dataDir} still exists`);
    await server.stop();
  });
});

describe('an etcd restarted', () => {
  test('stopKeepingData and startAgain keep its port, data and revision', async () => {
    const server = await startEtcd();
    try {
      const key = Buffer.from('/harness/restart');
      const written = await withRawClient(server.endpoint, (client) =>
        client.kv.put({ key, value: Buffer.from('kept') }),
      );
      const firstPid = server.pid;

      await server.stopKeepingData();
      assert.equal(pidIsAlive(firstPid), false, `etcd PID ${firstPid} is still alive`);
      await server.startAgain();

      assert.notEqual(server.pid, firstPid);
      const read = await withRawClient(server.endpoint, (client) => client.kv.range({ key }));
      assert.equal(read.kvs[0]?.value.toString(), 'kept');
      assert.equal(read.header.revision, written.header.revision);
    } finally {
      await server.stop();
    }
    assert.equal(fs.existsSync(server.dataDir), false, `${server.dataDir} still exists`);
  });
});

describe('etcd with the v2 API', () => {
  test('enableV2 serves /v2/keys', async () => {
    const server = await startEtcd({ enableV2: true });
    try {
      const response = await fetch(`${server.endpoint}/v2/keys/`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { action?: string };
      assert.equal(body.action, 'get');
    } finally {
      await server.stop();
    }
  });
});
