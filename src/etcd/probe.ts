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

/** Resolves once any endpoint accepts a TCP connection; fails within `timeoutMs` otherwise. */
export async function probeTcp(endpoints: string[], timeoutMs: number): Promise<void> {
  const attempts = endpoints.map((url) => connectOnce(parseEndpoint(url), timeoutMs));
  const outcomes = await Promise.all(attempts);
  if (outcomes.some((outcome) => outcome === undefined)) return;

  const reasons = endpoints.map((url, index) => `${url}: ${outcomes[index]}`).join('; ');
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

    socket.once('secureConnect', () => finish({ ok: true }));
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
      return 'the endpoint does not speak TLS (plain http?)';
    default:
      return `${outcome.code}: ${outcome.message}`;
  }
}

function tlsHint(outcome: Exclude<HandshakeOutcome, { ok: true }>, settings: ConnectionSettings) {
  if (outcome.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || outcome.code === 'EPROTO') {
    return 'use an http:// endpoint, or check the port';
  }

  if (tlsReason(outcome).startsWith('certificate signed by unknown authority')) {
    return settings.cacert
      ? `the CA in ${settings.cacert.value} (from ${describe(settings.cacert.source)}) ` +
          'did not sign the server certificate'
      : 'give the cluster CA with --cacert';
  }

  if (outcome.message.toLowerCase().includes('certificate required')) {
    return 'the server wants a client certificate: give --cert and --key';
  }

  return undefined;
}
