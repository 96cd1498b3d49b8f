// The gRPC-over-HTTP/2 calls of the read path against a small HTTP/2 server on 127.0.0.1 that
// answers the way a gRPC server can: a message and a status in trailers, a status alone in the
// headers, an HTTP error, nothing at all. etcd itself is in every command test.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { H2Channel, type RpcError } from '../../../src/etcd/h2-channel.js';
import { freePort } from '../../helpers/etcd-server.js';

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

const TIMEOUT_MS = 300;

/** gRPC's framing: an uncompressed flag, the length, the message. */
function frame(message: Buffer, compressed = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed;
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function answer(message: Buffer, body = frame(message)): Handler {
  return (stream) => {
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc' },
      { waitForTrailers: true },
    );
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(body);
  };
}

async function failure(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    return error as RpcError;
  }

  assert.fail('the call succeeded');
}

describe('H2Channel', () => {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const seen: http2.IncomingHttpHeaders[] = [];
  const servedBy: Array<http2.Http2Session | undefined> = [];
  let handler: Handler = answer(Buffer.alloc(0));
  let endpoint: string;

  before(async () => {
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    server.on('stream', (stream, headers) => {
      seen.push(headers);
      servedBy.push(stream.session);
      // Requests are read to their end, as a gRPC server does, before it answers.
      stream.resume();
      stream.on('end', () => handler(stream, headers));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const session of sessions) session.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  function channel(hosts = [endpoint], maxMessageBytes = 1024): H2Channel {
    return new H2Channel({ hosts, timeoutMs: TIMEOUT_MS, maxMessageBytes });
  }

  test('sends a POST with the gRPC headers and the frame, and returns the message', async () => {
    handler = answer(Buffer.from('reply'));
    const client = channel();

    const reply = await client.unary('/etcdserverpb.KV/Range', frame(Buffer.from('ask')), 'tok');
    client.close();

    assert.equal(reply.toString(), 'reply');
    const headers = seen.at(-1) ?? {};
    assert.equal(headers[':method'], 'POST');
    assert.equal(headers[':path'], '/etcdserverpb.KV/Range');
    assert.equal(headers['content-type'], 'application/grpc');
    assert.equal(headers.te, 'trailers');
    assert.equal(headers['grpc-timeout'], `${TIMEOUT_MS}m`);
    assert.equal(headers.token, 'tok');
  });

  test('no token header without a token', async () => {
    handler = answer(Buffer.alloc(0));
    const client = channel();

    await client.unary('/etcdserverpb.KV/Range', frame(Buffer.alloc(0)));
    client.close();

    assert.equal(seen.at(-1)?.token, undefined);
  });

  test('a status in the trailers: its code, and the message percent-decoded', async () => {
    handler = (stream) => {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc' },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () =>
        stream.sendTrailers({
          'grpc-status': '7',
          'grpc-message': 'etcdserver%3A permission denied',
        }),
      );
      stream.end();
    };
    const client = channel();

    const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
    client.close();

    assert.equal(error.code, 7);
    assert.equal(error.message, '7 PERMISSION_DENIED: etcdserver: permission denied');
    assert.equal(error.constructor, Error, 'etcd3 casts only plain Errors');
  });

  test('a status in the headers alone (trailers-only)', async () => {
    handler = (stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '3',
          'grpc-message': 'etcdserver: user name is empty',
        },
        { endStream: true },
      );
    };
    const client = channel();

    const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
    client.close();

    assert.equal(error.code, 3);
    assert.equal(error.message, '3 INVALID_ARGUMENT: etcdserver: user name is empty');
  });

  test('an HTTP 503 without a gRPC status is unavailable', async () => {
    handler = (stream) => stream.respond({ ':status': 503 }, { endStream: true });
    const client = channel();

    const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
    client.close();

    assert.equal(error.code, 14);
  });

  test('no answer within the deadline: DEADLINE_EXCEEDED, and the next call connects anew', async () => {
    handler = () => undefined;
    const client = channel();
    const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
    const silent = servedBy.at(-1);

    handler = answer(Buffer.from('late'));
    const reply = await client.unary('/p', frame(Buffer.alloc(0)));
    client.close();

    assert.equal(error.code, 4);
    assert.equal(reply.toString(), 'late');
    assert.notEqual(servedBy.at(-1), silent, 'the second call reused the silent connection');
  });

  test('a reply larger than the limit: RESOURCE_EXHAUSTED', async () => {
    handler = answer(Buffer.alloc(4096));
    const client = channel([endpoint], 1024);

    const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
    client.close();

    assert.equal(error.code, 8);
  });

  test('a compressed or mis-sized frame: INTERNAL', async () => {
    for (const body of [frame(Buffer.from('x'), 1), frame(Buffer.from('xy')).subarray(0, 6)]) {
      handler = answer(Buffer.alloc(0), body);
      const client = channel();

      const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
      client.close();

      assert.equal(error.code, 13);
    }
  });

  test('a closed first endpoint: the call goes to the next one', async () => {
    handler = answer(Buffer.from('second'));
    const client = channel([`http://127.0.0.1:${await freePort()}`, endpoint]);

    const reply = await client.unary('/p', frame(Buffer.alloc(0)));
    client.close();

    assert.equal(reply.toString(), 'second');
  });

  test('a closed only endpoint: UNAVAILABLE naming it', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const client = channel([closed]);

    const error = await failure(client.unary('/p', frame(Buffer.alloc(0))));
    client.close();

    assert.equal(error.code, 14);
    assert.ok(error.message.includes(closed), error.message);
  });
});
