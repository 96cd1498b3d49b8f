// The few etcd v3 protobuf messages of the read path (Range, LeaseTimeToLive, Authenticate),
// encoded and decoded by hand for src/etcd/h2-channel.ts. Field numbers are those of etcd's
// rpc.proto and kv.proto (etcd3 ships a copy in node_modules/etcd3/proto). Listing 65,536
// leases decodes 65,536 TimeToLive answers, and a generic protobuf runtime spent more time per
// answer than etcd did; these read only the fields flanctl uses and skip the rest.
//
// int64s are read as two 32-bit halves. Lease ids stay exact as decimal strings (they are
// signed 64-bit, and ids from 8000000000000000 up are negative); revisions, versions and TTLs
// are far below 2^53 and become plain numbers.
import type { KeyValue, LeaseTimeToLive, RangeRequest, RangeResult } from './client.js';

/** A message etcd sent that does not parse as the expected protobuf message. */
export class MalformedMessageError extends Error {
  constructor(what: string) {
    super(`malformed protobuf message from etcd: ${what}`);
    this.name = 'MalformedMessageError';
  }
}

const WIRE_VARINT = 0;
const WIRE_64BIT = 1;
const WIRE_BYTES = 2;
const WIRE_32BIT = 5;

const TWO_TO_32 = 4294967296;

/** Every message starts with gRPC's 5-byte prefix: an uncompressed flag and the length. */
export const GRPC_PREFIX_BYTES = 5;

// --- encoding ------------------------------------------------------------------------------

// Requests are small: each is written into one buffer sized for its worst case, gRPC prefix
// included, and the prefix is filled in once the length is known.
class Writer {
  private readonly buffer: Buffer;
  private position = GRPC_PREFIX_BYTES;

  constructor(maxBodyBytes: number) {
    this.buffer = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + maxBodyBytes);
  }

  /** Non-negative integers up to 2^53. */
  uint(field: number, wireType: number, value: number): void {
    this.varint((field << 3) | wireType, 0);
    this.varint(value % TWO_TO_32, Math.floor(value / TWO_TO_32));
  }

  int64Decimal(field: number, decimal: string): void {
    const value = BigInt.asUintN(64, BigInt(decimal));
    if (value === 0n) return;

    this.varint((field << 3) | WIRE_VARINT, 0);
    this.varint(Number(value & 0xffffffffn), Number(value >> 32n));
  }

  bytes(field: number, value: Buffer | string): void {
    const length = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    if (length === 0) return;

    this.varint((field << 3) | WIRE_BYTES, 0);
    this.varint(length, 0);
    if (typeof value === 'string') this.buffer.write(value, this.position);
    else value.copy(this.buffer, this.position);
    this.position += length;
  }

  bool(field: number, value: boolean | undefined): void {
    if (value) this.uint(field, WIRE_VARINT, 1);
  }

  /** The gRPC frame: prefix and message. */
  frame(): Buffer {
    this.buffer[0] = 0;
    this.buffer.writeUInt32BE(this.position - GRPC_PREFIX_BYTES, 1);
    return this.buffer.subarray(0, this.position);
  }

  private varint(low: number, high: number): void {
    let lo = low >>> 0;
    let hi = high >>> 0;
    while (hi !== 0 || lo > 0x7f) {
      this.buffer[this.position++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buffer[this.position++] = lo;
  }
}

// A tag and a 64-bit varint take at most 11 bytes; a length at most 5.
const MAX_VARINT_FIELD = 11;
const MAX_BYTES_HEADER = 6;

/** etcdserverpb.RangeRequest: key 1, range_end 2, limit 3, revision 4, keys_only 8. */
export function encodeRangeRequest(request: RangeRequest): Buffer {
  const writer = new Writer(
    2 * MAX_BYTES_HEADER +
      request.key.length +
      (request.rangeEnd?.length ?? 0) +
      3 * MAX_VARINT_FIELD,
  );
  writer.bytes(1, request.key);
  if (request.rangeEnd) writer.bytes(2, request.rangeEnd);
  if (request.limit) writer.uint(3, WIRE_VARINT, request.limit);
  if (request.revision) writer.uint(4, WIRE_VARINT, request.revision);
  writer.bool(8, request.keysOnly);
  return writer.frame();
}

/** etcdserverpb.LeaseTimeToLiveRequest: ID 1 (int64), keys 2. */
export function encodeLeaseTimeToLiveRequest(decimalId: string, withKeys: boolean): Buffer {
  const writer = new Writer(2 * MAX_VARINT_FIELD);
  writer.int64Decimal(1, decimalId);
  writer.bool(2, withKeys);
  return writer.frame();
}

/** etcdserverpb.AuthenticateRequest: name 1, password 2. */
export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  const writer = new Writer(
    2 * MAX_BYTES_HEADER + Buffer.byteLength(name) + Buffer.byteLength(password),
  );
  writer.bytes(1, name);
  writer.bytes(2, password);
  return writer.frame();
}

// --- decoding ------------------------------------------------------------------------------

class Reader {
  position: number;
  /** The last varint read, as two unsigned 32-bit halves. */
  low = 0;
  high = 0;

  constructor(
    readonly buffer: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.position = start;
  }

  get more(): boolean {
    return this.position < this.end;
  }

  /** Reads a tag; returns the field number and leaves the wire type in `low & 7`. */
  tag(): number {
    this.varint();
    return this.low >>> 3;
  }

  varint(): void {
    const buffer = this.buffer;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.byte(buffer);
      lo |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.setVarint(lo, hi);
    }

    let byte = this.byte(buffer);
    lo |= (byte & 0x0f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) return this.setVarint(lo, hi);

    for (let shift = 3; shift < 32; shift += 7) {
      byte = this.byte(buffer);
      hi |= (byte & 0x7f) << shift;
      if (byte < 0x80) return this.setVarint(lo, hi);
    }

    throw new MalformedMessageError('a varint longer than 10 bytes');
  }

  /** A varint read as an unsigned count (lengths, revisions, versions). */
  count(): number {
    this.varint();
    return this.high * TWO_TO_32 + this.low;
  }

  /** A varint read as a signed int64 that fits a double (TTLs, which may be -1). */
  signedNumber(): number {
    this.varint();
    if (this.high < 0x80000000) return this.high * TWO_TO_32 + this.low;
    return -((~this.high >>> 0) * TWO_TO_32 + (~this.low >>> 0) + 1);
  }

  /** A varint read as a signed int64 in decimal, exact over the whole range. */
  signedDecimal(): string {
    this.varint();
    if (this.high === 0) return String(this.low);
    return BigInt.asIntN(64, (BigInt(this.high) << 32n) | BigInt(this.low)).toString();
  }

  /** A length-delimited field: returns its end and leaves `position` at its start. */
  delimited(): number {
    const length = this.count();
    const end = this.position + length;
    if (end > this.end) throw new MalformedMessageError('a field runs past its message');
    return end;
  }

  text(): string {
    const end = this.delimited();
    const text = this.buffer.toString('utf8', this.position, end);
    this.position = end;
    return text;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_64BIT:
        this.position += 8;
        break;
      case WIRE_BYTES:
        this.position = this.delimited();
        return;
      case WIRE_32BIT:
        this.position += 4;
        break;
      default:
        throw new MalformedMessageError(`wire type ${wireType}`);
    }

    if (this.position > this.end) throw new MalformedMessageError('a field runs past its message');
  }

  private byte(buffer: Buffer): number {
    if (this.position >= this.end) throw new MalformedMessageError('a truncated varint');
    return buffer[this.position++];
  }

  private setVarint(lo: number, hi: number): void {
    this.low = lo >>> 0;
    this.high = hi >>> 0;
  }
}

/** etcdserverpb.ResponseHeader: revision 3; the reader ends after the header. */
function readHeaderRevision(reader: Reader): number {
  const end = reader.delimited();
  const header = new Reader(reader.buffer, reader.position, end);
  let revision = 0;
  while (header.more) {
    if (header.tag() === 3) revision = header.count();
    else header.skip(header.low & 7);
  }

  reader.position = end;
  return revision;
}

/** mvccpb.KeyValue: key 1, create_revision 2, mod_revision 3, version 4, value 5, lease 6. */
function readKeyValue(reader: Reader): KeyValue {
  const end = reader.delimited();
  const kv = new Reader(reader.buffer, reader.position, end);
  let key = '';
  let value = '';
  let lease = '0';
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  while (kv.more) {
    switch (kv.tag()) {
      case 1:
        key = kv.text();
        break;
      case 2:
        createRevision = kv.count();
        break;
      case 3:
        modRevision = kv.count();
        break;
      case 4:
        version = kv.count();
        break;
      case 5:
        value = kv.text();
        break;
      case 6:
        lease = kv.signedDecimal();
        break;
      default:
        kv.skip(kv.low & 7);
    }
  }

  reader.position = end;
  return { key, value, lease, createRevision, modRevision, version };
}

/** etcdserverpb.RangeResponse: header 1, kvs 2, more 3. */
export function decodeRangeResponse(message: Buffer): RangeResult {
  const reader = new Reader(message, 0, message.length);
  const kvs: KeyValue[] = [];
  let more = false;
  let revision = 0;
  while (reader.more) {
    switch (reader.tag()) {
      case 1:
        revision = readHeaderRevision(reader);
        break;
      case 2:
        kvs.push(readKeyValue(reader));
        break;
      case 3:
        reader.varint();
        more = reader.low !== 0;
        break;
      default:
        reader.skip(reader.low & 7);
    }
  }

  return { kvs, more, revision };
}

/** etcdserverpb.LeaseTimeToLiveResponse: TTL 3, grantedTTL 4, keys 5. */
export function decodeLeaseTimeToLiveResponse(message: Buffer): LeaseTimeToLive {
  const reader = new Reader(message, 0, message.length);
  let ttl = 0;
  let grantedTtl = 0;
  const keys: string[] = [];
  while (reader.more) {
    switch (reader.tag()) {
      case 3:
        ttl = reader.signedNumber();
        break;
      case 4:
        grantedTtl = reader.signedNumber();
        break;
      case 5:
        keys.push(reader.text());
        break;
      default:
        reader.skip(reader.low & 7);
    }
  }

  return { ttl, grantedTtl, keys };
}

/** etcdserverpb.AuthenticateResponse: token 2. */
export function decodeAuthenticateResponse(message: Buffer): string {
  const reader = new Reader(message, 0, message.length);
  let token = '';
  while (reader.more) {
    if (reader.tag() === 2) token = reader.text();
    else reader.skip(reader.low & 7);
  }

  return token;
}
