// subnet.env as its two readers see it. The flannel CNI plugin, which starts every pod, splits
// each line at the first `=` and takes the rest as is: no quotes, no `export`, no trimming, and
// only `true` is true. flanneld reads the file back with a dotenv parser, which tolerates all
// of those. A finding says which reader a problem breaks.
import {
  type Cidr,
  type IpFamily,
  containsCidr,
  formatCidr,
  formatIp,
  hasHostBits,
  networkOf,
  parseCidr,
  sameCidr,
} from './cidr.js';
import { type NetworkConfig, misfitReasons } from './network-config.js';
import { parse as parseDotenv } from 'dotenv';
import { distance } from 'fastest-levenshtein';

export type Severity = 'error' | 'warning' | 'info';
export type Reader = 'cni' | 'flanneld' | 'both';

export interface EnvFinding {
  readonly severity: Severity;
  readonly line: number | null;
  readonly key: string | null;
  readonly value: string | null;
  readonly reader: Reader;
  readonly message: string;
}

export interface EnvValue {
  readonly value: string;
  readonly line: number;
}

export interface SubnetEnv {
  /** What the CNI plugin reads: the raw text after the first `=`; the last line wins. */
  readonly cni: ReadonlyMap<string, EnvValue>;
  /** What flanneld's dotenv reader makes of the file; the last line wins. */
  readonly flanneld: ReadonlyMap<string, EnvValue>;
  readonly findings: EnvFinding[];
}

export const KNOWN_KEYS = [
  'FLANNEL_NETWORK',
  'FLANNEL_SUBNET',
  'FLANNEL_IPV6_NETWORK',
  'FLANNEL_IPV6_SUBNET',
  'FLANNEL_MTU',
  'FLANNEL_IPMASQ',
] as const;

const BOM = '\uFEFF';

/** Reads the file's lines as both readers do; findings here are about syntax only. */
export function readSubnetEnv(text: string): SubnetEnv {
  const findings: EnvFinding[] = [];
  const cni = new Map<string, EnvValue>();
  const flanneld = new Map<string, EnvValue>();
  const seen = new Map<string, number[]>();

  if (text.startsWith(BOM)) {
    findings.push(
      finding(
        'error',
        1,
        null,
        null,
        'cni',
        'the file starts with a byte-order mark (U+FEFF): the CNI plugin reads the first key ' +
          'with it glued on and does not recognise it',
      ),
    );
  }

  // The CNI plugin sees the raw lines (BOM and \r included); findings read them cleaned.
  const rawLines = text.split('\n');
  if (rawLines.at(-1) === '') rawLines.pop();
  const lines = rawLines.map((line, index) => (index === 0 ? line.replace(/^\uFEFF/, '') : line));
  const crlf = lines.flatMap((line, index) => (line.endsWith('\r') ? [index + 1] : []));
  if (crlf.length > 0) {
    findings.push(
      finding(
        'error',
        crlf[0],
        null,
        null,
        'cni',
        `CRLF line ends (\\r\\n) on ${lineList(crlf)}: the CNI plugin keeps the \\r in each ` +
          'value, so CIDRs and the MTU fail to parse',
      ),
    );
  }

  lines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.replace(/\r$/, '');
    if (text.trim() === '' || text.trimStart().startsWith('#')) return;

    const equals = text.indexOf('=');
    if (equals < 0) {
      findings.push(
        finding(
          'warning',
          line,
          null,
          text,
          'both',
          `line ${line} is not KEY=VALUE; both readers skip it`,
        ),
      );
      return;
    }

    const rawText = rawLines[index];
    const rawEquals = rawText.indexOf('=');
    cni.set(rawText.slice(0, rawEquals), { value: rawText.slice(rawEquals + 1), line });
    const parsed = dotenvLine(text);
    flanneld.set(parsed.key, { value: parsed.value, line });
    seen.set(parsed.key, [...(seen.get(parsed.key) ?? []), line]);
    findings.push(...cniSyntax(text, equals, parsed, line));
  });

  for (const [key, onLines] of seen) {
    if (onLines.length > 1) {
      const last = flanneld.get(key)?.value ?? '';
      const cniLast = cni.get(key)?.value.replace(/\r$/, '');
      const which =
        cniLast === undefined || cniLast === last
          ? `both readers use the last one, ${quote(last)}`
          : `the CNI plugin uses ${quote(cniLast)}, flanneld ${quote(last)}`;
      findings.push(
        finding(
          'warning',
          onLines[0],
          key,
          last,
          'both',
          `${key} is set on ${lineList(onLines)}; ${which}`,
        ),
      );
    }
  }

  return { cni, flanneld, findings };
}

/** What a dotenv reader makes of one KEY=VALUE line, and what the CNI plugin trips over. */
function dotenvLine(text: string) {
  const [entry] = Object.entries(parseDotenv(text));
  const exported = /^\s*export\s+/.test(text);
  const rawValue = text.slice(text.indexOf('=') + 1).trim();
  const quoted = /^(['"`]).*\1$/.test(rawValue);
  const fallbackKey = text
    .slice(0, text.indexOf('='))
    .replace(/^\s*export\s+/, '')
    .trim();
  return { key: entry?.[0] ?? fallbackKey, value: entry?.[1] ?? '', exported, quoted };
}

function cniSyntax(
  text: string,
  equals: number,
  parsed: ReturnType<typeof dotenvLine>,
  line: number,
): EnvFinding[] {
  const rawKey = text.slice(0, equals);
  const rawValue = text.slice(equals + 1);
  const shown = rawValue;
  const issues: EnvFinding[] = [];
  const error = (message: string) =>
    issues.push(finding('error', line, parsed.key, shown, 'cni', message));

  if (parsed.exported) error(`"export" before ${parsed.key}: the CNI plugin does not know the key`);
  else if (rawKey !== rawKey.trim())
    error(`spaces around "=" after ${parsed.key}: the CNI plugin reads another key`);
  if (parsed.quoted) error(`${parsed.key} is quoted: the CNI plugin keeps the quotes in the value`);
  else if (rawValue !== rawValue.trim()) {
    error(`${parsed.key} has spaces around its value: the CNI plugin keeps them`);
  }

  // Anything else that makes the readers disagree, e.g. a comment after the value.
  if (issues.length === 0 && rawValue !== parsed.value) {
    error(
      `the CNI plugin reads ${parsed.key} as ${quote(rawValue)} where flanneld reads ${quote(parsed.value)}`,
    );
  }

  if (parsed.value === '') {
    issues.push(finding('error', line, parsed.key, '', 'both', `${parsed.key} is empty`));
  }

  if (!(KNOWN_KEYS as readonly string[]).includes(parsed.key)) {
    const near = nearestKey(parsed.key);
    issues.push(
      finding(
        'warning',
        line,
        parsed.key,
        shown,
        'both',
        near
          ? `${parsed.key} is not read by flannel; did you mean ${near}?`
          : `${parsed.key} is not read by flannel`,
      ),
    );
  }

  return issues;
}

export interface EnvCheckOptions {
  /** The backend type, when known (from --backend or the network config). */
  readonly backend?: string;
  /** The MTU of the host's interface, when known. */
  readonly ifaceMtu?: number;
}

/** What each known key must hold, read from flanneld's view of the file. */
export function checkSubnetEnv(env: SubnetEnv, options: EnvCheckOptions = {}): EnvFinding[] {
  const get = (key: string) => env.flanneld.get(key);
  const findings: EnvFinding[] = [...missingKeys(env)];
  checkPair(get('FLANNEL_NETWORK'), get('FLANNEL_SUBNET'), 4, findings);
  checkPair(get('FLANNEL_IPV6_NETWORK'), get('FLANNEL_IPV6_SUBNET'), 6, findings);
  findings.push(...checkMtu(get('FLANNEL_MTU'), hasIpv6(env), options));
  findings.push(...checkIpMasq(get('FLANNEL_IPMASQ')));
  return findings;
}

function missingKeys(env: SubnetEnv): EnvFinding[] {
  const has = (key: string) => env.flanneld.has(key);
  const missing: string[] = [];
  const v4 = has('FLANNEL_NETWORK') || has('FLANNEL_SUBNET');
  const v6 = has('FLANNEL_IPV6_NETWORK') || has('FLANNEL_IPV6_SUBNET');
  if (!v4 && !v6) missing.push('FLANNEL_NETWORK and FLANNEL_SUBNET (or their IPv6 pair)');
  for (const key of ['FLANNEL_MTU', 'FLANNEL_IPMASQ']) if (!has(key)) missing.push(key);
  if (missing.length === 0) return [];

  return [finding('error', null, null, null, 'both', `missing: ${missing.join(', ')}`)];
}

/** Returns the subnet when the pair is usable; findings say why not. */
function checkPair(
  network: EnvValue | undefined,
  subnet: EnvValue | undefined,
  family: IpFamily,
  findings: EnvFinding[],
): Cidr | undefined {
  const names =
    family === 4
      ? { network: 'FLANNEL_NETWORK', subnet: 'FLANNEL_SUBNET' }
      : { network: 'FLANNEL_IPV6_NETWORK', subnet: 'FLANNEL_IPV6_SUBNET' };
  if (!network && !subnet) return undefined;
  if (!network || !subnet) {
    const [present, absent] = network
      ? [names.network, names.subnet]
      : [names.subnet, names.network];
    const at = (network ?? subnet) as EnvValue;
    findings.push(
      finding(
        'error',
        at.line,
        present,
        at.value,
        'both',
        `${present} without ${absent}: the pair must be complete`,
      ),
    );
    return undefined;
  }

  const networkCidr = cidrOf(names.network, network, family, findings);
  const subnetCidr = cidrOf(names.subnet, subnet, family, findings);
  if (!networkCidr || !subnetCidr) return undefined;

  const subnetNetwork = networkOf(subnetCidr);
  const inside =
    subnetCidr.prefixLength > networkCidr.prefixLength && containsCidr(networkCidr, subnetNetwork);
  if (!inside) {
    findings.push(
      finding(
        'error',
        subnet.line,
        names.subnet,
        subnet.value,
        'both',
        `${names.subnet} ${subnet.value} (network ${formatCidr(subnetNetwork)}) is not inside ` +
          `${names.network} ${network.value}`,
      ),
    );
    return undefined;
  }

  const firstUsable = formatIp(family, subnetNetwork.address + 1n);
  const written = `${firstUsable}/${subnetCidr.prefixLength}`;
  if (!hasHostBits(subnetCidr)) {
    findings.push(
      finding(
        'info',
        subnet.line,
        names.subnet,
        subnet.value,
        'both',
        `${names.subnet} names the network address; flanneld itself writes ${written}`,
      ),
    );
  } else if (subnetCidr.address !== subnetNetwork.address + 1n) {
    findings.push(
      finding(
        'warning',
        subnet.line,
        names.subnet,
        subnet.value,
        'both',
        `${names.subnet} is not the subnet's first address; flanneld writes ${written}`,
      ),
    );
  }

  return subnetNetwork;
}

function cidrOf(key: string, entry: EnvValue, family: IpFamily, findings: EnvFinding[]) {
  const error = (message: string) =>
    findings.push(finding('error', entry.line, key, entry.value, 'both', message));
  if (entry.value.includes(',')) {
    error(`${key} holds a comma list; flanneld expects exactly one CIDR`);
    return undefined;
  }

  const cidr = parseCidr(entry.value);
  if (!cidr) {
    error(
      `${key} ${quote(entry.value)} is not a CIDR; expected e.g. ${family === 4 ? '10.5.0.0/16' : 'fc00::/48'}`,
    );
    return undefined;
  }

  if (cidr.family !== family) {
    error(`${key} holds an IPv${cidr.family} CIDR; expected IPv${family}`);
    return undefined;
  }

  return cidr;
}

// Bytes each backend's encapsulation takes from the interface MTU (IPv4 underlay).
const BACKEND_OVERHEAD: Record<string, number> = {
  vxlan: 50,
  udp: 28,
  ipip: 20,
  wireguard: 60,
  'host-gw': 0,
  alloc: 0,
};
const ASSUMED_IFACE_MTU = 1500;

// IPv6 needs links of at least 1280 bytes (RFC 8200); IPv4 works down to 68.
function hasIpv6(env: SubnetEnv): boolean {
  return env.flanneld.has('FLANNEL_IPV6_NETWORK') || env.flanneld.has('FLANNEL_IPV6_SUBNET');
}

function checkMtu(entry: EnvValue | undefined, ipv6: boolean, options: EnvCheckOptions) {
  if (!entry) return [];

  const found: EnvFinding[] = [];
  const add = (severity: Severity, message: string) =>
    found.push(finding(severity, entry.line, 'FLANNEL_MTU', entry.value, 'both', message));
  const minimum = ipv6 ? 1280 : 68;
  if (!/^\d+$/.test(entry.value) || Number(entry.value) < minimum || Number(entry.value) > 65535) {
    add(
      'error',
      `FLANNEL_MTU ${quote(entry.value)} is not a usable MTU; expected a whole number from ${minimum} to 65535`,
    );
    return found;
  }

  const mtu = Number(entry.value);
  if (mtu > 9000)
    add('warning', `FLANNEL_MTU ${mtu} is above 9000 (jumbo frames are 9000 at most)`);

  const overhead = options.backend === undefined ? undefined : BACKEND_OVERHEAD[options.backend];
  if (overhead === undefined) {
    add(
      'info',
      options.backend === undefined
        ? 'FLANNEL_MTU not checked against a backend (give --backend or --etcd)'
        : `FLANNEL_MTU not checked: the overhead of backend ${options.backend} is not known`,
    );
    return found;
  }

  const ifaceMtu = options.ifaceMtu ?? ASSUMED_IFACE_MTU;
  const largest = ifaceMtu - overhead;
  if (mtu > largest) {
    const severity = options.ifaceMtu === undefined ? 'warning' : 'error';
    const iface =
      options.ifaceMtu === undefined
        ? `an assumed ${ifaceMtu}-byte interface`
        : `a ${ifaceMtu}-byte interface`;
    add(
      severity,
      `FLANNEL_MTU ${mtu} does not fit ${options.backend} on ${iface}: expected at most ${largest} (interface MTU minus ${overhead})`,
    );
  }

  return found;
}

function checkIpMasq(entry: EnvValue | undefined): EnvFinding[] {
  if (!entry || entry.value === 'true' || entry.value === 'false') return [];

  return [
    finding(
      'error',
      entry.line,
      'FLANNEL_IPMASQ',
      entry.value,
      'cni',
      `FLANNEL_IPMASQ ${quote(entry.value)} must be true or false; the CNI plugin takes only "true" as true`,
    ),
  ];
}

function finding(
  severity: Severity,
  line: number | null,
  key: string | null,
  value: string | null,
  reader: Reader,
  message: string,
): EnvFinding {
  return { severity, line, key, value, reader, message };
}

function lineList(lines: number[]): string {
  if (lines.length === 1) return `line ${lines[0]}`;
  const contiguous = lines.every((line, index) => index === 0 || line === lines[index - 1] + 1);
  return contiguous ? `lines ${lines[0]}-${lines.at(-1)}` : `lines ${lines.join(', ')}`;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

/** A known key within two edits of `key` (a likely typo), if any. */
function nearestKey(key: string): string | undefined {
  return KNOWN_KEYS.find((known) => distance(known, key.toUpperCase()) <= 2);
}

/** The subnets a file declares, where they parse (findings come from checkSubnetEnv). */
export interface DeclaredSubnets {
  readonly network?: Cidr;
  readonly subnet?: Cidr;
  readonly ipv6Network?: Cidr;
  readonly ipv6Subnet?: Cidr;
}

export function declaredSubnets(env: SubnetEnv): DeclaredSubnets {
  // Both are read as networks: FLANNEL_SUBNET names its subnet by the first address in it.
  const cidr = (key: string) => {
    const text = env.flanneld.get(key)?.value;
    const parsed = text === undefined ? undefined : parseCidr(text);
    return parsed && networkOf(parsed);
  };

  return {
    network: cidr('FLANNEL_NETWORK'),
    subnet: cidr('FLANNEL_SUBNET'),
    ipv6Network: cidr('FLANNEL_IPV6_NETWORK'),
    ipv6Subnet: cidr('FLANNEL_IPV6_SUBNET'),
  };
}

/** One subnet key as etcd holds it, reduced to what the cross-check needs. */
export interface HeldLease {
  readonly ipv4: Cidr;
  readonly ipv6?: Cidr;
  readonly publicIP: string;
  readonly type: 'lease' | 'reservation';
}

export interface EtcdView {
  readonly configKey: string;
  readonly config?: NetworkConfig;
  readonly leases: readonly HeldLease[];
  /** The host's own address (--public-ip), when known. */
  readonly publicIP?: string;
}

/** Does the file agree with etcd, and would flanneld reuse its subnet on restart? */
export function crossCheckWithEtcd(env: SubnetEnv, view: EtcdView): EnvFinding[] {
  const declared = declaredSubnets(env);
  const findings: EnvFinding[] = [];
  const at = (key: string) => env.flanneld.get(key);
  const add = (severity: Severity, key: string | null, message: string) =>
    findings.push(
      finding(
        severity,
        key ? (at(key)?.line ?? null) : null,
        key,
        key ? (at(key)?.value ?? null) : null,
        'flanneld',
        message,
      ),
    );

  if (!view.config) {
    add('error', null, `etcd has no usable network config at ${view.configKey}`);
    if (declared.subnet) {
      add(
        'info',
        'FLANNEL_SUBNET',
        `this node held ${formatCidr(declared.subnet)}; flanneld will try to take it again once a compatible config exists`,
      );
    }

    return findings;
  }

  const plans = [
    {
      plan: view.config.ipv4,
      network: declared.network,
      subnet: declared.subnet,
      keys: ['FLANNEL_NETWORK', 'FLANNEL_SUBNET'],
      label: 'Network',
    },
    {
      plan: view.config.ipv6,
      network: declared.ipv6Network,
      subnet: declared.ipv6Subnet,
      keys: ['FLANNEL_IPV6_NETWORK', 'FLANNEL_IPV6_SUBNET'],
      label: 'IPv6Network',
    },
  ];
  for (const { plan, network, subnet, keys, label } of plans) {
    if (!plan || !network) continue;
    if (!sameCidr(network, plan.network)) {
      add(
        'error',
        keys[0],
        `${keys[0]} ${formatCidr(network)} differs from the configured ${label} ${formatCidr(plan.network)}: the file is stale`,
      );
    }

    // flanneld looks for its PublicIP's lease first and only then at the file, which it takes
    // only when no other host holds that subnet; the ownership checks below report both cases.
    const halfOf = (lease: HeldLease) => (plan.family === 4 ? lease.ipv4 : lease.ipv6);
    const otherwise =
      subnet &&
      view.leases.some((lease) => {
        const half = halfOf(lease);
        const sameSubnet = half !== undefined && sameCidr(half, subnet);
        return view.publicIP !== undefined && (lease.publicIP === view.publicIP) !== sameSubnet;
      });
    if (subnet && !otherwise) {
      // Judge this family alone: the key stands in for the half that matches the plan.
      const onePlan =
        plan.family === 4 ? { ipv4: plan, ipv6: undefined } : { ipv4: undefined, ipv6: plan };
      const key = { name: formatCidr(subnet), ipv4: subnet, ipv6: subnet };
      const reasons = misfitReasons(key, { ...view.config, ...onePlan });
      add(
        reasons.length === 0 ? 'info' : 'warning',
        keys[1],
        reasons.length === 0
          ? `flanneld would reuse ${formatCidr(subnet)} on restart: it fits the config`
          : `flanneld would not reuse ${formatCidr(subnet)} on restart (${reasons.join('; ')}); it would take a new subnet and this node's pods would renumber`,
      );
    }
  }

  const subnet = declared.subnet;
  if (subnet) findings.push(...ownership(subnet, view, at('FLANNEL_SUBNET')));
  return findings;
}

function ownership(subnet: Cidr, view: EtcdView, entry: EnvValue | undefined): EnvFinding[] {
  const text = formatCidr(subnet);
  const add = (severity: Severity, message: string) =>
    finding(
      severity,
      entry?.line ?? null,
      'FLANNEL_SUBNET',
      entry?.value ?? null,
      'flanneld',
      message,
    );
  const holder = view.leases.find((lease) => sameCidr(lease.ipv4, subnet));
  const found: EnvFinding[] = [];

  if (!holder) {
    found.push(
      add(
        'info',
        `etcd holds no key for ${text}; flanneld would try to take it on restart if it is free and fits`,
      ),
    );
  } else if (view.publicIP === undefined) {
    found.push(add('info', `etcd holds ${text} as a ${holder.type} of ${holder.publicIP}`));
  } else if (holder.publicIP !== view.publicIP) {
    found.push(
      add(
        'error',
        `${text} is held by ${holder.publicIP} in etcd, not by this host ${view.publicIP}: two nodes would route the same pod range`,
      ),
    );
  }

  if (view.publicIP !== undefined) {
    const own = view.leases.filter(
      (lease) => lease.publicIP === view.publicIP && !sameCidr(lease.ipv4, subnet),
    );
    for (const lease of own) {
      found.push(
        add(
          'error',
          `etcd holds ${formatCidr(lease.ipv4)} for this host ${view.publicIP} while the file says ${text}: the file is stale; the old bridge address stays on the node until cleaned up, which makes pods fail with "already has an IP address different from"`,
        ),
      );
    }
  }

  return found;
}

export interface RenderOptions {
  /** FLANNEL_MTU; by default the backend's MTU on a 1500-byte interface. */
  readonly mtu?: number;
  readonly ipMasq: boolean;
}

/** The MTU flanneld would write for a backend on a 1500-byte interface, where it is known. */
export function defaultMtu(backend: string): number | undefined {
  const overhead = BACKEND_OVERHEAD[backend];
  return overhead === undefined ? undefined : ASSUMED_IFACE_MTU - overhead;
}

/** The subnet.env flanneld writes for a lease under a config, line for line. */
export function renderSubnetEnv(
  lease: { readonly ipv4: Cidr; readonly ipv6?: Cidr },
  config: NetworkConfig,
  options: RenderOptions & { readonly mtu: number },
): string {
  const firstAddress = (cidr: Cidr) => {
    const network = networkOf(cidr);
    return `${formatIp(cidr.family, network.address + 1n)}/${cidr.prefixLength}`;
  };
  const lines: string[] = [];
  if (config.ipv4) {
    lines.push(`FLANNEL_NETWORK=${formatCidr(config.ipv4.network)}`);
    lines.push(`FLANNEL_SUBNET=${firstAddress(lease.ipv4)}`);
  }

  if (config.ipv6 && lease.ipv6) {
    lines.push(`FLANNEL_IPV6_NETWORK=${formatCidr(config.ipv6.network)}`);
    lines.push(`FLANNEL_IPV6_SUBNET=${firstAddress(lease.ipv6)}`);
  }

  lines.push(`FLANNEL_MTU=${options.mtu}`, `FLANNEL_IPMASQ=${options.ipMasq}`);
  return `${lines.join('\n')}\n`;
}
