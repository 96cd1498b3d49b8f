// Address and prefix values for both families. IPv6 parsing, validation and text forms come
// from ip-address; IPv4 dotted quads, two per subnet key in a listing of up to 65,536 rows, are
// read and written here with the same rules (four decimal octets up to 255, no leading zeros),
// at a fraction of the cost. The values are kept as bigint so that containment, alignment and
// ordering are plain integer comparisons.
import { Address6 } from 'ip-address';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

/** An address with a prefix length; `address` may carry host bits (see `hasHostBits`). */
export interface Cidr {
  readonly family: IpFamily;
  readonly address: bigint;
  readonly prefixLength: number;
}

export function bitsOf(family: IpFamily): number {
  return family === 4 ? 32 : 128;
}

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_TEXT = /^[0-9a-fA-F:.]+$/;
const PREFIX_TEXT = /^\d{1,3}$/;

/** Parses one address (no prefix, no zone). Undefined when it is not a valid address. */
export function parseIp(text: string): IpAddress | undefined {
  const octets = IPV4_TEXT.exec(text);
  if (octets) {
    const value = ipv4Value(octets);
    return value === undefined ? undefined : { family: 4, value: BigInt(value) };
  }

  if (text.includes(':') && IPV6_TEXT.test(text) && Address6.isValid(text)) {
    return { family: 6, value: new Address6(text).bigInt() };
  }

  return undefined;
}

/** Parses `ADDRESS/LEN`. Undefined when either half is invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;

  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !PREFIX_TEXT.test(prefixText)) return undefined;

  const prefixLength = Number(prefixText);
  if (prefixLength > bitsOf(ip.family)) return undefined;

  return { family: ip.family, address: ip.value, prefixLength };
}

function ipv4Value(octets: RegExpExecArray): number | undefined {
  let value = 0;
  for (let index = 1; index <= 4; index++) {
    const octet = octets[index];
    const number = Number(octet);
    if (number > 255 || (octet.length > 1 && octet[0] === '0')) return undefined;
    value = value * 256 + number;
  }

  return value;
}

export function formatIp(family: IpFamily, value: bigint): string {
  if (family === 6) return Address6.fromBigInt(value).correctForm();

  const number = Number(value);
  return `${number >>> 24}.${(number >>> 16) & 0xff}.${(number >>> 8) & 0xff}.${number & 0xff}`;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.family, cidr.address)}/${cidr.prefixLength}`;
}

function hostMask(family: IpFamily, prefixLength: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefixLength)) - 1n;
}

/** The network address of `address` under `prefixLength`. */
export function maskAddress(family: IpFamily, address: bigint, prefixLength: number): bigint {
  return address & ~hostMask(family, prefixLength);
}

export function networkOf(cidr: Cidr): Cidr {
  return { ...cidr, address: maskAddress(cidr.family, cidr.address, cidr.prefixLength) };
}

export function hasHostBits(cidr: Cidr): boolean {
  return (cidr.address & hostMask(cidr.family, cidr.prefixLength)) !== 0n;
}

/** Number of addresses in the block. */
export function blockSize(family: IpFamily, prefixLength: number): bigint {
  return 1n << BigInt(bitsOf(family) - prefixLength);
}

export function lastAddress(cidr: Cidr): bigint {
  return networkOf(cidr).address + blockSize(cidr.family, cidr.prefixLength) - 1n;
}

/** True when `inner` lies wholly inside `outer` (same family, same or longer prefix). */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefixLength < outer.prefixLength) return false;
  return maskAddress(outer.family, inner.address, outer.prefixLength) === networkOf(outer).address;
}

export function containsIp(outer: Cidr, ip: IpAddress): boolean {
  if (outer.family !== ip.family) return false;
  return maskAddress(outer.family, ip.value, outer.prefixLength) === networkOf(outer).address;
}

export function sameCidr(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.address === b.address && a.prefixLength === b.prefixLength;
}

/** Numeric order: IPv4 before IPv6, then by address, then shorter prefix first. */
export function compareCidr(a: Cidr, b: Cidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return a.prefixLength - b.prefixLength;
}

export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}
