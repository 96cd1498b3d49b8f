// gRPC unary calls over node:http2, for the read path of src/etcd/client.ts (its only user).
// Listing a large network is one TimeToLive call per lease; through @grpc/grpc-js each call cost
// the client more CPU than etcd spent answering it, and on this path that is the whole run.
// The protocol part is small: a POST per call with the gRPC headers, a 5-byte prefixed message
// each way, and the status in the trailers (or in the headers when etcd sends no message).
//
// Failures come out as plain Errors with a numeric gRPC `code` and a message in grpc-js's form
// ("14 UNAVAILABLE: ..."), which etcd3's castGrpcError turns into its typed errors, so the
// client translates them into exit codes exactly as it does etcd3's own.
import http2 from 'node:http2';

import type { TlsCredentials } from './credentials.js';
import { GRPC_PREFIX_BYTES } from './wire.js';

export interface H2ChannelOptions {
  /** Endpoints in the order to try them, e.g. https://10.0.0.1:2379. */
  readonly hosts: readonly string[];
  readonly credentials?: TlsCredentials;
  /** Every call's deadline, counted from when it is made. */
  readonly timeoutMs: number;
  readonly maxMessageBytes: number;
}

// The gRPC status codes this channel produces itself, and the names grpc-js prints with them.
const STATUS_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];
const Status = {
  cancelled: 1,
  unknown: 2,
  deadlineExceeded: 4,
  permissionDenied: 7,
  resourceExhausted: 8,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
} as const;

// What gRPC makes of an HTTP status other than 200 (a proxy in front of etcd, say).
const HTTP_STATUS_CODES: Record<number, number> = {
  400: Status.internal,
  401: Status.unauthenticated,
  403: Status.permissionDenied,
  404: Status.unimplemented,
  429: Status.unavailable,
  502: Status.unavailable,
  503: Status.unavailable,
  504: Status.unavailable,
};

// Pages of a range read are a few hundred KB: a larger stream window saves round trips.
const STREAM_WINDOW_BYTES = 1024 * 1024;

export interface RpcError extends Error {
  code: number;
}

function rpcError(code: number, details: string): RpcError {
  // A plain Error, as grpc-js throws: etcd3's castGrpcError leaves other classes alone.
  return Object.assign(new Error(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`), {
    code,
  });
}

/** The calls of one etcd client: one HTTP/2 connection to one endpoint at a time. */
export class H2Channel {
  private readonly sessions: Array<http2.ClientHttp2Session | undefined>;
  private readonly sessionErrors = new WeakMap<http2.ClientHttp2Session, Error>();
  private readonly headers = new Map<string, http2.OutgoingHttpHeaders>();
  private headersToken: string | undefined;
  /** The endpoint calls go to, until it fails to take one. */
  private current = 0;
  private closed = false;

  constructor(private readonly options: H2ChannelOptions) {
    this.sessions = options.hosts.map(() => undefined);
  }

  /**
   * Sends one request frame (from src/etcd/wire.ts) to `path`, e.g. /etcdserverpb.KV/Range, and
   * resolves with the response message. Only for calls that can be repeated: when an endpoint
   * cannot be reached or drops the connection before answering, the call goes to the next one.
   */
  async unary(path: string, frame: Buffer, token?: string): Promise<Buffer> {
    const hostCount = this.options.hosts.length;
    for (let attempt = 1; ; attempt++) {
      const host = this.current;
      try {
        return await this.attempt(host, path, frame, token);
      } catch (error) {
        const unanswered = (error as RpcError).code === Status.unavailable;
        if (!unanswered || attempt >= hostCount || this.closed) throw error;

        // Calls in flight fail together: only the first moves the others along.
        if (this.current === host) this.current = (host + 1) % hostCount;
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const session of this.sessions) session?.close();
  }

  private attempt(host: number, path: string, frame: Buffer, token?: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const session = this.session(host);
      let stream: http2.ClientHttp2Stream;
      try {
        stream = session.request(this.headersFor(path, token), { endStream: false });
      } catch (error) {
        // The connection closed between the check in session() and now.
        const reason = (error as Error).message;
        return reject(rpcError(Status.unavailable, `${this.options.hosts[host]}: ${reason}`));
      }
      const maxBytes = this.options.maxMessageBytes + GRPC_PREFIX_BYTES;
      let responseHeaders: http2.IncomingHttpHeaders | undefined;
      let trailers: http2.IncomingHttpHeaders | undefined;
      let streamError: Error | undefined;
      let failure: RpcError | undefined;
      let first: Buffer | undefined;
      let rest: Buffer[] | undefined;
      let received = 0;

      const timer = setTimeout(() => {
        failure = rpcError(
          Status.deadlineExceeded,
          `Deadline exceeded after ${this.options.timeoutMs}ms`,
        );
        stream.close(http2.constants.NGHTTP2_CANCEL);
        this.retire(host, session);
      }, this.options.timeoutMs);

      stream.on('response', (headers) => (responseHeaders = headers));
      stream.on('trailers', (headers) => (trailers = headers));
      stream.on('error', (error) => (streamError = error));
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) {
          failure ??= rpcError(
            Status.resourceExhausted,
            `Received message larger than max (${received} vs. ${maxBytes})`,
          );
          stream.close(http2.constants.NGHTTP2_CANCEL);
        } else if (first === undefined) {
          first = chunk;
        } else {
          (rest ??= [first]).push(chunk);
        }
      });
      stream.on('close', () => {
        clearTimeout(timer);
        if (failure) return reject(failure);

        if (!responseHeaders) {
          const cause = streamError ?? this.sessionErrors.get(session);
          const reason = cause?.message ?? `stream closed (code ${stream.rstCode})`;
          return reject(
            rpcError(Status.unavailable, `${this.options.hosts[host]} did not answer: ${reason}`),
          );
        }

        const body = rest ? Buffer.concat(rest) : first;
        const outcome = readResponse(responseHeaders, trailers, body, stream.rstCode);
        if ('message' in outcome) resolve(outcome.message);
        else reject(outcome.error);
      });

      stream.end(frame);
    });
  }

  private session(host: number): http2.ClientHttp2Session {
    const existing = this.sessions[host];
    if (existing && !existing.closed && !existing.destroyed) return existing;

    const credentials = this.options.credentials;
    const session = http2.connect(this.options.hosts[host], {
      // The system's trust store when no CA is given, as gRPC does; a null field would not be.
      ca: credentials?.rootCertificate ?? undefined,
      cert: credentials?.certChain,
      key: credentials?.privateKey,
      settings: { initialWindowSize: STREAM_WINDOW_BYTES },
    });
    const forget = () => {
      if (this.sessions[host] === session) this.sessions[host] = undefined;
    };
    // Without a listener a refused connection would end the process; the calls report it.
    session.on('error', (error) => {
      this.sessionErrors.set(session, error);
      forget();
    });
    // etcd going away (a restart) ends this connection; the next call makes a new one.
    session.on('goaway', forget);
    session.on('close', forget);
    this.sessions[host] = session;
    return session;
  }

  /**
   * A connection on which a call went unanswered may be dead without a word (a host gone
   * behind a firewall): later calls get a new one. Calls still on it may finish; it no longer
   * keeps the process alive.
   */
  private retire(host: number, session: http2.ClientHttp2Session): void {
    if (this.sessions[host] === session) this.sessions[host] = undefined;
    session.close();
    session.unref();
  }

  // One headers object per method, reused by every call: http2 copies what it is given.
  private headersFor(path: string, token: string | undefined): http2.OutgoingHttpHeaders {
    if (token !== this.headersToken) {
      this.headers.clear();
      this.headersToken = token;
    }

    let headers = this.headers.get(path);
    if (!headers) {
      headers = {
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        // The server gives up when the client does; at most 8 digits, and 1 h is 3,600,000 ms.
        'grpc-timeout': `${this.options.timeoutMs}m`,
        ...(token === undefined ? {} : { token, [http2.sensitiveHeaders]: ['token'] }),
      };
      this.headers.set(path, headers);
    }

    return headers;
  }
}

type Outcome = { message: Buffer } | { error: RpcError };

function readResponse(
  headers: http2.IncomingHttpHeaders,
  trailers: http2.IncomingHttpHeaders | undefined,
  body: Buffer | undefined,
  rstCode: number | undefined,
): Outcome {
  // A call that fails before any message is answered "trailers-only": the status is in headers.
  const status = trailers?.['grpc-status'] ?? headers['grpc-status'];
  if (status === undefined) {
    const httpStatus = Number(headers[':status']);
    if (httpStatus !== 200) {
      const code = HTTP_STATUS_CODES[httpStatus] ?? Status.unknown;
      return { error: rpcError(code, `Received HTTP status code ${httpStatus}`) };
    }

    const refused = rstCode === http2.constants.NGHTTP2_REFUSED_STREAM;
    const code = refused ? Status.unavailable : Status.internal;
    return { error: rpcError(code, `stream ended without a status (RST_STREAM ${rstCode})`) };
  }

  const code = Number(status);
  if (code !== 0) {
    const details = trailers?.['grpc-message'] ?? headers['grpc-message'];
    return { error: rpcError(code, decodeMessage(String(details ?? ''))) };
  }

  if (!body || body.length < GRPC_PREFIX_BYTES) {
    return { error: rpcError(Status.internal, 'etcd answered without a message') };
  }

  const length = body.readUInt32BE(1);
  if (body[0] !== 0 || body.length !== GRPC_PREFIX_BYTES + length) {
    return { error: rpcError(Status.internal, 'etcd answered with a malformed gRPC message') };
  }

  return { message: body.subarray(GRPC_PREFIX_BYTES) };
}

// grpc-message is percent-encoded.
function decodeMessage(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
