// A subnet key's value: flannel's LeaseAttrs JSON.
import { parseIp } from './cidr.js';
import { goField, isJsonObject, parseJson } from './go-json.js';

export interface LeaseAttrs {
  readonly publicIP: string;
  readonly publicIPv6: string | null;
  readonly backendType: string | null;
  readonly backendData: unknown;
  readonly backendV6Data: unknown;
  /** BackendData.VtepMAC, which vxlan writes; null for other backends. */
  readonly vtepMac: string | null;
}

export type ParsedLeaseValue = { ok: true; attrs: LeaseAttrs } | { ok: false; reason: string };

const MAX_QUOTED_VALUE = 60;

export function parseLeaseValue(value: string): ParsedLeaseValue {
  if (value.trim() === '') return { ok: false, reason: 'empty value; expected LeaseAttrs JSON' };

  if (/^\/\S*\/subnets\/\S+$/.test(value.trim())) {
    return {
      ok: false,
      reason:
        'value is a key path, not LeaseAttrs JSON ' +
        '(left by `etcdctl put KEY $(etcdctl get KEY)`)',
    };
  }

  const parsed = parseJson(value);
  if (!parsed.ok) return { ok: false, reason: `${parsed.reason}: ${quote(value)}` };
  if (!isJsonObject(parsed.value)) {
    return { ok: false, reason: `value is JSON but not an object: ${quote(value)}` };
  }

  const object = parsed.value;
  const publicIP = goField(object, 'PublicIP')?.value;
  if (publicIP === undefined || publicIP === null) {
    return { ok: false, reason: 'value has no PublicIP' };
  }

  if (typeof publicIP !== 'string' || parseIp(publicIP)?.family !== 4) {
    return { ok: false, reason: `PublicIP ${JSON.stringify(publicIP)} is not an IPv4 address` };
  }

  const publicIPv6 = goField(object, 'PublicIPv6')?.value ?? null;
  if (
    publicIPv6 !== null &&
    (typeof publicIPv6 !== 'string' || parseIp(publicIPv6)?.family !== 6)
  ) {
    return {
      ok: false,
      reason: `PublicIPv6 ${JSON.stringify(publicIPv6)} is not an IPv6 address`,
    };
  }

  const backendType = goField(object, 'BackendType')?.value ?? null;
  const backendData = goField(object, 'BackendData')?.value ?? null;
  const vtepMac = isJsonObject(backendData) ? goField(backendData, 'VtepMAC')?.value : undefined;

  return {
    ok: true,
    attrs: {
      publicIP,
      publicIPv6,
      backendType: typeof backendType === 'string' ? backendType : null,
      backendData,
      backendV6Data: goField(object, 'BackendV6Data')?.value ?? null,
      vtepMac: typeof vtepMac === 'string' ? vtepMac : null,
    },
  };
}

function quote(value: string): string {
  const shown = value.length > MAX_QUOTED_VALUE ? `${value.slice(0, MAX_QUOTED_VALUE)}…` : value;
  return JSON.stringify(shown);
}
