// What an etcd we started has served, from its Prometheus /metrics page: lets a test (or the
// bench) prove that a run made, or did not make, a given kind of gRPC call.
const METRICS_TIMEOUT_MS = 5_000;

/** How many calls of a gRPC method (e.g. LeaseTimeToLive) the etcd has started so far. */
export async function grpcCallsStarted(endpoint: string, method: string): Promise<number> {
  const response = await fetch(`${endpoint}/metrics`, {
    signal: AbortSignal.timeout(METRICS_TIMEOUT_MS),
  });
  const text = await response.text();

  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('grpc_server_started_total{')) continue;
    if (!line.includes(`grpc_method="${method}"`)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
    seen = true;
  }

  // etcd lists every method of its API with a zero count, so a missing one is a wrong name.
  if (!seen) throw new Error(`etcd ${endpoint} reports no gRPC method named ${method}`);
  return total;
}
