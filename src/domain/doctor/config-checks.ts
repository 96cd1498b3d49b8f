// doctor's checks of the network config: missing (and where it may be instead), invalid, and
// the v2 store against the v3 keyspace.
import { parseNetworkConfig } from '../network-config.js';
import {
  type Commands,
  type DoctorInput,
  type Finding,
  OTHER_PREFIXES_NAMED,
  finding,
  shellWord,
} from './findings.js';

export function configFindings(input: DoctorInput, cli: Commands): Finding[] {
  const found: Finding[] = [];
  if (input.configText === undefined) {
    found.push(missingConfig(input, cli));
  } else {
    for (const problem of input.configProblems) {
      found.push(finding('error', 'config-invalid', input.configKey, problem.message));
    }
  }

  const v2 = input.v2Config;
  if (!v2) return found;

  if (!v2.enabled) {
    found.push(
      finding(
        'info',
        'config-api-mismatch',
        input.configKey,
        'this etcd does not serve the v2 API (--enable-v2 is off), so no v2 data can hide there',
      ),
    );
  } else if (input.configText === undefined && v2.text !== undefined) {
    found.push(
      finding(
        'error',
        'config-api-mismatch',
        input.configKey,
        `the config exists only in etcd's v2 store (${JSON.stringify(v2.text)}); flannel 0.17 ` +
          'and later read the v3 keyspace only and will not find it',
        `ETCDCTL_API=3 ${cli.etcdctl} put ${shellWord(input.configKey)} ${shellWord(v2.text)}`,
      ),
    );
  } else if (
    input.configText !== undefined &&
    v2.text !== undefined &&
    !sameJson(input.configText, v2.text)
  ) {
    found.push(
      finding(
        'warning',
        'config-api-mismatch',
        input.configKey,
        `the v2 store holds another config (${JSON.stringify(v2.text)}) than the v3 keyspace: ` +
          'a flanneld older than 0.17 uses the v2 one, later ones the v3 one',
      ),
    );
  } else if (input.configText !== undefined && v2.text === undefined) {
    found.push(
      finding(
        'warning',
        'config-api-mismatch',
        input.configKey,
        'the config exists only in the v3 keyspace; a flanneld older than 0.17 reads the v2 ' +
          'store and would find no config',
      ),
    );
  }

  return found;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function missingConfig(input: DoctorInput, cli: Commands): Finding {
  const parts = [`no network config at ${input.configKey}: flanneld cannot start on this network`];
  let fix: string | null = null;

  for (const near of input.nearMissKeys) {
    const repaired = repairedConfig(near.value);
    if (repaired === undefined) continue;

    if (repaired === near.value) {
      parts.push(`${near.key} holds a network config; it belongs at ${input.configKey}`);
    } else {
      parts.push(
        `${near.key} holds what looks like a network config with its quotes backslash-escaped ` +
          `(a shell quoting mistake), which is not JSON; corrected: ${repaired}`,
      );
    }

    fix ??= `${cli.etcdctl} put ${shellWord(input.configKey)} ${shellWord(repaired)}`;
  }

  if (input.otherPrefixes.length > 0) {
    const named = input.otherPrefixes.slice(0, OTHER_PREFIXES_NAMED);
    const more = input.otherPrefixes.length - named.length;
    const list = more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
    parts.push(`a config exists under ${list}: wrong --prefix?`);
    fix ??= `${cli.flanctlOnCluster} --prefix ${shellWord(input.otherPrefixes[0])} doctor`;
  }

  if (input.entries.length === 0 && input.problems.length === 0) {
    parts.push(
      'if the config was written with the v2 API (etcdctl set/mk, ETCDCTL_API=2) it lives in ' +
        "etcd's separate v2 store, which flannel 0.17+ and flanctl do not read (flanneld logs " +
        '"Did you create your config using etcdv3 API?"); write it again with `etcdctl put` ' +
        '(check with: flanctl doctor --v2)',
    );
  }

  return finding('error', 'config-missing', input.configKey, parts.join('; '), fix);
}

/** The config text a near-miss value was meant to be, or undefined when it is not one. */
function repairedConfig(value: string): string | undefined {
  for (const candidate of [value, value.replace(/\\"/g, '"')]) {
    const parsed = parseNetworkConfig(candidate);
    if (parsed.config?.ipv4 || parsed.config?.ipv6) return candidate;
  }

  return undefined;
}
