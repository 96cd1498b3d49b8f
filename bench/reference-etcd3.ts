// The in-process reference of `npm run bench`: what a plain Node script with the etcd3 client
// does to list a flannel network with TTLs. One range read of <prefix>/subnets/, then one
// LeaseTimeToLive per lease with 256 in flight, then one JSON document on stdout. No flags
// library, no layers: the floor that flanctl's `leases ls --json` is held against.
//
// Usage: node build/bench/reference-etcd3.js --endpoints URL --prefix PREFIX [--no-ttl]
import { parseArgs } from 'node:util';

import { Etcd3 } from 'etcd3';

const TTL_CALLS_IN_FLIGHT = 256;

interface ReferenceLease {
  key: string;
  attrs: unknown;
  leaseId: string | null;
  ttlSeconds: number | null;
  grantedTtlSeconds: number | null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoints: { type: 'string' },
      prefix: { type: 'string' },
      'no-ttl': { type: 'boolean', default: false },
    },
  });
  if (values.endpoints === undefined || values.prefix === undefined) {
    throw new Error('usage: reference-etcd3.js --endpoints URL --prefix PREFIX [--no-ttl]');
  }

  // 65,536 flannel keys are ~15 MB in one reply, above gRPC's 4 MiB default.
  const client = new Etcd3({
    hosts: values.endpoints,
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
  });
  try {
    const range = await client.getAll().prefix(`${values.prefix}/subnets/`).exec();
    const leaseIds = range.kvs.flatMap((kv) => (kv.lease === '0' ? [] : [kv.lease]));
    const ttls = values['no-ttl'] ? new Map() : await timeToLive(client, leaseIds);

    const leases: ReferenceLease[] = range.kvs.map((kv) => {
      const answer = ttls.get(kv.lease);
      return {
        key: kv.key.toString(),
        attrs: parseValue(kv.value.toString()),
        leaseId: kv.lease === '0' ? null : BigInt(kv.lease).toString(16).padStart(16, '0'),
        ttlSeconds: answer === undefined ? null : Number(answer.TTL),
        grantedTtlSeconds: answer === undefined ? null : Number(answer.grantedTTL),
      };
    });
    const revision = Number(range.header.revision);
    process.stdout.write(`${JSON.stringify({ prefix: values.prefix, revision, leases })}\n`);
  } finally {
    client.close();
  }
}

async function timeToLive(client: Etcd3, leaseIds: string[]) {
  const answers = new Map<string, { TTL: string; grantedTTL: string }>();
  let next = 0;
  const worker = async () => {
    while (next < leaseIds.length) {
      const id = leaseIds[next++];
      answers.set(id, await client.leaseClient.leaseTimeToLive({ ID: id }));
    }
  };

  await Promise.all(Array.from({ length: TTL_CALLS_IN_FLIGHT }, worker));
  return answers;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`reference-etcd3: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
