// `flanctl config show` run as a subprocess against a private etcd: the config as stored and with
// flanneld's defaults, capacity and usage, every rule a field case breaks, configs in the wrong
// place or not JSON, and IPv6 plans. stdout, stderr and the exit code are checked apart.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { type CliResult, runCli } from '../helpers/cli.js';
import {
  EXIT_NOT_FOUND,
  EXIT_PROBLEMS,
  assertFlanctlErrorLine,
  parseJsonDocument,
} from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import { loadCaseState, seedCaseAt, seedState, testPrefix } from '../helpers/seed.js';

const BOUND_FIELDS = ['SubnetLen', 'SubnetMin', 'SubnetMax'] as const;

type BoundField = (typeof BOUND_FIELDS)[number];

interface EffectivePlan {
  family: string;
  network: string;
  subnetLen: number;
  subnetMin: string;
  subnetMax: string;
  defaulted: string[];
  capacity: string;
  used: number;
  reserved: number;
  free: string;
}

interface ConfigDocument {
  key: string;
  stored: string | null;
  valid: boolean;
  problems: Array<{ field: string; value: string; message: string }>;
  backendType: string | null;
  effective: EffectivePlan[];
}

// One family's block of the text output: its network line and the labelled lines under it.
interface TextPlan {
  network: string;
  fields: Map<string, string>;
}

function configShow(endpoint: string, prefix: string, extra: string[] = []): Promise<CliResult> {
  return runCli(['config', 'show', '--endpoints', endpoint, '--prefix', prefix, ...extra]);
}

// Text and --json alike: exit 4 on one error line naming the exact key read, nothing on stdout.
async function assertNoConfigAt(endpoint: string, prefix: string): Promise<void> {
  const result = await configShow(endpoint, prefix);

  assertFlanctlErrorLine(result, EXIT_NOT_FOUND, `${prefix}/config`);
  assert.equal(result.stdout, '');

  const json = await configShow(endpoint, prefix, ['--json']);

  assertFlanctlErrorLine(json, EXIT_NOT_FOUND, `${prefix}/config`);
  assert.equal(json.stdout, '');
}

function parseDocument(stdout: string): ConfigDocument {
  const document = parseJsonDocument<ConfigDocument>(stdout);
  assert.equal(typeof document.key, 'string');
  assert.ok(document.stored === null || typeof document.stored === 'string', 'stored');
  assert.equal(typeof document.valid, 'boolean');
  assert.ok(Array.isArray(document.problems), 'problems is not an array');
  assert.ok(Array.isArray(document.effective), 'effective is not an array');
  assert.ok('backendType' in document, 'no backendType field');
  for (const plan of document.effective) {
    assert.equal(typeof plan.family, 'string');
    assert.equal(typeof plan.network, 'string');
    assert.ok(Number.isInteger(plan.subnetLen), `subnetLen ${plan.subnetLen}`);
    assert.equal(typeof plan.subnetMin, 'string');
    assert.equal(typeof plan.subnetMax, 'string');
    assert.ok(Array.isArray(plan.defaulted), 'defaulted is not an array');
    assert.match(plan.capacity, /^\d+$/, 'capacity is not a decimal string');
    assert.match(plan.free, /^\d+$/, 'free is not a decimal string');
    assert.ok(Number.isInteger(plan.used), `used ${plan.used}`);
    assert.ok(Number.isInteger(plan.reserved), `reserved ${plan.reserved}`);
  }
  return document;
}

function planFor(document: ConfigDocument, family: 'ipv4' | 'ipv6'): EffectivePlan {
  const plan = document.effective.find((candidate) => candidate.family === family);
  const families = document.effective.map((candidate) => candidate.family);
  assert.ok(plan, `no ${family} plan in ${JSON.stringify(families)}`);
  return plan;
}

// "IPv4 network:  10.5.0.0/16" starts a block; its indented "Label: value" lines follow.
function textPlan(stdout: string, family: 'IPv4' | 'IPv6'): TextPlan {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${family} network:`));
  assert.ok(start >= 0, `no "${family} network:" line in:\n${stdout}`);

  const network = lines[start].slice(`${family} network:`.length).trim();
  const fields = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    const match = /^\s+([A-Za-z][A-Za-z ]*):\s*(.*)$/.exec(line);
    if (!match) break;
    fields.set(match[1].trim(), match[2].trim());
  }
  return { network, fields };
}

function textField(plan: TextPlan, label: string): string {
  const value = plan.fields.get(label);
  assert.ok(value !== undefined, `no "${label}" line in ${JSON.stringify([...plan.fields])}`);
  return value;
}

function assertBound(plan: TextPlan, label: BoundField, value: string, defaulted: boolean): void {
  const line = textField(plan, label);
  assert.ok(line.startsWith(value), `${label}: "${line}" does not show ${value}`);
  if (defaulted) {
    assert.match(line, /default/i, `${label} ${value} is not marked as a default`);
  } else {
    assert.doesNotMatch(line, /default/i, `${label} ${value} is marked as a default`);
  }
}

// The counts line, e.g. "255 (used 5, of which reserved 2; free 250)": each count by its name.
function assertCounts(
  plan: TextPlan,
  counts: { capacity: string; used: number; reserved: number; free: string },
): void {
  const line = textField(plan, 'Subnets');
  assert.match(line, new RegExp(`^${counts.capacity}\\b`), `capacity in "${line}"`);
  assert.match(line, new RegExp(`\\bused ${counts.used}\\b`), `used in "${line}"`);
  assert.match(line, new RegExp(`\\breserved ${counts.reserved}\\b`), `reserved in "${line}"`);
  assert.match(line, new RegExp(`\\bfree ${counts.free}\\b`), `free in "${line}"`);
}

// Lines of stdout that carry every one of the given texts.
function linesNaming(stdout: string, ...texts: string[]): string[] {
  return stdout.split('\n').filter((line) => texts.every((text) => line.includes(text)));
}

function storedFields(stored: string): string[] {
  return Object.keys(JSON.parse(stored) as Record<string, unknown>);
}

describe('flanctl config show', () => {
  const etcd = etcdForSuite();

  describe('a valid config with defaults, 3 leases and 2 reservations', () => {
    const prefix = testPrefix('config', 'valid');
    const stored = '{"Network":"10.5.0.0/16","Backend":{"Type":"vxlan"}}';
    const value = (publicIP: string) =>
      JSON.stringify({ PublicIP: publicIP, BackendType: 'vxlan' });
    const subnet = (name: string) => `${prefix}/subnets/${name}`;

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: stored, ttl: null },
        { key: subnet('10.5.1.0-24'), value: value('192.0.2.1'), ttl: 86400 },
        { key: subnet('10.5.2.0-24'), value: value('192.0.2.2'), ttl: 86400 },
        { key: subnet('10.5.3.0-24'), value: value('192.0.2.3'), ttl: 86400 },
        { key: subnet('10.5.4.0-24'), value: value('192.0.2.4'), ttl: null },
        { key: subnet('10.5.5.0-24'), value: value('192.0.2.5'), ttl: null },
      ]);
    });

    test('prints the stored config, the defaults marked, and the counts', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stderr, '');
      assert.ok(result.stdout.includes(stored), 'the stored config is not printed verbatim');
      assert.ok(result.stdout.includes(`${prefix}/config`), 'the config key is not named');

      const plan = textPlan(result.stdout, 'IPv4');
      assert.equal(plan.network, '10.5.0.0/16');
      assertBound(plan, 'SubnetLen', '24', true);
      assertBound(plan, 'SubnetMin', '10.5.1.0', true);
      assertBound(plan, 'SubnetMax', '10.5.255.0', true);
      assertCounts(plan, { capacity: '255', used: 5, reserved: 2, free: '250' });
      assert.ok(!result.stdout.includes('IPv6 network:'), 'an IPv6 block without IPv6 enabled');
    });

    test('--json has the documented shape, with capacity and free as strings', async () => {
      const result = await configShow(etcd.endpoint, prefix, ['--json']);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stderr, '');
      const document = parseDocument(result.stdout);
      assert.equal(document.key, `${prefix}/config`);
      assert.equal(document.stored, stored);
      assert.equal(document.valid, true);
      assert.deepEqual(document.problems, []);
      assert.equal(document.backendType, 'vxlan');
      assert.equal(document.effective.length, 1);

      const plan = planFor(document, 'ipv4');
      assert.deepEqual(
        { ...plan, defaulted: [...plan.defaulted].sort() },
        {
          family: 'ipv4',
          network: '10.5.0.0/16',
          subnetLen: 24,
          subnetMin: '10.5.1.0',
          subnetMax: '10.5.255.0',
          defaulted: [...BOUND_FIELDS].sort(),
          capacity: '255',
          used: 5,
          reserved: 2,
          blocked: 0,
          free: '250',
        },
      );
    });
  });

  describe('no config', () => {
    const prefix = testPrefix('config', 'missing');

    test('exit 4 naming the exact key read', async () => {
      await assertNoConfigAt(etcd.endpoint, prefix);
    });
  });

  describe('C15: config written at the prefix key itself', () => {
    const prefix = testPrefix('config', 'c15');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C15'));
    });

    test('exit 4 naming <prefix>/config, not the prefix key', async () => {
      await assertNoConfigAt(etcd.endpoint, prefix);
    });
  });

  describe('C14: configs flanneld refuses', () => {
    const variants: Array<{
      file: string;
      name: string;
      problems: Array<{ field: string; value: string; also: string[] }>;
    }> = [
      {
        file: 'etcd-state.json',
        name: 'SubnetMin/SubnetMax off the /26 boundary',
        problems: [
          { field: 'SubnetMin', value: '10.10.178.200', also: ['/26', '10.10.178.192'] },
          { field: 'SubnetMax', value: '10.10.178.253', also: ['/26', '10.10.178.192'] },
        ],
      },
      {
        file: 'etcd-state-b.json',
        name: 'SubnetLen 31',
        problems: [{ field: 'SubnetLen', value: '31', also: ['30'] }],
      },
      {
        file: 'etcd-state-c.json',
        name: 'SubnetLen 17 in a /16',
        problems: [{ field: 'SubnetLen', value: '17', also: ['four'] }],
      },
      {
        file: 'etcd-state-d.json',
        name: 'SubnetMin outside the network',
        problems: [{ field: 'SubnetMin', value: '10.11.0.0', also: ['10.10.0.0/16'] }],
      },
    ];

    for (const { file, name, problems } of variants) {
      describe(`${file}: ${name}`, () => {
        const prefix = testPrefix('config', `c14-${file.replace('.json', '')}`);
        const configKey = `${prefix}/config`;

        before(async () => {
          await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C14', file));
        });

        test('exit 3, each broken rule named with its field and value', async () => {
          const stored = loadCaseState('C14', file)[0].value;
          const result = await configShow(etcd.endpoint, prefix);

          assertFlanctlErrorLine(result, EXIT_PROBLEMS, configKey);
          for (const problem of problems) {
            // The line echoing the stored config names every value too; it does not count.
            const lines = linesNaming(
              result.stdout,
              problem.field,
              problem.value,
              ...problem.also,
            ).filter((line) => !line.includes(stored));
            assert.equal(
              lines.length,
              1,
              `no single stdout line names ${[problem.field, problem.value, ...problem.also]}:\n` +
                result.stdout,
            );
          }
        });

        test('--json: valid false, each problem with its field and value', async () => {
          const result = await configShow(etcd.endpoint, prefix, ['--json']);

          assertFlanctlErrorLine(result, EXIT_PROBLEMS, configKey);
          const document = parseDocument(result.stdout);
          assert.equal(document.key, configKey);
          assert.equal(document.valid, false);
          for (const problem of problems) {
            const found = document.problems.find(
              (candidate) => candidate.field === problem.field && candidate.value === problem.value,
            );
            assert.ok(found, `no ${problem.field} ${problem.value}: ${result.stdout}`);
            for (const text of problem.also) assert.ok(found.message.includes(text), text);
          }
        });

        // flanneld never replaces a value the config sets by its default, so neither may we.
        test('fields the config sets are never shown as defaulted', async () => {
          const json = await configShow(etcd.endpoint, prefix, ['--json']);

          assert.equal(json.code, EXIT_PROBLEMS, `stderr: ${json.stderr}`);
          const document = parseDocument(json.stdout);
          const set = storedFields(document.stored ?? '{}').filter((name): name is BoundField =>
            (BOUND_FIELDS as readonly string[]).includes(name),
          );
          for (const plan of document.effective) {
            for (const name of set) {
              assert.ok(
                !plan.defaulted.includes(name),
                `${name} is set in the stored config but listed as defaulted: ${json.stdout}`,
              );
            }
          }

          const text = await configShow(etcd.endpoint, prefix);

          for (const name of set) {
            const defaultedLine = text.stdout
              .split('\n')
              .find((line) => new RegExp(`^\\s*${name}:.*default`, 'i').test(line));
            assert.equal(defaultedLine, undefined, `"${defaultedLine}" though the config sets it`);
          }
        });
      });
    }
  });

  describe('C11 (a): a /16 in /21 subnets, all 31 taken', () => {
    const prefix = testPrefix('config', 'c11-a');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C11'));
    });

    test('capacity 31, used 31, free 0; the first block is not counted', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      const plan = textPlan(result.stdout, 'IPv4');
      assertBound(plan, 'SubnetLen', '21', false);
      assertBound(plan, 'SubnetMin', '10.30.8.0', true);
      assertBound(plan, 'SubnetMax', '10.30.248.0', true);
      assertCounts(plan, { capacity: '31', used: 31, reserved: 0, free: '0' });

      const json = await configShow(etcd.endpoint, prefix, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const effective = planFor(parseDocument(json.stdout), 'ipv4');
      assert.equal(effective.capacity, '31');
      assert.equal(effective.used, 31);
      assert.equal(effective.reserved, 0);
      assert.equal(effective.free, '0');
      assert.equal(effective.subnetMin, '10.30.8.0');
      assert.deepEqual([...effective.defaulted].sort(), ['SubnetMax', 'SubnetMin']);
    });
  });

  describe('C11 (b): SubnetMin above SubnetMax', () => {
    const prefix = testPrefix('config', 'c11-b');

    before(async () => {
      await seedCaseAt(etcd.endpoint, prefix, loadCaseState('C11', 'etcd-state-b.json'));
    });

    test('capacity 0 and free 0, with both bounds as stored', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      const plan = textPlan(result.stdout, 'IPv4');
      assertBound(plan, 'SubnetLen', '24', false);
      assertBound(plan, 'SubnetMin', '10.30.2.0', false);
      assertBound(plan, 'SubnetMax', '10.30.1.0', false);
      assertCounts(plan, { capacity: '0', used: 0, reserved: 0, free: '0' });

      const json = await configShow(etcd.endpoint, prefix, ['--json']);

      const effective = planFor(parseDocument(json.stdout), 'ipv4');
      assert.equal(effective.subnetMin, '10.30.2.0');
      assert.equal(effective.subnetMax, '10.30.1.0');
      assert.equal(effective.capacity, '0');
      assert.equal(effective.free, '0');
      assert.equal(effective.used, 0);
    });

    // flanneld starts with this config, then every node fails with "out of subnets": a config
    // that can never hand out a subnet is a problem found (exit 3), named with both values.
    test('exit 3, naming SubnetMin 10.30.2.0 above SubnetMax 10.30.1.0', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      assertFlanctlErrorLine(result, EXIT_PROBLEMS, `${prefix}/config`);
      const lines = linesNaming(result.stdout, 'SubnetMin', '10.30.2.0', 'SubnetMax', '10.30.1.0');
      assert.ok(lines.length > 0, `no line names the inverted range:\n${result.stdout}`);

      const json = await configShow(etcd.endpoint, prefix, ['--json']);

      assertFlanctlErrorLine(json, EXIT_PROBLEMS, `${prefix}/config`);
      const document = parseDocument(json.stdout);
      const named = document.problems.find(
        (problem) => problem.message.includes('10.30.2.0') && problem.message.includes('10.30.1.0'),
      );
      assert.ok(named, `no problem names the inverted range: ${JSON.stringify(document.problems)}`);
      assert.ok(['SubnetMin', 'SubnetMax'].includes(named.field), `field ${named.field}`);
    });
  });

  describe('field names in any case, as Go decodes them', () => {
    const prefix = testPrefix('config', 'lowercase');
    const stored = '{"network":"10.5.0.0/16","subnetlen":25,"backend":{"type":"host-gw"}}';

    before(async () => {
      await seedState(etcd.endpoint, [{ key: `${prefix}/config`, value: stored, ttl: null }]);
    });

    test('{"network": ...} is a valid config with its values applied', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stderr, '');
      const plan = textPlan(result.stdout, 'IPv4');
      assert.equal(plan.network, '10.5.0.0/16');
      assertBound(plan, 'SubnetLen', '25', false);
      assertBound(plan, 'SubnetMin', '10.5.0.128', true);
      assertBound(plan, 'SubnetMax', '10.5.255.128', true);
      assertCounts(plan, { capacity: '511', used: 0, reserved: 0, free: '511' });

      const json = await configShow(etcd.endpoint, prefix, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const document = parseDocument(json.stdout);
      assert.equal(document.valid, true);
      assert.deepEqual(document.problems, []);
      assert.equal(document.backendType, 'host-gw');
      assert.equal(planFor(document, 'ipv4').network, '10.5.0.0/16');
      assert.equal(planFor(document, 'ipv4').subnetLen, 25);
    });
  });

  describe('a config that is not JSON', () => {
    const prefix = testPrefix('config', 'not-json');
    const stored = '{Network: 10.5.0.0/16}';

    before(async () => {
      await seedState(etcd.endpoint, [{ key: `${prefix}/config`, value: stored, ttl: null }]);
    });

    test('exit 3; stdout shows the stored text and says it is not JSON', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      assertFlanctlErrorLine(result, EXIT_PROBLEMS, `${prefix}/config`);
      assert.ok(result.stdout.includes(stored), 'the stored text is not shown');
      assert.match(result.stdout, /JSON/);

      const json = await configShow(etcd.endpoint, prefix, ['--json']);

      assertFlanctlErrorLine(json, EXIT_PROBLEMS, `${prefix}/config`);
      const document = parseDocument(json.stdout);
      assert.equal(document.stored, stored);
      assert.equal(document.valid, false);
      assert.ok(document.problems.some((problem) => /JSON/.test(problem.message)));
      assert.deepEqual(document.effective, []);
    });
  });

  describe('IPv6 enabled', () => {
    const prefix = testPrefix('config', 'ipv6');
    const widePrefix = testPrefix('config', 'ipv6-wide');
    const stored =
      '{"EnableIPv6":true,"Network":"10.5.0.0/16","IPv6Network":"fc00::/48",' +
      '"Backend":{"Type":"vxlan"}}';
    const dualStackValue = JSON.stringify({
      PublicIP: '192.0.2.34',
      PublicIPv6: '2001:db8::34',
      BackendType: 'vxlan',
    });

    before(async () => {
      await seedState(etcd.endpoint, [
        { key: `${prefix}/config`, value: stored, ttl: null },
        {
          key: `${prefix}/subnets/10.5.34.0-24&fc00:0:0:22::-64`,
          value: dualStackValue,
          ttl: 86400,
        },
        {
          key: `${widePrefix}/config`,
          value:
            '{"EnableIPv6":true,"Network":"10.6.0.0/16","IPv6Network":"fc00::/56",' +
            '"IPv6SubnetLen":120,"Backend":{"Type":"vxlan"}}',
          ttl: null,
        },
      ]);
    });

    test('both families are shown with their defaults and counts', async () => {
      const result = await configShow(etcd.endpoint, prefix);

      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.equal(result.stderr, '');
      const v4 = textPlan(result.stdout, 'IPv4');
      assert.equal(v4.network, '10.5.0.0/16');
      assertCounts(v4, { capacity: '255', used: 1, reserved: 0, free: '254' });

      const v6 = textPlan(result.stdout, 'IPv6');
      assert.equal(v6.network, 'fc00::/48');
      assertBound(v6, 'SubnetLen', '64', true);
      assertBound(v6, 'SubnetMin', 'fc00:0:0:1::', true);
      assertBound(v6, 'SubnetMax', 'fc00:0:0:ffff::', true);
      assertCounts(v6, { capacity: '65535', used: 1, reserved: 0, free: '65534' });

      const json = await configShow(etcd.endpoint, prefix, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const document = parseDocument(json.stdout);
      assert.deepEqual(
        document.effective.map((plan) => plan.family),
        ['ipv4', 'ipv6'],
      );
      const ipv6 = planFor(document, 'ipv6');
      assert.equal(ipv6.network, 'fc00::/48');
      assert.equal(ipv6.subnetLen, 64);
      assert.equal(ipv6.capacity, '65535');
      assert.equal(ipv6.used, 1);
      assert.equal(ipv6.free, '65534');
    });

    test('an IPv6 capacity above 2^53 is exact in the JSON strings', async () => {
      const json = await configShow(etcd.endpoint, widePrefix, ['--json']);

      assert.equal(json.code, 0, `stderr: ${json.stderr}`);
      const ipv6 = planFor(parseDocument(json.stdout), 'ipv6');
      // fc00::/56 in /120 subnets: 2^64 blocks, less the first one.
      const expected = (2n ** 64n - 1n).toString();
      assert.equal(ipv6.subnetLen, 120);
      assert.equal(ipv6.capacity, expected);
      assert.equal(ipv6.free, expected);
      assert.ok(json.stdout.includes(`"capacity":"${expected}"`), 'capacity is not a string');
    });
  });
});
