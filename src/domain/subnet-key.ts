// flannel's subnet key names (`10.5.34.0-24`, `10.5.34.0-24&fc00:0:0:22::-64`) and the forms an
// operator types to name one (`10.5.1.0/24`, `10.5.1.0-24`, the full key, or an address inside).
import {
  type Cidr,
  type IpAddress,
  compareCidr,
  containsIp,
  formatCidr,
  formatIp,
  hasHostBits,
  networkOf,
  parseCidr,
  parseIp,
  sameCidr,
} from './cidr.js';

export interface SubnetKey {
  /** The last path segment, exactly as stored. */
  readonly name: string;
  readonly ipv4: Cidr;
  readonly ipv6?: Cidr;
}

export type ParsedKey = { ok: true; key: SubnetKey } | { ok: false; reason: string };

// flannel matches `(\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$`: lowercase hex only in the
// IPv6 half. We parse the whole name strictly and explain what flannel would make of the rest.
const KEY_NAME = /^(\d+\.\d+\.\d+\.\d+)-(\d+)(?:&([0-9A-Fa-f:.]+)-(\d+))?$/;
const FLANNEL_IPV6_HALF = /^[0-9a-f:]+$/;
const EXPECTED_KEY = 'expected A.B.C.D-LEN or A.B.C.D-LEN&IPV6-LEN';

export function parseSubnetKeyName(name: string): ParsedKey {
  const match = KEY_NAME.exec(name);
  if (!match) return { ok: false, reason: `not a flannel subnet key (${EXPECTED_KEY})` };

  const [, v4Address, v4Length, v6Address, v6Length] = match;
  const ipv4 = parseCidr(`${v4Address}/${v4Length}`);
  if (!ipv4 || ipv4.family !== 4 || ipv4.prefixLength > 31) {
    return { ok: false, reason: `invalid IPv4 subnet ${v4Address}/${v4Length} in key` };
  }

  if (v6Address === undefined) return { ok: true, key: { name, ipv4 } };

  if (!FLANNEL_IPV6_HALF.test(v6Address)) {
    return {
      ok: false,
      reason:
        `IPv6 half ${v6Address} has characters flannel's key pattern rejects ` +
        '(uppercase hex or dots); flannel ignores this key',
    };
  }

  const ipv6 = parseCidr(`${v6Address}/${v6Length}`);
  if (!ipv6 || ipv6.family !== 6) {
    return { ok: false, reason: `invalid IPv6 subnet ${v6Address}/${v6Length} in key` };
  }

  return { ok: true, key: { name, ipv4, ipv6 } };
}

/** The key name flanneld writes for a lease. */
export function formatSubnetKeyName(ipv4: Cidr, ipv6?: Cidr): string {
  const v4 = `${formatIp(4, ipv4.address)}-${ipv4.prefixLength}`;
  if (!ipv6) return v4;
  return `${v4}&${formatIp(6, ipv6.address)}-${ipv6.prefixLength}`;
}

export function subnetText(key: SubnetKey): string {
  return formatCidr(key.ipv4);
}

export function compareSubnetKeys(a: SubnetKey, b: SubnetKey): number {
  return compareCidr(a.ipv4, b.ipv4) || compareOptionalCidr(a.ipv6, b.ipv6);
}

function compareOptionalCidr(a: Cidr | undefined, b: Cidr | undefined): number {
  if (a && b) return compareCidr(a, b);
  if (a) return 1;
  if (b) return -1;
  return 0;
}

/** What an operator named on the command line. */
export type SubnetSelector =
  | { kind: 'key-name'; name: string }
  | { kind: 'cidr'; cidr: Cidr; typed: string; normalisedFrom?: string }
  | { kind: 'address'; ip: IpAddress };

export type ParsedSelector = { ok: true; selector: SubnetSelector } | { ok: false; reason: string };

export const SELECTOR_FORMS =
  'a subnet such as 10.5.1.0/24 or 10.5.1.0-24, a full key, or an address inside a subnet';

/**
 * Reads a subnet as typed by an operator. `subnetsDir` is `<prefix>/subnets/`, so a pasted
 * full key resolves to its name. A CIDR with host bits (`10.5.1.1/24`, as subnet.env writes it)
 * names its network and says so; it never becomes a key of its own.
 */
export function parseSubnetSelector(input: string, subnetsDir: string): ParsedSelector {
  const text = input.trim();
  if (text === '') return { ok: false, reason: `empty subnet; expected ${SELECTOR_FORMS}` };

  if (text.startsWith('/')) {
    if (!text.startsWith(subnetsDir)) {
      return { ok: false, reason: `key ${text} is not under ${subnetsDir}` };
    }

    // A pasted key names that key exactly, even one flannel cannot parse, so it can be shown.
    const name = text.slice(subnetsDir.length);
    if (name === '' || name.includes('/')) {
      return { ok: false, reason: `${text} is not a key directly under ${subnetsDir}` };
    }

    return { ok: true, selector: { kind: 'key-name', name } };
  }

  // `10.5.1.0-24` (or an IPv6 half such as `fc00:0:0:22::-64`) is the slash form written as a
  // key; with an `&` it names one key exactly.
  const dashForm = /^(\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f:]*:[0-9A-Fa-f:]*)-(\d+)$/.exec(text);
  if (text.includes('/') || dashForm) {
    const cidrText = dashForm ? `${dashForm[1]}/${dashForm[2]}` : text;
    const cidr = parseCidr(cidrText);
    if (!cidr)
      return { ok: false, reason: `${text} is not a valid CIDR; expected ${SELECTOR_FORMS}` };

    const network = networkOf(cidr);
    const selector: SubnetSelector = hasHostBits(cidr)
      ? { kind: 'cidr', cidr: network, typed: text, normalisedFrom: text }
      : { kind: 'cidr', cidr: network, typed: text };
    return { ok: true, selector };
  }

  if (text.includes('&')) return selectorFromKeyName(text, input);

  const ip = parseIp(text);
  if (ip) return { ok: true, selector: { kind: 'address', ip } };

  return { ok: false, reason: `${text} is not ${SELECTOR_FORMS}` };
}

function selectorFromKeyName(name: string, input: string): ParsedSelector {
  const parsed = parseSubnetKeyName(name);
  if (!parsed.ok) return { ok: false, reason: `${input.trim()}: ${parsed.reason}` };

  return { ok: true, selector: { kind: 'key-name', name } };
}

/** True when the key is the one the selector names (address selectors: the subnet holds it). */
export function selectorMatches(selector: SubnetSelector, key: SubnetKey): boolean {
  switch (selector.kind) {
    case 'key-name':
      return key.name === selector.name;
    case 'cidr':
      // Exact: a hand-written key with host bits (`10.5.1.1-24`) is not 10.5.1.0/24.
      return [key.ipv4, key.ipv6].some(
        (cidr) => cidr !== undefined && sameCidr(cidr, selector.cidr),
      );
    case 'address':
      return [key.ipv4, key.ipv6].some(
        (cidr) => cidr !== undefined && containsIp(cidr, selector.ip),
      );
  }
}
