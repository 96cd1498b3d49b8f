// `<prefix>/config` with flanneld's defaults and the rules it enforces at start-up
// (pkg/subnet/config.go), so flanctl can say what flanneld will make of a config.
import {
  type Cidr,
  type IpFamily,
  bitsOf,
  blockSize,
  containsCidr,
  formatCidr,
  formatIp,
  hasHostBits,
  maskAddress,
  networkOf,
  parseCidr,
  parseIp,
} from './cidr.js';
import { type JsonObject, goField, isJsonObject, parseJson } from './go-json.js';
import type { SubnetKey } from './subnet-key.js';

export interface ConfigProblem {
  readonly field: string;
  readonly value: string;
  readonly message: string;
}

/** One family's address plan: where flanneld may allocate subnets. */
export interface AddressPlan {
  readonly family: IpFamily;
  readonly network: Cidr;
  readonly subnetLen: number;
  readonly subnetMin: bigint;
  readonly subnetMax: bigint;
  /** Which of subnetLen/min/max were defaulted rather than written in the config. */
  readonly defaulted: ReadonlyArray<'SubnetLen' | 'SubnetMin' | 'SubnetMax'>;
}

export interface NetworkConfig {
  readonly raw: JsonObject;
  readonly backendType: string;
  readonly ipv4?: AddressPlan;
  readonly ipv6?: AddressPlan;
}

export interface ParsedConfig {
  /** Undefined when the text is not a JSON object; otherwise what could be derived. */
  readonly config?: NetworkConfig;
  /**
   * Every rule flanneld would refuse the config for, and settings that leave no subnet to
   * allocate; empty when the config is usable.
   */
  readonly problems: ConfigProblem[];
}

const FIELD_NAMES = {
  4: { network: 'Network', len: 'SubnetLen', min: 'SubnetMin', max: 'SubnetMax' },
  6: { network: 'IPv6Network', len: 'IPv6SubnetLen', min: 'IPv6SubnetMin', max: 'IPv6SubnetMax' },
} as const;

const MAX_SUBNET_LEN = { 4: 30, 6: 126 } as const;
// flanneld's smallest usable network, and the subnet length it picks when the network has room.
const MAX_NETWORK_PREFIX = { 4: 28, 6: 124 } as const;
const PREFERRED_SUBNET_LEN = { 4: 24, 6: 64 } as const;

export function parseNetworkConfig(text: string): ParsedConfig {
  const parsed = parseJson(text);
  if (!parsed.ok) return { problems: [{ field: 'config', value: text, message: parsed.reason }] };
  if (!isJsonObject(parsed.value)) {
    return { problems: [{ field: 'config', value: text, message: 'config is not a JSON object' }] };
  }

  const raw = parsed.value;
  const problems: ConfigProblem[] = [];
  const enableIPv4 = readBool(raw, 'EnableIPv4', true, problems);
  const enableIPv6 = readBool(raw, 'EnableIPv6', false, problems);
  if (!enableIPv4 && !enableIPv6) {
    problems.push({
      field: 'EnableIPv4',
      value: 'false',
      message: 'both EnableIPv4 and EnableIPv6 are false; flanneld needs at least one family',
    });
  }

  const ipv4 = enableIPv4 ? readPlan(raw, 4, problems) : undefined;
  const ipv6 = enableIPv6 ? readPlan(raw, 6, problems) : undefined;
  const backend = goField(raw, 'Backend')?.value;
  const backendTypeValue = isJsonObject(backend) ? goField(backend, 'Type')?.value : undefined;
  const backendType = typeof backendTypeValue === 'string' ? backendTypeValue : 'udp';
  // flanneld decodes Backend into a struct with a string Type and refuses anything else
  // ("error decoding Backend property of config").
  if (backend !== undefined && backend !== null && !isJsonObject(backend)) {
    problems.push({
      field: 'Backend',
      value: JSON.stringify(backend),
      message: `Backend ${JSON.stringify(backend)} is not an object such as {"Type":"vxlan"}; flanneld refuses this config`,
    });
  } else if (backendTypeValue !== undefined && typeof backendTypeValue !== 'string') {
    problems.push({
      field: 'Backend.Type',
      value: JSON.stringify(backendTypeValue),
      message: `Backend.Type ${JSON.stringify(backendTypeValue)} is not a string; flanneld refuses this config`,
    });
  }

  return { config: { raw, backendType, ipv4, ipv6 }, problems };
}

function readBool(raw: JsonObject, name: string, fallback: boolean, problems: ConfigProblem[]) {
  const value = goField(raw, name)?.value;
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value;

  problems.push({
    field: name,
    value: JSON.stringify(value),
    message: `${name} ${JSON.stringify(value)} is not true or false`,
  });
  return fallback;
}

function readPlan(raw: JsonObject, family: IpFamily, problems: ConfigProblem[]) {
  const names = FIELD_NAMES[family];
  const network = readNetwork(raw, family, problems);
  if (!network) return undefined;

  const subnetLen = readSubnetLen(raw, family, network, problems);
  if (subnetLen === undefined) return undefined;

  const defaulted: Array<'SubnetLen' | 'SubnetMin' | 'SubnetMax'> = [];
  const lenValue = goField(raw, names.len)?.value;
  if (lenValue === undefined || lenValue === null || lenValue === 0) defaulted.push('SubnetLen');

  const step = blockSize(family, subnetLen);
  const networkEnd = network.address + blockSize(family, network.prefixLength);
  const problemsBefore = problems.length;
  const subnetMin = readBound(raw, family, names.min, network, subnetLen, problems);
  const subnetMax = readBound(raw, family, names.max, network, subnetLen, problems);
  // A bound that is set but unusable has no effective value: flanneld refuses the config.
  if (problems.length > problemsBefore) return undefined;

  if (subnetMin === undefined) defaulted.push('SubnetMin');
  if (subnetMax === undefined) defaulted.push('SubnetMax');
  const plan = {
    family,
    network,
    subnetLen,
    subnetMin: subnetMin ?? network.address + step,
    subnetMax: subnetMax ?? networkEnd - step,
    defaulted,
  };

  // flanneld starts with such a config, then no node can get a subnet.
  if (plan.subnetMin > plan.subnetMax) {
    const bounds = describeBounds(plan);
    problems.push({
      field: names.min,
      value: bounds.min,
      message:
        `${names.min} ${bounds.min} is above ${names.max} ${bounds.max}: no subnet can be ` +
        "allocated; flanneld starts, then every node fails with 'out of subnets'",
    });
  }

  return plan;
}

function readNetwork(raw: JsonObject, family: IpFamily, problems: ConfigProblem[]) {
  const name = FIELD_NAMES[family].network;
  const value = goField(raw, name)?.value;
  if (value === undefined || value === null || value === '') {
    const why = family === 4 ? 'EnableIPv4 is on (the default)' : 'EnableIPv6 is true';
    problems.push({ field: name, value: '', message: `${name} is required when ${why}` });
    return undefined;
  }

  const cidr = typeof value === 'string' ? parseCidr(value) : undefined;
  if (!cidr || cidr.family !== family) {
    problems.push({
      field: name,
      value: String(value),
      message: `${name} ${JSON.stringify(value)} is not an IPv${family} CIDR`,
    });
    return undefined;
  }

  if (cidr.prefixLength > MAX_NETWORK_PREFIX[family]) {
    const limit = MAX_NETWORK_PREFIX[family];
    problems.push({
      field: name,
      value: String(value),
      message: `${name} ${value} is too small; flanneld needs a prefix of /${limit} or shorter`,
    });
    return undefined;
  }

  return networkOf(cidr);
}

function readSubnetLen(
  raw: JsonObject,
  family: IpFamily,
  network: Cidr,
  problems: ConfigProblem[],
): number | undefined {
  const name = FIELD_NAMES[family].len;
  const value = goField(raw, name)?.value;
  if (value === undefined || value === null || value === 0) {
    const preferred = PREFERRED_SUBNET_LEN[family];
    return network.prefixLength <= preferred - 2 ? preferred : network.prefixLength + 2;
  }

  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    problems.push({
      field: name,
      value: JSON.stringify(value),
      message: `${name} ${JSON.stringify(value)} is not a whole number`,
    });
    return undefined;
  }

  if (value > MAX_SUBNET_LEN[family]) {
    problems.push({
      field: name,
      value: String(value),
      message: `${name} ${value} is too long; flanneld allows at most ${MAX_SUBNET_LEN[family]}`,
    });
    return undefined;
  }

  if (value < network.prefixLength + 2) {
    problems.push({
      field: name,
      value: String(value),
      message:
        `${name} ${value} leaves fewer than four subnets in ${formatCidr(network)}; ` +
        `it must be at least ${network.prefixLength + 2}`,
    });
    return undefined;
  }

  return value;
}

function readBound(
  raw: JsonObject,
  family: IpFamily,
  name: string,
  network: Cidr,
  subnetLen: number,
  problems: ConfigProblem[],
): bigint | undefined {
  const value = goField(raw, name)?.value;
  if (value === undefined || value === null || value === '') return undefined;

  const ip = typeof value === 'string' ? parseIp(value) : undefined;
  if (!ip || ip.family !== family) {
    problems.push({
      field: name,
      value: String(value),
      message: `${name} ${JSON.stringify(value)} is not an IPv${family} address`,
    });
    return undefined;
  }

  const bound = { family, address: ip.value, prefixLength: bitsOf(family) };
  if (!containsCidr(network, bound)) {
    problems.push({
      field: name,
      value: String(value),
      message: `${name} ${value} is outside the network ${formatCidr(network)}`,
    });
    return undefined;
  }

  const aligned = maskAddress(family, ip.value, subnetLen);
  if (aligned !== ip.value) {
    problems.push({
      field: name,
      value: String(value),
      message:
        `${name} ${value} is not on a /${subnetLen} boundary ` +
        `(nearest lower boundary ${formatIp(family, aligned)}); flanneld refuses this config`,
    });
    return undefined;
  }

  return ip.value;
}

/** Subnets between SubnetMin and SubnetMax inclusive: what flanneld may hand out. */
export function planCapacity(plan: AddressPlan): bigint {
  if (plan.subnetMax < plan.subnetMin) return 0n;
  return (plan.subnetMax - plan.subnetMin) / blockSize(plan.family, plan.subnetLen) + 1n;
}

export function describeBounds(plan: AddressPlan): { min: string; max: string } {
  return { min: formatIp(plan.family, plan.subnetMin), max: formatIp(plan.family, plan.subnetMax) };
}

/** Why a subnet does not fit a config, with the stable code doctor reports it under. */
export interface Misfit {
  readonly code:
    | 'outside-network'
    | 'outside-range'
    | 'wrong-subnet-len'
    | 'misaligned'
    | 'missing-ipv6';
  readonly message: string;
}

/**
 * Why flanneld would not keep this subnet under the config (it deletes such a lease, even a
 * reservation, when its owner restarts). Empty when the subnet fits.
 */
export function misfitReasons(key: SubnetKey, config: NetworkConfig): readonly string[] {
  const found = misfits(key, config);
  return found.length === 0 ? FITS : found.map((misfit) => misfit.message);
}

// Shared by every subnet that fits: one empty array per row of a large listing adds up.
const FITS: readonly string[] = Object.freeze([]);

export function misfits(key: SubnetKey, config: NetworkConfig): Misfit[] {
  const found: Misfit[] = [];
  if (config.ipv4) found.push(...planMisfits(key.ipv4, config.ipv4));
  if (config.ipv6) {
    if (key.ipv6) found.push(...planMisfits(key.ipv6, config.ipv6));
    else {
      found.push({
        code: 'missing-ipv6',
        message: 'no IPv6 half although the network has IPv6 enabled',
      });
    }
  }

  return found;
}

/** Why flanneld would not keep `subnet` under one family's plan; empty when it fits. */
export function planMisfits(subnet: Cidr, plan: AddressPlan): Misfit[] {
  // Only a subnet that does not fit needs its text, and in a listing nearly all of them fit.
  const text = () => formatCidr(subnet);
  if (!containsCidr(plan.network, subnet)) {
    return [
      {
        code: 'outside-network',
        message: `${text()} is outside the network ${formatCidr(plan.network)}`,
      },
    ];
  }

  const found: Misfit[] = [];
  if (subnet.prefixLength !== plan.subnetLen) {
    found.push({
      code: 'wrong-subnet-len',
      message: `${text()} is /${subnet.prefixLength} but SubnetLen is ${plan.subnetLen}`,
    });
  }

  if (hasHostBits(subnet)) {
    found.push({
      code: 'misaligned',
      message: `${text()} has host bits set (not a network address)`,
    });
  }

  if (subnet.address < plan.subnetMin || subnet.address > plan.subnetMax) {
    const bounds = describeBounds(plan);
    found.push({
      code: 'outside-range',
      message: `${text()} is outside SubnetMin..SubnetMax (${bounds.min}..${bounds.max})`,
    });
  }

  return found;
}
