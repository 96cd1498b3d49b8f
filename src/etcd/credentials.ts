// TLS files named by the settings, read and checked before any connection, so a wrong file is a
// usage error that names it rather than a handshake failure nobody can place.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { usageError } from '../errors.js';
import { type ConnectionSettings, type Resolved, describe } from './settings.js';

export interface TlsCredentials {
  rootCertificate: Buffer;
  certChain?: Buffer;
  privateKey?: Buffer;
}

type FileSetting = 'cacert' | 'cert' | 'key';

export function readCredentials(settings: ConnectionSettings): TlsCredentials | undefined {
  const rootCertificate = readSetting('cacert', settings.cacert);
  const certChain = readSetting('cert', settings.cert);
  const privateKey = readSetting('key', settings.key);
  if (Boolean(certChain) !== Boolean(privateKey)) {
    throw usageError('--cert and --key go together; expected both or neither');
  }

  const secure = settings.endpoints.value.some((endpoint) => endpoint.startsWith('https://'));
  if (!secure && (rootCertificate || certChain)) {
    throw usageError(
      `TLS files are set but the endpoints ${settings.endpoints.value.join(',')} use http://; ` +
        'expected https:// endpoints',
    );
  }

  if (rootCertificate) certificateOf('cacert', settings.cacert, rootCertificate);
  if (certChain && privateKey) checkKeyPair(settings, certChain, privateKey);
  if (!secure || (!rootCertificate && !certChain)) return undefined;

  // etcd3 types rootCertificate as required, but gRPC's createSsl takes null for "use the
  // system's trust store", which is what an https endpoint without --cacert means.
  const systemTrustStore = null as unknown as Buffer;
  return { rootCertificate: rootCertificate ?? systemTrustStore, certChain, privateKey };
}

function readSetting(name: FileSetting, setting?: Resolved<string>): Buffer | undefined {
  if (!setting) return undefined;

  try {
    return readFileSync(setting.value);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw usageError(`cannot read ${describeFile(name, setting)}: ${reason}`);
  }
}

// gRPC reads PEM only; node:crypto would also take DER, so the PEM armour is checked first.
function isPem(contents: Buffer): boolean {
  return contents.includes('-----BEGIN ');
}

function certificateOf(name: FileSetting, setting: Resolved<string> | undefined, pem: Buffer) {
  const expected = 'expected PEM (convert DER with: openssl x509 -inform der)';
  const failure = usageError(`${describeFile(name, setting)} holds no certificate; ${expected}`);
  if (!isPem(pem)) throw failure;

  try {
    return new X509Certificate(pem);
  } catch {
    throw failure;
  }
}

function checkKeyPair(settings: ConnectionSettings, certPem: Buffer, keyPem: Buffer): void {
  const certificate = certificateOf('cert', settings.cert, certPem);
  const expected = 'expected an unencrypted PEM private key';
  if (!isPem(keyPem))
    throw usageError(`${describeFile('key', settings.key)} is not PEM; ${expected}`);

  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw usageError(`${describeFile('key', settings.key)} holds no usable key; ${expected}`);
  }

  if (!certificate.checkPrivateKey(key)) {
    throw usageError(
      `${describeFile('key', settings.key)} does not belong to ` +
        `the certificate in ${settings.cert?.value}`,
    );
  }
}

function describeFile(name: FileSetting, setting?: Resolved<string>): string {
  return setting ? `${name} file ${setting.value} (from ${describe(setting.source)})` : name;
}
