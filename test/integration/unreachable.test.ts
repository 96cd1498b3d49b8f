// `flanctl leases ls` when an endpoint is out of reach: a server that accepts TCP connections and
// never answers must not hang the CLI, and a dead first endpoint must not hide a live second.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { EXIT_UNREACHABLE, assertOneLineError } from '../helpers/cli-output.js';
import { type EtcdServer, freePort, startEtcd } from '../helpers/etcd-server.js';
import { leasesLs } from '../helpers/leases.js';
import { leaseValue, seedState } from '../helpers/seed.js';
import { CONFIG, assertListed } from './support.js';

const PREFIX = '/t-unreachable/coreos.com/network';
// Far above the 1 s dial and 2 s command timeouts given to the CLI: only a hang reaches it.
const RUN_TIMEOUT_MS = 60_000;
// etcd3 picks an endpoint at random for each call, so one lucky run proves little.
const FAILOVER_RUNS = 6;

interface SilentServer {
  port: number;
  close(): Promise<void>;
}

/** Accepts TCP connections on 127.0.0.1 and never sends a byte. */
async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve);
  });

  const address = server.address();
  assert.ok(address !== null && typeof address === 'object', 'silent server has no port');

  return {
    port: address.port,
    close() {
      for (const socket of sockets) {
        socket.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('flanctl with endpoints out of reach', () => {
  let silent: SilentServer;
  let etcd: EtcdServer;

  before(async () => {
    silent = await startSilentServer();
    etcd = await startEtcd();
    await seedState(etcd.endpoint, [
      { key: `${PREFIX}/config`, value: CONFIG, ttl: null },
      { key: `${PREFIX}/subnets/10.7.1.0-24`, value: leaseValue('192.0.2.71'), ttl: 86400 },
    ]);
  });

  after(async () => {
    await silent?.close();
    await etcd?.stop();
  });

  test('a server that accepts and never answers: exit 6 naming it, no hang', async () => {
    const endpoint = `http://127.0.0.1:${silent.port}`;

    const result = await leasesLs(
      endpoint,
      PREFIX,
      ['--dial-timeout', '1s', '--command-timeout', '2s'],
      {
        timeoutMs: RUN_TIMEOUT_MS,
      },
    );

    assertOneLineError(result, EXIT_UNREACHABLE, `127.0.0.1:${silent.port}`);
  });

  test('a closed first endpoint and a live second: the network is listed', async () => {
    const closedPort = await freePort();
    const endpoints = `http://127.0.0.1:${closedPort},${etcd.endpoint}`;

    for (let run = 1; run <= FAILOVER_RUNS; run++) {
      const result = await leasesLs(endpoints, PREFIX, [], { timeoutMs: RUN_TIMEOUT_MS });

      assert.equal(result.code, 0, `run ${run} of ${FAILOVER_RUNS}: stderr: ${result.stderr}`);
      assertListed(result, ['10.7.1.0/24']);
    }
  });
});
