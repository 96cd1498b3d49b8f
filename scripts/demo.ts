// `npm run demo`: a throwaway etcd with a realistic flannel network, then `flanctl leases ls`.
// `npm run demo -- --keep` leaves etcd running and prints how to point flanctl at it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { startEtcd } from '../test/helpers/etcd-server.js';
import { type SeedEntry, seedState } from '../test/helpers/seed.js';
import { repoRoot } from '../test/helpers/cli.js';

const PREFIX = '/coreos.com/network';
const LEASE_COUNT = 20;

function leaseValue(host: number, extra: Record<string, unknown> = {}): string {
  const mac = `0e:4f:5a:10:00:${host.toString(16).padStart(2, '0')}`;
  return JSON.stringify({
    PublicIP: `192.0.2.${host}`,
    PublicIPv6: null,
    BackendType: 'vxlan',
    BackendData: { VNI: 1, VtepMAC: mac },
    ...extra,
  });
}

/** ~20 hosts as flanneld leaves them: leases at various ages, reservations, odd keys. */
function sampleNetwork(): SeedEntry[] {
  const entries: SeedEntry[] = [
    {
      key: `${PREFIX}/config`,
      value: JSON.stringify({ Network: '10.5.0.0/16', Backend: { Type: 'vxlan' } }),
      ttl: null,
    },
  ];

  for (let index = 0; index < LEASE_COUNT; index++) {
    const third = 11 + index * 3;
    // Renewals spread over the day, one host that stopped renewing (30 minutes left).
    const ttl = index === 7 ? 1800 : 86_400 - ((index * 7919) % 80_000);
    entries.push({ key: `${PREFIX}/subnets/10.5.${third}.0-24`, value: leaseValue(third), ttl });
  }

  entries.push(
    { key: `${PREFIX}/subnets/10.5.34.0-24`, value: leaseValue(34), ttl: 85_925 },
    { key: `${PREFIX}/subnets/10.5.2.0-24`, value: leaseValue(2), ttl: null },
    { key: `${PREFIX}/subnets/10.5.3.0-24`, value: leaseValue(3), ttl: null },
    {
      key: `${PREFIX}/subnets/10.5.90.0-24&fc00:0:0:5a::-64`,
      value: leaseValue(90, {
        PublicIPv6: '2001:db8::5a',
        BackendV6Data: { VNI: 1, VtepMAC: '0e:4f:5a:10:01:5a' },
      }),
      ttl: 70_000,
    },
    { key: `${PREFIX}/subnets/10.5.91.0_24`, value: leaseValue(91), ttl: null },
  );
  return entries;
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  const etcd = await startEtcd({ keepAfterExit: keep });

  try {
    await seedState(etcd.endpoint, sampleNetwork());
    const command = ['leases', 'ls', '--endpoints', etcd.endpoint];
    process.stderr.write(
      `demo: etcd ${etcd.endpoint} (pid ${etcd.pid}); flanctl ${command.join(' ')}\n\n`,
    );
    const result = spawnSync(process.execPath, [path.join(repoRoot(), 'bin/run.js'), ...command], {
      stdio: 'inherit',
    });
    process.exitCode = result.status ?? 1;
  } finally {
    if (keep) {
      process.stderr.write(
        `\ndemo: etcd keeps running. Use it with:\n` +
          `  export FLANCTL_ENDPOINTS=${etcd.endpoint}\n` +
          `  ./bin/run.js leases ls -o wide\n` +
          `Stop it with: kill ${etcd.pid} && rm -rf ${etcd.dataDir}\n`,
      );
    } else {
      await etcd.stop();
    }
  }
}

await main();
