// TLS files that cannot be used: a CA, certificate or key that is not PEM, a certificate and key
// that do not belong together. Each is a usage error (exit 2) on one line naming the file,
// found before any connection: most cases point at a closed local port, and the same checks
// hold in front of a live https etcd started here with throwaway certificates.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { EXIT_OK, EXIT_USAGE, assertOneLineError, stderrLines } from '../helpers/cli-output.js';
import { type EtcdServer, freePort, startEtcd } from '../helpers/etcd-server.js';
import { leasesLs } from '../helpers/leases.js';
import { type TestPki, makeTempPki, openssl, removeTestPki, tlsFlags } from './certs.js';

const PREFIX = '/t-tls-files/coreos.com/network';

// Files that exist and can be read, but hold nothing gRPC can use as PEM.
interface BadFiles {
  text: string;
  empty: string;
  caDer: string;
  clientCertDer: string;
  clientKeyDer: string;
  encryptedKey: string;
}

async function makeBadFiles(dir: string, pki: TestPki): Promise<BadFiles> {
  const files: BadFiles = {
    text: path.join(dir, 'notes.txt'),
    empty: path.join(dir, 'empty.pem'),
    caDer: path.join(dir, 'ca.der'),
    clientCertDer: path.join(dir, 'client-cert.der'),
    clientKeyDer: path.join(dir, 'client-key.der'),
    encryptedKey: path.join(dir, 'client-encrypted.key'),
  };

  await writeFile(files.text, 'this is a note about the cluster, not a certificate\n');
  await writeFile(files.empty, '');
  await openssl(dir, ['x509', '-in', pki.caFile, '-outform', 'DER', '-out', files.caDer]);
  await openssl(dir, [
    'x509',
    '-in',
    pki.client.certFile,
    '-outform',
    'DER',
    '-out',
    files.clientCertDer,
  ]);
  await openssl(dir, [
    'pkey',
    '-in',
    pki.client.keyFile,
    '-outform',
    'DER',
    '-out',
    files.clientKeyDer,
  ]);
  await openssl(dir, [
    'pkey',
    '-in',
    pki.client.keyFile,
    '-aes256',
    '-passout',
    'pass:flanctl-test',
    '-out',
    files.encryptedKey,
  ]);

  return files;
}

describe('TLS files that cannot be used are usage errors naming the file', () => {
  let pki: TestPki;
  let bad: BadFiles;
  let closed: string;
  let live: EtcdServer;

  before(async () => {
    pki = await makeTempPki('tls-files');
    bad = await makeBadFiles(pki.dir, pki);

    // Nothing listens here: a run that got as far as connecting would fail with exit 6.
    closed = `https://127.0.0.1:${await freePort()}`;
    live = await startEtcd({ tls: { ...pki.server } });
  });

  after(async () => {
    await live?.stop();
    await removeTestPki(pki);
  });

  describe('--cacert', () => {
    for (const [what, file] of [
      ['a text file', (): string => bad.text],
      ['an empty file', (): string => bad.empty],
      ['a private key', (): string => pki.client.keyFile],
    ] as const) {
      test(`${what}: exit 2, names the file, holds no certificate`, async () => {
        const result = await leasesLs(closed, PREFIX, ['--cacert', file()]);

        assertOneLineError(result, EXIT_USAGE, file());
        assert.match(result.stderr, /holds no certificate/);
      });
    }

    test('a text file from ETCDCTL_CACERT: names the file and the variable', async () => {
      const result = await leasesLs(closed, PREFIX, [], { env: { ETCDCTL_CACERT: bad.text } });

      assertOneLineError(result, EXIT_USAGE, bad.text, 'ETCDCTL_CACERT');
      assert.match(result.stderr, /holds no certificate/);
    });

    test('a text file in front of a live https etcd: the same usage error', async () => {
      const result = await leasesLs(live.endpoint, PREFIX, ['--cacert', bad.text]);

      assertOneLineError(result, EXIT_USAGE, bad.text);
      assert.match(result.stderr, /holds no certificate/);
    });

    test('the right CA in DER, not PEM: exit 2 naming the file', async () => {
      const result = await leasesLs(live.endpoint, PREFIX, ['--cacert', bad.caDer]);

      assertOneLineError(result, EXIT_USAGE, bad.caDer);
      assert.match(result.stderr, /PEM|no certificate/);
    });
  });

  describe('--cert and --key', () => {
    test('a certificate and a key that do not belong together: exit 2 naming both', async () => {
      const result = await leasesLs(
        closed,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, cert: pki.server.certFile, key: pki.client.keyFile }),
      );

      assertOneLineError(result, EXIT_USAGE, pki.server.certFile, pki.client.keyFile);
    });

    test('the other way round: exit 2 naming both', async () => {
      const result = await leasesLs(
        closed,
        PREFIX,
        tlsFlags({ cert: pki.client.certFile, key: pki.server.keyFile }),
      );

      assertOneLineError(result, EXIT_USAGE, pki.client.certFile, pki.server.keyFile);
    });

    test('a mismatched pair in front of a live https etcd: the same usage error', async () => {
      const result = await leasesLs(
        live.endpoint,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, cert: pki.server.certFile, key: pki.client.keyFile }),
      );

      assertOneLineError(result, EXIT_USAGE, pki.server.certFile, pki.client.keyFile);
    });

    test('a mismatched pair from ETCDCTL_CERT and ETCDCTL_KEY: exit 2 naming both', async () => {
      const result = await leasesLs(closed, PREFIX, [], {
        env: { ETCDCTL_CERT: pki.server.certFile, ETCDCTL_KEY: pki.client.keyFile },
      });

      assertOneLineError(result, EXIT_USAGE, pki.server.certFile, pki.client.keyFile);
    });

    for (const [what, file] of [
      ['a text file', (): string => bad.text],
      ['an empty file', (): string => bad.empty],
      ['a certificate', (): string => pki.client.certFile],
      ['a DER key', (): string => bad.clientKeyDer],
    ] as const) {
      test(`--key ${what}: exit 2 naming the key file`, async () => {
        const result = await leasesLs(
          closed,
          PREFIX,
          tlsFlags({ cert: pki.client.certFile, key: file() }),
        );

        assertOneLineError(result, EXIT_USAGE, file());
        assert.match(result.stderr, /\bkey\b/);
      });
    }

    test('--key a passphrase-protected key: exit 2 naming the key file', async () => {
      const result = await leasesLs(
        closed,
        PREFIX,
        tlsFlags({ cert: pki.client.certFile, key: bad.encryptedKey }),
      );

      assertOneLineError(result, EXIT_USAGE, bad.encryptedKey);
    });

    test('--cert a text file: exit 2 naming the certificate file', async () => {
      const result = await leasesLs(
        closed,
        PREFIX,
        tlsFlags({ cert: bad.text, key: pki.client.keyFile }),
      );

      assertOneLineError(result, EXIT_USAGE, bad.text);
      assert.match(result.stderr, /holds no certificate/);
    });

    test('--cert the client certificate in DER, not PEM: exit 2 naming the file', async () => {
      const result = await leasesLs(
        live.endpoint,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, cert: bad.clientCertDer, key: pki.client.keyFile }),
      );

      assertOneLineError(result, EXIT_USAGE, bad.clientCertDer);
    });

    test('the matching PEM pair passes the checks and reads the live etcd', async () => {
      const result = await leasesLs(
        live.endpoint,
        PREFIX,
        tlsFlags({ cacert: pki.caFile, cert: pki.client.certFile, key: pki.client.keyFile }),
      );

      assert.equal(result.code, EXIT_OK, `stderr: ${result.stderr}`);
      assert.equal(result.stdout, '');
      // An empty prefix: the note that nothing is there, and no error.
      assert.ok(
        stderrLines(result).every((line) => !line.startsWith('flanctl: error:')),
        result.stderr,
      );
      assert.match(result.stderr, /no leases/);
    });
  });
});
