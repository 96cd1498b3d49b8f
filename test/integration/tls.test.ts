// `flanctl leases ls` against etcd serving https with certificates made here: the good path,
// and each way TLS goes wrong. TLS problems are exit 7 with the reason on one stderr line.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Etcd3 } from 'etcd3';

import {
  EXIT_DENIED,
  EXIT_UNREACHABLE,
  EXIT_USAGE,
  assertOneLineError,
  stderrLines,
} from '../helpers/cli-output.js';
import { type EtcdServer, startEtcd } from '../helpers/etcd-server.js';
import { leasesLs } from '../helpers/leases.js';
import { leaseValue } from '../helpers/seed.js';
import { type KeyPair, type TestPki, makeTempPki, removeTestPki, tlsFlags } from './certs.js';
import { CONFIG, assertListed, assertStderrMatches } from './support.js';

const PREFIX = '/t-tls/coreos.com/network';
const SUBNETS = ['10.7.1.0/24', '10.7.2.0/24'];
const SEED_DEADLINE_MS = 10_000;

// seedState speaks plain http only, so TLS servers get their network through etcd3 directly:
// one lease as flanneld writes it, one reservation and the config.
async function seedOverTls(endpoint: string, caFile: string, identity?: KeyPair): Promise<void> {
  const client = new Etcd3({
    hosts: endpoint,
    credentials: {
      rootCertificate: fs.readFileSync(caFile),
      certChain: identity && fs.readFileSync(identity.certFile),
      privateKey: identity && fs.readFileSync(identity.keyFile),
    },
    defaultCallOptions: () => ({ deadline: Date.now() + SEED_DEADLINE_MS }),
  });

  try {
    const lease = await client.leaseClient.leaseGrant({ TTL: 86400, ID: '0' });
    const put = (key: string, value: string, leaseId = '0') =>
      client.kv.put({ key: Buffer.from(key), value: Buffer.from(value), lease: leaseId });

    await put(`${PREFIX}/config`, CONFIG);
    await put(`${PREFIX}/subnets/10.7.1.0-24`, leaseValue('192.0.2.71'), lease.ID);
    await put(`${PREFIX}/subnets/10.7.2.0-24`, leaseValue('192.0.2.72'));
  } finally {
    client.close();
  }
}

function hostPort(server: EtcdServer): string {
  return `127.0.0.1:${server.clientPort}`;
}

describe('flanctl over TLS', () => {
  let pki: TestPki;
  let good: EtcdServer;
  let clientAuth: EtcdServer;
  let otherHost: EtcdServer;
  let expired: EtcdServer;
  let plain: EtcdServer;

  before(async () => {
    pki = await makeTempPki('pki');

    good = await startEtcd({ tls: { ...pki.server } });
    await seedOverTls(good.endpoint, pki.caFile);

    clientAuth = await startEtcd({
      tls: {
        ...pki.server,
        caFile: pki.caFile,
        clientCertAuth: true,
        probeCertFile: pki.client.certFile,
        probeKeyFile: pki.client.keyFile,
      },
    });
    await seedOverTls(clientAuth.endpoint, pki.caFile, pki.client);

    otherHost = await startEtcd({ tls: { ...pki.otherHost } });
    expired = await startEtcd({ tls: { ...pki.expired } });
    plain = await startEtcd();
  });

  after(async () => {
    for (const server of [good, clientAuth, otherHost, expired, plain]) {
      await server?.stop();
    }

    await removeTestPki(pki);
  });

  test('the harness serves https on the client URL', () => {
    assert.equal(good.endpoint, `https://${hostPort(good)}`);
  });

  test('https with the right --cacert lists the seeded network', async () => {
    const result = await leasesLs(good.endpoint, PREFIX, ['--cacert', pki.caFile]);

    assertListed(result, SUBNETS);
  });

  test('a successful https run writes no foreign lines (such as runtime warnings) on stderr', async () => {
    const result = await leasesLs(good.endpoint, PREFIX, ['--cacert', pki.caFile]);

    assertListed(result, SUBNETS);
    const foreign = stderrLines(result).filter((line) => !line.startsWith('flanctl: '));
    assert.deepEqual(foreign, [], `stderr: ${result.stderr}`);
  });

  test('the CA from ETCDCTL_CACERT works like --cacert', async () => {
    const result = await leasesLs(good.endpoint, PREFIX, [], {
      env: { ETCDCTL_CACERT: pki.caFile },
    });

    assertListed(result, SUBNETS);
  });

  test('without --cacert (system trust store): exit 7, unknown authority', async () => {
    const result = await leasesLs(good.endpoint, PREFIX);

    assertOneLineError(result, EXIT_DENIED, hostPort(good));
    assertStderrMatches(result, /unknown authority/i);
  });

  test('a CA that did not sign the server certificate: exit 7, hint names the CA file', async () => {
    const result = await leasesLs(good.endpoint, PREFIX, ['--cacert', pki.otherCaFile]);

    assertOneLineError(result, EXIT_DENIED, hostPort(good), pki.otherCaFile);
    assertStderrMatches(result, /unknown authority/i);
  });

  test('a server certificate for another host: exit 7, host name mismatch', async () => {
    const result = await leasesLs(otherHost.endpoint, PREFIX, ['--cacert', pki.caFile]);

    assertOneLineError(result, EXIT_DENIED, hostPort(otherHost));
    assertStderrMatches(result, /does not (name|match) this host|host ?name mismatch/i);
  });

  test('an expired server certificate: exit 7, expired', async () => {
    const result = await leasesLs(expired.endpoint, PREFIX, ['--cacert', pki.caFile]);

    assertOneLineError(result, EXIT_DENIED, hostPort(expired));
    assertStderrMatches(result, /expired/i);
  });

  test('http:// to the TLS port: exit 7, the endpoint expects TLS, use https://', async () => {
    const result = await leasesLs(`http://${hostPort(good)}`, PREFIX);

    assertOneLineError(result, EXIT_DENIED, `https://${hostPort(good)}`);
    assertStderrMatches(result, /expects TLS/i);
  });

  test('https:// to a plain-http etcd: exit 7, it does not speak TLS', async () => {
    const result = await leasesLs(`https://${hostPort(plain)}`, PREFIX, ['--cacert', pki.caFile]);

    assertOneLineError(result, EXIT_DENIED, hostPort(plain));
    assertStderrMatches(result, /does not speak TLS/i);
  });

  describe('a server that requires client certificates', () => {
    test('with --cert and --key: the network is listed', async () => {
      const result = await leasesLs(
        clientAuth.endpoint,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, cert: pki.client.certFile, key: pki.client.keyFile }),
      );

      assertListed(result, SUBNETS);
    });

    test('without --cert and --key: exit 6 or 7, one line naming the endpoint', async () => {
      const result = await leasesLs(clientAuth.endpoint, PREFIX, ['--cacert', pki.caFile]);

      assert.ok(
        [EXIT_UNREACHABLE, EXIT_DENIED].includes(result.code),
        `exit ${result.code}; stderr: ${result.stderr}`,
      );
      assertOneLineError(result, result.code, hostPort(clientAuth));
    });

    test('without --cert and --key: exit 7 saying a client certificate is needed', async () => {
      const result = await leasesLs(clientAuth.endpoint, PREFIX, ['--cacert', pki.caFile]);

      assertOneLineError(result, EXIT_DENIED, hostPort(clientAuth));
      assertStderrMatches(result, /client certificate/i);
    });
  });

  describe('TLS files that cannot be used are usage errors', () => {
    test('--cacert /nonexistent: exit 2 naming the file', async () => {
      const result = await leasesLs(good.endpoint, PREFIX, ['--cacert', '/nonexistent']);

      assertOneLineError(result, EXIT_USAGE, '/nonexistent');
    });

    test('--cert without --key: exit 2 naming both flags', async () => {
      const result = await leasesLs(
        clientAuth.endpoint,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, cert: pki.client.certFile }),
      );

      assertOneLineError(result, EXIT_USAGE, '--cert', '--key');
    });

    test('--key without --cert: exit 2 naming both flags', async () => {
      const result = await leasesLs(
        clientAuth.endpoint,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, key: pki.client.keyFile }),
      );

      assertOneLineError(result, EXIT_USAGE, '--cert', '--key');
    });
  });
});
