// A throwaway PKI for the TLS tests, made with the openssl CLI in a temp dir: two unrelated CAs,
// server certificates that are good, name another host or have expired, and a client
// certificate. Keys are P-256, which is quick to generate.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const OPENSSL_TIMEOUT_MS = 20_000;
const VALID_DAYS = '2';
const KEY_ARGS = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface KeyPair {
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  caFile: string;
  otherCaFile: string;
  /** Signed by caFile, IP SAN 127.0.0.1; also usable as a client certificate. */
  server: KeyPair;
  /** Signed by caFile, names only DNS:otherhost. */
  otherHost: KeyPair;
  /** Signed by caFile, IP SAN 127.0.0.1, valid only on 1 and 2 January 2020. */
  expired: KeyPair;
  /** Signed by caFile, for client-cert authentication. */
  client: KeyPair;
}

/** Runs the openssl CLI in `dir`; a failure carries openssl's stderr. */
export async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir, timeout: OPENSSL_TIMEOUT_MS });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args.join(' ')} failed: ${(error as Error).message}\n${stderr}`);
  }
}

async function makeCa(dir: string, name: string): Promise<string> {
  await openssl(dir, [
    'req',
    '-x509',
    ...KEY_ARGS,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    VALID_DAYS,
    '-subj',
    `/CN=flanctl test ${name}`,
  ]);

  return path.join(dir, `${name}.crt`);
}

async function makeRequest(dir: string, name: string, commonName: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-new',
    ...KEY_ARGS,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${commonName}`,
  ]);
}

function pair(dir: string, name: string): KeyPair {
  return { certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) };
}

/** A certificate for `name`, valid from now, signed by the CA `ca`. */
async function signLeaf(
  dir: string,
  ca: string,
  name: string,
  extensions: string[],
  serial: number,
): Promise<KeyPair> {
  await makeRequest(dir, name, name);
  await fs.writeFile(path.join(dir, `${name}.ext`), `${extensions.join('\n')}\n`);

  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    String(serial),
    '-days',
    VALID_DAYS,
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);

  return pair(dir, name);
}

// `openssl x509 -req` only signs from now on; `openssl ca` takes explicit start and end dates.
async function signExpired(dir: string, ca: string, name: string): Promise<KeyPair> {
  await makeRequest(dir, name, '127.0.0.1');
  const database = path.join(dir, `${name}-db`);
  await fs.mkdir(database);
  await fs.writeFile(path.join(database, 'index.txt'), '');
  await fs.writeFile(path.join(database, 'serial'), '1000\n');

  const config = [
    '[ca]',
    'default_ca = expired_ca',
    '[expired_ca]',
    `database = ${path.join(database, 'index.txt')}`,
    `new_certs_dir = ${database}`,
    `serial = ${path.join(database, 'serial')}`,
    'default_md = sha256',
    'policy = any_name',
    'x509_extensions = leaf',
    '[any_name]',
    'commonName = supplied',
    '[leaf]',
    'subjectAltName = IP:127.0.0.1',
    'extendedKeyUsage = serverAuth, clientAuth',
  ];
  await fs.writeFile(path.join(dir, `${name}.cnf`), `${config.join('\n')}\n`);

  await openssl(dir, [
    'ca',
    '-batch',
    '-notext',
    '-config',
    `${name}.cnf`,
    '-cert',
    `${ca}.crt`,
    '-keyfile',
    `${ca}.key`,
    '-in',
    `${name}.csr`,
    '-out',
    `${name}.crt`,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
  ]);

  return pair(dir, name);
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  const caFile = await makeCa(dir, 'ca');
  const otherCaFile = await makeCa(dir, 'other-ca');

  // serverAuth and clientAuth, so the server pair also works where a client certificate is wanted.
  const serverUsage = 'extendedKeyUsage = serverAuth, clientAuth';
  const server = await signLeaf(
    dir,
    'ca',
    'server',
    ['subjectAltName = IP:127.0.0.1', serverUsage],
    2,
  );
  const otherHost = await signLeaf(
    dir,
    'ca',
    'otherhost',
    ['subjectAltName = DNS:otherhost', serverUsage],
    3,
  );
  const client = await signLeaf(dir, 'ca', 'client', ['extendedKeyUsage = clientAuth'], 4);
  const expired = await signExpired(dir, 'ca', 'expired');

  return { dir, caFile, otherCaFile, server, otherHost, expired, client };
}

/** The TLS flags of a command line, in the order --cacert, --cert, --key; absent ones left out. */
export function tlsFlags(files: { cacert?: string; cert?: string; key?: string }): string[] {
  const flags: string[] = [];
  if (files.cacert !== undefined) flags.push('--cacert', files.cacert);
  if (files.cert !== undefined) flags.push('--cert', files.cert);
  if (files.key !== undefined) flags.push('--key', files.key);
  return flags;
}

/** makeTestPki in a temp dir of its own (flanctl-LABEL-…), which removeTestPki deletes. */
export async function makeTempPki(label: string): Promise<TestPki> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `flanctl-${label}-`));
  try {
    return await makeTestPki(dir);
  } catch (error) {
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Deletes the temp dir of a PKI from makeTempPki; nothing when there is none. */
export async function removeTestPki(pki: TestPki | undefined): Promise<void> {
  if (pki !== undefined) {
    await fs.rm(pki.dir, { recursive: true, force: true });
  }
}
