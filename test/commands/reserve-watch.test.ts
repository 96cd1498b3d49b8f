// `flanctl reserve --watch` against a private etcd and the flanneld stand-in: a live host's
// re-leased reservation is left alone, a dead host's is detached once, the guard resumes after
// an etcd restart, and SIGINT/SIGTERM end it with exit 0.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { readJournal } from '../helpers/changing-commands.js';
import { CliProcess } from '../helpers/cli-process.js';
import { runCli } from '../helpers/cli.js';
import { EXIT_USAGE, assertOneLineError } from '../helpers/cli-output.js';
import { etcdForSuite } from '../helpers/etcd-server.js';
import { startShortLeaseHost } from '../helpers/flanneld.js';
import { existingKey, renewLikeFlanneld, seedNetwork } from '../helpers/kv-inspect.js';
import { subnetKey, testPrefix, vxlanAttrs } from '../helpers/seed.js';

interface ResultEvent {
  event: string;
  subnet?: string;
  key?: string;
  status?: string;
  action?: string;
}

// The guard acts once a dead host's 75 s lease is below half the 1 minute margin, within 45 s;
// allow for a slow machine.
const REPAIR_WAIT_MS = 90_000;

describe('flanctl reserve --watch', () => {
  const etcd = etcdForSuite();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flanctl-guard-watch-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const running: CliProcess[] = [];
  after(() => running.forEach((cli) => cli.kill()));

  function connection(prefix: string, journal: string): string[] {
    return ['--endpoints', etcd.endpoint, '--prefix', prefix, '--journal', journal];
  }

  function guard(prefix: string, journal: string, args: string[] = []): CliProcess {
    const cli = new CliProcess([
      'reserve',
      '--watch',
      '--renew-margin',
      '1m',
      ...args,
      ...connection(prefix, journal),
    ]);
    running.push(cli);
    return cli;
  }

  const results = (cli: CliProcess) =>
    cli.objects<ResultEvent>().filter((object) => object.event === 'result');

  test('leaves a live host alone, and detaches its lease once it dies', async () => {
    const prefix = testPrefix('guard-watch', 'host');
    const journal = path.join(dir, 'host.jsonl');
    const { host, key, subnet } = await startShortLeaseHost(etcd.endpoint, prefix, '192.0.2.41');

    const cli = guard(prefix, journal, ['--json']);
    await cli.waitForObject(
      'the watching event',
      (object: ResultEvent) => object.event === 'watching',
    );

    const mark = host.events.length;
    const reserved = await runCli(['reserve', subnet, ...connection(prefix, journal)]);
    assert.equal(reserved.code, 0, reserved.stderr);
    await host.waitFor(
      'the re-lease that answers the reservation',
      (event) => event.event === 'reattached' && event.trigger === 'watch',
      { from: mark },
    );
    // Two renewals of the live host later, the guard still has not touched the key.
    for (let renewal = 0; renewal < 2; renewal++) {
      const seen = host.events.length;
      await host.waitFor('a renewal', (event) => event.event === 'renewed', { from: seen });
    }
    assert.deepEqual(results(cli), [], 'the guard wrote to a live host key');
    assert.ok(
      host.events
        .slice(mark)
        .every((event) => event.trigger !== 'watch' || event.event === 'reattached'),
      'the host answered a write of the guard',
    );

    await host.kill();
    const repaired = await cli.waitForLine(
      'the repair of the dead host reservation',
      (line) => (JSON.parse(line) as ResultEvent).event === 'result',
      'stdout',
      REPAIR_WAIT_MS,
    );
    const result = JSON.parse(repaired) as ResultEvent;
    assert.equal(result.action, 'reapply');
    assert.equal(result.status, 'changed');
    assert.equal(result.subnet, subnet);
    assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, null);

    cli.signal('SIGTERM');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
    assert.equal(results(cli).length, 1, 'one repair, not more');
    const applied = readJournal(journal).filter((record) => record.type === 'applied');
    assert.equal(applied.length, 2, 'the reserve and the repair');
  });

  test('resumes after an etcd restart and repairs what happened after it', async () => {
    const prefix = testPrefix('guard-watch', 'restart');
    const journal = path.join(dir, 'restart.jsonl');
    const key = subnetKey(prefix, '10.5.42.0-24');
    const value = vxlanAttrs('192.0.2.42', '00:00:5e:10:00:42');
    await seedNetwork(etcd.endpoint, prefix, [{ key, value, lease: 'a' }]);
    const reserved = await runCli(['reserve', '10.5.42.0/24', ...connection(prefix, journal)]);
    assert.equal(reserved.code, 0, reserved.stderr);

    const cli = guard(prefix, journal);
    await cli.waitForLine(
      'the guarding note',
      (line) => /guarding 1 recorded/.test(line),
      'stderr',
    );
    await etcd.server.stopKeepingData();
    await cli.waitForLine('the lost note', (line) => /connection lost/.test(line), 'stderr');
    await etcd.server.startAgain();
    await cli.waitForLine('the resumed note', (line) => /resumed at revision/.test(line), 'stderr');

    // A lease of 35 s is below the guard's 30 s within 5 s, as a host dead since it re-leased.
    await renewLikeFlanneld(etcd.endpoint, key, value, 35);
    await cli.waitForLine(
      'the repair',
      (line) => /reapplied 10\.5\.42\.0\/24 .* now has no etcd lease/.test(line),
      'stdout',
      REPAIR_WAIT_MS,
    );
    assert.equal((await existingKey(etcd.endpoint, key)).leaseHex, null);

    cli.signal('SIGINT');
    assert.deepEqual(await cli.exited(), { code: 0, signal: null });
  });

  test('names no subnet, and is not combined with --reapply', async () => {
    const prefix = testPrefix('guard-watch', 'usage');
    const named = await runCli([
      'reserve',
      '--watch',
      '10.5.1.0/24',
      ...connection(prefix, path.join(dir, 'usage.jsonl')),
    ]);
    assertOneLineError(named, EXIT_USAGE, '10.5.1.0/24');

    const both = await runCli([
      'reserve',
      '--watch',
      '--reapply',
      ...connection(prefix, path.join(dir, 'usage.jsonl')),
    ]);
    assert.equal(both.code, EXIT_USAGE, both.stderr);
  });
});
