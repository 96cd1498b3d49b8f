// gRPC reports a refused port, a failed TLS handshake and plain http to a TLS port all as
// "unavailable". These probes tell them apart so the operator gets the real reason.
import { readFileSync } from 'node:fs';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

import { FlanctlError } from '../errors.js';
import { type ConnectionSettings, describe } from './settings.js';

interface Endpoint {
  url: string;
  host: string;
  port: number;
  secure: boolean;
}

function parseEndpoint(url: string): Endpoint {
  const parsed = new URL(url);
  return {
    url,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port),
    secure: parsed.protocol === 'https:',
  };
}

// Once one endpoint has answered, the others get this much longer before a run leaves them out.
const STRAGGLER_GRACE_MS = 50;

/**
 * The endpoints that accept a TCP connection, in the given order. Resolves shortly after the
 * first one connects, and fails within `timeoutMs` naming each endpoint's reason when none does.
 * A member that is down is thus left out of this run instead of failing calls sent to it.
 */
export async function reachableEndpoints(
  endpoints: string[],
  timeoutMs: number,
): Promise<string[]> {
  const outcomes = new Map<string, string | undefined>();
  const attempts = endpoints.map(async (url) => {
    outcomes.set(url, await connectOnce(parseEndpoint(url), timeoutMs));
    return outcomes.get(url);
  });

  const firstSuccess = new Promise<void>((resolve) => {
    for (const attempt of attempts) {
      void attempt.then((reason) => {
        if (reason === undefined) resolve();
      });
    }
  });
  const allSettled = Promise.all(attempts).then(() => undefined);
  await Promise.race([firstSuccess, allSettled]);
  await Promise.race([
    allSettled,
    new Promise((resolve) => setTimeout(resolve, STRAGGLER_GRACE_MS)),
  ]);

  const reachable = endpoints.filter((url) => outcomes.has(url) && outcomes.get(url) === undefined);
  if (reachable.length > 0) return reachable;

  const reasons = endpoints.map((url) => `${url}: ${outcomes.get(url)}`).join('; ');
  throw new FlanctlError('unreachable', `cannot connect to etcd (${reasons})`);
}

/** Undefined on success, else the reason. */
function connectOnce(endpoint: Endpoint, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (reason: string | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => finish(`no answer within ${timeoutMs}ms`), timeoutMs);

    socket.once('connect', () => finish(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(describeSocketError(error)));
    socket.connect(endpoint.port, endpoint.host);
  });
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return error.code ?? error.message;
  }
}

// The HTTP/2 connection preface and an empty SETTINGS frame: etcd answers with its SETTINGS.
const HTTP2_CLIENT_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

type HandshakeOutcome = { ok: true } | { ok: false; code: string; message: string };

/** Builds the error for a gRPC "unavailable" after a TLS/plain-text probe of each endpoint. */
export async function diagnoseUnavailable(
  settings: ConnectionSettings,
  grpcMessage: string,
  cause: { cause: unknown },
): Promise<FlanctlError> {
  const timeoutMs = settings.dialTimeoutMs.value;
  for (const url of settings.endpoints.value) {
    const endpoint = parseEndpoint(url);
    const outcome = await handshake(endpoint, settings, timeoutMs);

    if (endpoint.secure && !outcome.ok && outcome.code !== 'ECONNREFUSED') {
      return new FlanctlError(
        'denied',
        `TLS to ${url} failed: ${tlsReason(outcome)}`,
        tlsHint(outcome, settings),
        cause,
      );
    }

    if (!endpoint.secure && outcome.ok) {
      return new FlanctlError(
        'denied',
        `${url} expects TLS but the endpoint was given as http://`,
        `use --endpoints https://${endpoint.host}:${endpoint.port} (and --cacert if needed)`,
        cause,
      );
    }
  }

  const endpoints = settings.endpoints.value.join(',');
  return new FlanctlError(
    'unreachable',
    `etcd at ${endpoints} is unavailable: ${grpcMessage}`,
    undefined,
    cause,
  );
}

function handshake(
  endpoint: Endpoint,
  settings: ConnectionSettings,
  timeoutMs: number,
): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const readOptional = (path?: string) => (path ? readFileSync(path) : undefined);
    const socket = tlsConnect({
      host: endpoint.host,
      port: endpoint.port,
      servername: isIP(endpoint.host) ? undefined : endpoint.host,
      ca: readOptional(settings.cacert?.value),
      cert: readOptional(settings.cert?.value),
      key: readOptional(settings.key?.value),
      ALPNProtocols: ['h2'],
      // For an http:// endpoint we only ask "does it speak TLS at all?".
      rejectUnauthorized: endpoint.secure,
    });
    const finish = (outcome: HandshakeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, code: 'TIMEOUT', message: `no TLS answer within ${timeoutMs}ms` }),
      timeoutMs,
    );

    // Under TLS 1.3 the handshake completes before the server has judged our certificate, so
    // success means the server's first HTTP/2 bytes, not the handshake alone.
    socket.once('secureConnect', () => socket.write(HTTP2_CLIENT_PREFACE));
    socket.once('data', () => finish({ ok: true }));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, code: error.code ?? 'ERROR', message: error.message }),
    );
  });
}

function tlsReason(outcome: Exclude<HandshakeOutcome, { ok: true }>): string {
  switch (outcome.code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return `certificate signed by unknown authority (${outcome.code})`;
    case 'CERT_HAS_EXPIRED':
      return 'the server certificate has expired';
    case 'CERT_NOT_YET_VALID':
      return 'the server certificate is not valid yet';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the certificate does not name this host (${outcome.message})`;
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
    case 'ECONNRESET':
      return 'the endpoint does not speak TLS (plain http?)';
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return `the server rejected the client certificate, or wants one (${outcome.code})`;
    default:
      return `${outcome.code}: ${outcome.message}`;
  }
}

function tlsHint(outcome: Exclude<HandshakeOutcome, { ok: true }>, settings: ConnectionSettings) {
  const reason = tlsReason(outcome);
  if (reason.startsWith('the endpoint does not speak TLS')) {
    return 'use an http:// endpoint, or check the port';
  }

  if (reason.startsWith('the server rejected the client certificate')) {
    return settings.cert
      ? `check that ${settings.cert.value} is signed by a CA the server trusts`
      : 'give a client certificate with --cert and --key';
  }

  if (reason.startsWith('certificate signed by unknown authority')) {
    return settings.cacert
      ? `the CA in ${settings.cacert.value} (from ${describe(settings.cacert.source)}) ` +
          'did not sign the server certificate'
      : 'give the cluster CA with --cacert';
  }

  return undefined;
}
