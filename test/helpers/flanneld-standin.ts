// A stand-in for one flanneld host on the etcd v3 registry, for tests only: it takes, keeps and
// renews a subnet lease the way flanneld does, so tests can watch flanctl live next to it.
//
// Usage (built): node build/test/helpers/flanneld-standin.js --endpoint http://127.0.0.1:PORT
//   --public-ip 192.0.2.10 [--prefix /coreos.com/network] [--lease-ttl 86400]
//   [--renew-margin 3600] [--subnet-file subnet.env] [--vtep-mac 0e:..] [--backend vxlan]
// stdout: one JSON object per line and action; stderr: nothing unless it fails.
//
// What flanneld does, as read in flannel-io/flannel at cdf76059. The logic is the same since
// v0.18.0, the first release on etcd v3; the renew loop was main.go's MonitorLease up to v0.19
// and is LocalManager.CompleteLease from v0.20.0 on:
// - pkg/subnet/etcd/registry.go getSubnets / kvToIPLease: every subnet key gets one TimeToLive
//   call and an expiry of now + TTL. etcd answers TTL -1 for lease 0, so a reservation's expiry
//   is one second in the past, never the zero time.
// - local_manager.go tryAcquireLease: the first key whose PublicIP is ours is reused when it fits
//   the config (SubnetMin <= subnet <= SubnetMax, length SubnetLen), else deleted. "Reservation"
//   is decided by a zero expiry, which never happens on v3 (see above), so a reserved key is
//   re-put with a fresh 24 h lease like any other (flannel issue 1329). Reuse is a plain put.
//   Without a key of ours: FLANNEL_SUBNET from the subnet file when no key holds exactly that
//   subnet and it fits, else a random pick among the first 100 free subnets. Creation is
//   grant + txn "version == 0 then put with lease"; a lost txn revokes the new lease and returns
//   errSubnetAlreadyexists, which AcquireLease does not retry (it retries only on
//   rpctypes.ErrDuplicateKey), so flanneld fails "failed to acquire lease" and exits 1.
// - updateSubnet (reuse and renewal): grant a new lease, put the key with it; the old lease is
//   never revoked.
// - CompleteLease (the renew loop): renews when expiry - margin is reached. It also watches its
//   own key (registry.go watchSubnet, a prefix watch from the revision of a first read). Every
//   put event computes a new expiry from TimeToLive of the event's lease and re-arms the timer.
//   A put without a lease (a reservation) gives an expiry in the past, so flanneld renews at
//   once: a running flanneld v3 undoes a reservation of its key within moments, not only on
//   restart. Its own renewal's event then shows a full lease, so it does not loop; one outside
//   put without a lease costs exactly one renewal. A put with another value and a long lease is
//   left alone until the next renewal, which puts flanneld's own value back.
// - A delete event ("Lease has been revoked. Shutting down daemon.") ends flanneld: main.go
//   cancels everything and exits 0. It does not re-acquire; the next start does.
// - A failed renewal is retried one minute later. SIGTERM/SIGINT end it with nothing revoked.
//
// LIMITATION: IPv4 only (a config with EnableIPv6 is refused), vxlan values only, one endpoint,
// no TLS or auth, and only loopback endpoints, so that it can never write into a real cluster.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';

import { parse as parseDotenv } from 'dotenv';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';

const USAGE_EXIT = 2;
const FAILURE_EXIT = 1;
const CALL_DEADLINE_MS = 10_000;
const CONFIG_RETRY_MS = 1_000;
const RENEW_RETRY_MS = 60_000;
const FREE_SUBNETS_TO_PICK_FROM = 100;

interface Options {
  endpoint: string;
  prefix: string;
  publicIp: string;
  leaseTtlSeconds: number;
  renewMarginSeconds: number;
  subnetFile: string | undefined;
  vtepMac: string;
}

/** One subnet as flannel keys it: IPv4 address as an unsigned 32-bit number and prefix length. */
interface Subnet {
  ip: number;
  length: number;
}

interface NetworkPlan {
  subnetLen: number;
  subnetMin: number;
  subnetMax: number;
}

/** A subnet key as getSubnets returns it: parsed, with its lease and computed expiry. */
interface ListedLease {
  key: string;
  subnet: Subnet;
  publicIp: string;
  leaseDecimal: string;
  expiresAtMs: number;
}

class UsageError extends Error {}

let client: Etcd3 | undefined;

// ---- output ------------------------------------------------------------------------------------

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields, time: new Date().toISOString() })}\n`);
}

/** etcd sends int64 lease ids in decimal; etcdctl and flanctl print them in hex. */
function leaseHex(decimal: string): string | null {
  if (decimal === '0') return null;
  return BigInt.asUintN(64, BigInt(decimal)).toString(16).padStart(16, '0');
}

// ---- command line ------------------------------------------------------------------------------

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        endpoint: { type: 'string' },
        prefix: { type: 'string', default: '/coreos.com/network' },
        'public-ip': { type: 'string' },
        'lease-ttl': { type: 'string', default: '86400' },
        'renew-margin': { type: 'string', default: '3600' },
        'subnet-file': { type: 'string' },
        'vtep-mac': { type: 'string' },
        backend: { type: 'string', default: 'vxlan' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }

  const endpoint = required(values.endpoint, '--endpoint');
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+\/?$/.test(endpoint)) {
    throw new UsageError(
      `--endpoint ${endpoint} is not http://127.0.0.1:PORT; the stand-in only talks to a test etcd`,
    );
  }

  const publicIp = required(values['public-ip'], '--public-ip');
  if (parseIpv4(publicIp) === undefined) {
    throw new UsageError(`--public-ip ${publicIp} is not an IPv4 address`);
  }

  const leaseTtlSeconds = positiveSeconds(values['lease-ttl'], '--lease-ttl');
  const renewMarginSeconds = positiveSeconds(values['renew-margin'], '--renew-margin');
  // flanneld refuses a margin of a day or more for the same reason: it would renew forever.
  if (renewMarginSeconds >= leaseTtlSeconds) {
    throw new UsageError(
      `--renew-margin ${renewMarginSeconds} must be less than --lease-ttl ${leaseTtlSeconds}`,
    );
  }

  if (values.backend !== 'vxlan') {
    throw new UsageError(`--backend ${values.backend} is not supported; expected vxlan`);
  }

  const vtepMac = values['vtep-mac'] ?? macFromIp(publicIp);
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(vtepMac)) {
    throw new UsageError(`--vtep-mac ${vtepMac} is not a lower-case MAC such as 0e:00:c0:00:02:0a`);
  }

  return {
    endpoint,
    // Go's path.Join drops a trailing slash.
    prefix: (values.prefix as string).replace(/\/+$/, ''),
    publicIp,
    leaseTtlSeconds,
    renewMarginSeconds,
    subnetFile: values['subnet-file'],
    vtepMac,
  };
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`);
  return value;
}

function positiveSeconds(text: string | undefined, flag: string): number {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds <= 0) {
    throw new UsageError(`${flag} ${text} is not a positive whole number of seconds`);
  }
  return seconds;
}

// A locally administered unicast address that differs per host, like a real VTEP's.
function macFromIp(ip: string): string {
  const bytes = ip.split('.').map((part) => Number(part).toString(16).padStart(2, '0'));
  return ['0e', '00', ...bytes].join(':');
}

// ---- addresses ---------------------------------------------------------------------------------

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    return undefined;
  }
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

function formatIpv4(ip: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(ip / 2 ** shift) % 256).join('.');
}

function blockSize(length: number): number {
  return 2 ** (32 - length);
}

function networkAddress(ip: number, length: number): number {
  return ip - (ip % blockSize(length));
}

function parseCidr(text: string): Subnet | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  const ip = match ? parseIpv4(match[1] as string) : undefined;
  const length = Number(match?.[2]);
  if (ip === undefined || length > 32) return undefined;
  return { ip: networkAddress(ip, length), length };
}

function subnetKeyName(subnet: Subnet): string {
  return `${formatIpv4(subnet.ip)}-${subnet.length}`;
}

// flannel's key regexp, unescaped dots and all, anchored at the end only. Its prefix length is
// parsed as a 5-bit number, so /32 does not parse.
const SUBNET_KEY = /(\d+\.\d+.\d+.\d+)-(\d+)(?:&([a-f\d:]+)-(\d+))?$/;

function parseSubnetKey(key: string): Subnet | undefined {
  const match = SUBNET_KEY.exec(key);
  if (!match || match[3] !== undefined) return undefined;
  const ip = parseIpv4(match[1] as string);
  const length = Number(match[2]);
  if (ip === undefined || length > 31) return undefined;
  return { ip, length };
}

function overlaps(a: Subnet, b: Subnet): boolean {
  const aEnd = a.ip + blockSize(a.length);
  const bEnd = b.ip + blockSize(b.length);
  return a.ip < bEnd && b.ip < aEnd;
}

// ---- network config ----------------------------------------------------------------------------

// Go's JSON decoder matches field names case-insensitively.
function field(object: Record<string, unknown>, name: string): unknown {
  const found = Object.keys(object).find((key) => key.toLowerCase() === name.toLowerCase());
  return found === undefined ? undefined : object[found];
}

/** flannel's ParseConfig + CheckNetworkConfig for IPv4; a string is the reason it is refused. */
function planNetwork(text: string): NetworkPlan | string {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    return `config is not JSON: ${(error as Error).message}`;
  }
  if (typeof config !== 'object' || config === null) return 'config is not a JSON object';
  const object = config as Record<string, unknown>;

  if (field(object, 'EnableIPv6') === true) return 'EnableIPv6 is not supported by the stand-in';
  const network = parseCidr(String(field(object, 'Network') ?? ''));
  if (network === undefined) return 'config has no valid Network';

  let subnetLen = Number(field(object, 'SubnetLen') ?? 0);
  if (subnetLen > 0) {
    if (subnetLen > 30) return 'SubnetLen must be less than /31';
    if (subnetLen < network.length + 2) return 'network must hold at least four subnets';
  } else if (network.length > 28) {
    return 'network is too small; the minimum useful prefix is /28';
  } else {
    subnetLen = network.length <= 22 ? 24 : network.length + 2;
  }

  const size = blockSize(subnetLen);
  const contains = (ip: number): boolean => networkAddress(ip, network.length) === network.ip;
  const bound = (name: string, fallback: number): number | string => {
    const text = field(object, name);
    if (text === undefined || text === '') return fallback;
    const ip = parseIpv4(String(text));
    if (ip === undefined || !contains(ip)) return `${name} is not in the range of the Network`;
    if (ip % size !== 0) return `${name} is not on a SubnetLen boundary`;
    return ip;
  };
  const subnetMin = bound('SubnetMin', network.ip + size);
  const subnetMax = bound('SubnetMax', network.ip + blockSize(network.length) - size);
  if (typeof subnetMin === 'string') return subnetMin;
  if (typeof subnetMax === 'string') return subnetMax;
  return { subnetLen, subnetMin, subnetMax };
}

function fitsPlan(plan: NetworkPlan, subnet: Subnet): boolean {
  return (
    subnet.ip >= plan.subnetMin && subnet.ip <= plan.subnetMax && subnet.length === plan.subnetLen
  );
}

// ---- etcd --------------------------------------------------------------------------------------

function etcd(): Etcd3 {
  if (client === undefined) throw new Error('the etcd client is used before it is made');
  return client;
}

function keyOf(options: Options, subnet: Subnet): string {
  return `${options.prefix}/subnets/${subnetKeyName(subnet)}`;
}

function leaseValue(options: Options): string {
  // The field order and nulls of flannel's LeaseAttrs and vxlanLeaseAttrs marshalled by Go.
  return JSON.stringify({
    PublicIP: options.publicIp,
    PublicIPv6: null,
    BackendType: 'vxlan',
    BackendData: { VNI: 1, VtepMAC: options.vtepMac },
  });
}

async function remainingTtl(leaseDecimal: string): Promise<number> {
  const response = await etcd().leaseClient.leaseTimeToLive({ ID: leaseDecimal });
  return Number(response.TTL);
}

async function grant(ttlSeconds: number): Promise<{ leaseDecimal: string; ttl: number }> {
  const response = await etcd().leaseClient.leaseGrant({ TTL: ttlSeconds, ID: '0' });
  if (response.error) throw new Error(`lease grant failed: ${response.error}`);
  return { leaseDecimal: response.ID, ttl: Number(response.TTL) };
}

async function revokeQuietly(leaseDecimal: string): Promise<void> {
  try {
    await etcd().leaseClient.leaseRevoke({ ID: leaseDecimal });
  } catch {
    // flanneld only logs a failed revoke; the lease then expires on its own.
  }
}

async function readConfigUntilValid(options: Options): Promise<NetworkPlan> {
  let lastProblem = '';
  for (;;) {
    let problem: string;
    try {
      const response = await etcd().kv.range({ key: Buffer.from(`${options.prefix}/config`) });
      const kv = response.kvs[0];
      const plan = kv ? planNetwork(kv.value.toString('utf8')) : 'config key not found';
      if (typeof plan !== 'string') return plan;
      problem = plan;
    } catch (error) {
      problem = (error as Error).message;
    }

    // flanneld retries every second and logs each time; one line per distinct problem is enough.
    if (problem !== lastProblem) emit('config-invalid', { reason: problem });
    lastProblem = problem;
    await new Promise((resolve) => setTimeout(resolve, CONFIG_RETRY_MS));
  }
}

async function listLeases(options: Options): Promise<ListedLease[]> {
  // path.Join(prefix, "subnets") with WithPrefix: no trailing slash, as flanneld reads it.
  const start = Buffer.from(`${options.prefix}/subnets`);
  const end = Buffer.from(start);
  end[end.length - 1] += 1;
  const response = await etcd().kv.range({ key: start, range_end: end });

  const leases: ListedLease[] = [];
  for (const kv of response.kvs) {
    const key = kv.key.toString('utf8');
    const ttl = await remainingTtl(kv.lease);
    const subnet = parseSubnetKey(key);
    const publicIp = publicIpOf(kv.value);
    if (subnet === undefined || publicIp === undefined) {
      emit('skipped', { key, reason: 'not a subnet key or not a lease value' });
      continue;
    }

    const expiresAtMs = Date.now() + ttl * 1000;
    leases.push({ key, subnet, publicIp, leaseDecimal: kv.lease, expiresAtMs });
  }
  return leases;
}

function publicIpOf(value: Buffer): string | undefined {
  try {
    const attrs: unknown = JSON.parse(value.toString('utf8'));
    if (typeof attrs !== 'object' || attrs === null) return undefined;
    const ip = field(attrs as Record<string, unknown>, 'PublicIP');
    return typeof ip === 'string' && parseIpv4(ip) !== undefined ? ip : undefined;
  } catch {
    return undefined;
  }
}

/** flanneld's updateSubnet: a fresh lease and a plain put of our value; nothing is revoked. */
async function putWithNewLease(options: Options, key: string): Promise<LeaseHeld> {
  const granted = await grant(options.leaseTtlSeconds);
  try {
    await etcd().kv.put({
      key: Buffer.from(key),
      value: Buffer.from(leaseValue(options)),
      lease: granted.leaseDecimal,
    });
  } catch (error) {
    await revokeQuietly(granted.leaseDecimal);
    throw error;
  }
  return { key, leaseDecimal: granted.leaseDecimal, expiresAtMs: expiryAfter(granted.ttl) };
}

function expiryAfter(ttlSeconds: number): number {
  return Date.now() + ttlSeconds * 1000;
}

// ---- acquiring ---------------------------------------------------------------------------------

interface LeaseHeld {
  key: string;
  leaseDecimal: string;
  expiresAtMs: number;
}

async function acquire(options: Options, plan: NetworkPlan): Promise<LeaseHeld> {
  const leases = await listLeases(options);

  const ours = leases.find((lease) => lease.publicIp === options.publicIp);
  if (ours !== undefined && fitsPlan(plan, ours.subnet)) {
    const held = await putWithNewLease(options, ours.key);
    // A reservation (lease 0) is re-leased here too: flannel issue 1329.
    const event = ours.leaseDecimal === '0' ? 'reattached' : 'reused';
    emitWrite(event, held, options, {
      previousLeaseId: leaseHex(ours.leaseDecimal),
      trigger: 'start',
    });
    return held;
  }
  if (ours !== undefined) {
    await etcd().kv.deleteRange({ key: Buffer.from(ours.key) });
    emit('deleted', { key: ours.key, reason: 'does not fit the network config' });
  }

  let subnet = previousSubnet(options, plan, leases);
  const source = subnet === undefined ? 'allocated' : 'subnet-file';
  subnet ??= pickFreeSubnet(plan, leases);
  return create(options, keyOf(options, subnet), source);
}

function previousSubnet(
  options: Options,
  plan: NetworkPlan,
  leases: ListedLease[],
): Subnet | undefined {
  if (options.subnetFile === undefined || !fs.existsSync(options.subnetFile)) return undefined;
  const text = parseDotenv(fs.readFileSync(options.subnetFile)).FLANNEL_SUBNET;
  const cidrs = text === undefined ? [] : text.split(',');
  const subnet = cidrs.length === 1 ? parseCidr(cidrs[0] as string) : undefined;
  if (subnet === undefined) return undefined;

  const taken = leases.some(
    (lease) => lease.subnet.ip === subnet.ip && lease.subnet.length === subnet.length,
  );
  if (taken) return undefined;
  if (!fitsPlan(plan, subnet)) {
    emit('subnet-file-ignored', { subnet: subnetKeyName(subnet), reason: 'does not fit' });
    return undefined;
  }
  return subnet;
}

function pickFreeSubnet(plan: NetworkPlan, leases: ListedLease[]): Subnet {
  const size = blockSize(plan.subnetLen);
  const free: Subnet[] = [];
  for (let ip = plan.subnetMin; ip <= plan.subnetMax; ip += size) {
    const candidate = { ip, length: plan.subnetLen };
    if (!leases.some((lease) => overlaps(candidate, lease.subnet))) free.push(candidate);
    if (free.length === FREE_SUBNETS_TO_PICK_FROM) break;
  }
  if (free.length === 0) throw new Error('out of subnets');
  return free[randomInt(free.length)] as Subnet;
}

async function create(options: Options, key: string, source: string): Promise<LeaseHeld> {
  const granted = await grant(options.leaseTtlSeconds);
  const keyBytes = Buffer.from(key);
  const response = await etcd().kv.txn({
    compare: [{ key: keyBytes, target: 'Version', result: 'Equal', version: 0 }],
    success: [
      {
        request_put: {
          key: keyBytes,
          value: Buffer.from(leaseValue(options)),
          lease: granted.leaseDecimal,
        },
      },
    ],
    failure: [],
  });
  if (!response.succeeded) {
    await revokeQuietly(granted.leaseDecimal);
    throw new Error(`failed to acquire lease: subnet already exists (${key})`);
  }

  const held = { key, leaseDecimal: granted.leaseDecimal, expiresAtMs: expiryAfter(granted.ttl) };
  emitWrite('acquired', held, options, { source, trigger: 'start' });
  return held;
}

function emitWrite(
  event: 'acquired' | 'reused' | 'reattached' | 'renewed',
  held: LeaseHeld,
  options: Options,
  extra: Record<string, unknown> = {},
): void {
  emit(event, {
    key: held.key,
    leaseId: leaseHex(held.leaseDecimal),
    ttl: options.leaseTtlSeconds,
    ...extra,
  });
}

// ---- keeping the lease -------------------------------------------------------------------------

/**
 * flanneld's CompleteLease: one timer at expiry - margin, re-armed by every renewal and by every
 * event of our key. Timer firings and events are handled one at a time, in order, as the Go
 * select loop does.
 */
class LeaseKeeper {
  private timer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  private lastSeenLease: string;
  private triggeredByWatch = false;

  constructor(
    private readonly options: Options,
    private held: LeaseHeld,
  ) {
    this.lastSeenLease = held.leaseDecimal;
  }

  async start(): Promise<void> {
    this.arm();

    // WatchLease first reads the key (its "reset" snapshot), then watches from the next revision.
    const response = await etcd().kv.range({ key: Buffer.from(this.held.key) });
    const kv = response.kvs[0];
    if (kv === undefined) {
      // flanneld's watch fails, CompleteLease returns, and main waits forever: alive, inert.
      this.disarm();
      emit('unmonitored', { key: this.held.key, reason: 'key vanished before the watch' });
      setInterval(() => undefined, 60_000);
      return;
    }

    // Through the queue, so a renewal that comes due meanwhile waits its turn.
    this.enqueue(() => this.observe(kv, 'snapshot'));
    await this.work;
    const watcher: Watcher = await etcd()
      .watch()
      .prefix(this.held.key)
      .startRevision(String(Number(response.header.revision) + 1))
      .create();
    watcher.on('put', (changed) => this.enqueue(() => this.observe(changed, 'watch')));
    watcher.on('delete', (deleted) => this.enqueue(() => this.revoked(deleted)));
    // etcd3 resumes a broken watch by itself; an error it cannot resume from is only reported.
    watcher.on('error', (error) => emit('error', { message: `watch: ${error.message}` }));
    emit('watching', { key: this.held.key, fromRevision: Number(response.header.revision) + 1 });
  }

  private enqueue(step: () => Promise<void>): void {
    this.work = this.work.then(step).catch((error: Error) => {
      emit('error', { message: error.message });
    });
  }

  /** Renews at `atMs`, by default the margin before expiry; at once when that has passed. */
  private arm(atMs = this.held.expiresAtMs - this.options.renewMarginSeconds * 1000): void {
    this.disarm();
    const waitMs = Math.max(0, atMs - Date.now());
    this.timer = setTimeout(() => this.enqueue(() => this.renew()), waitMs);
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async observe(kv: IKeyValue, via: 'snapshot' | 'watch'): Promise<void> {
    const ttl = await remainingTtl(kv.lease);
    this.held.expiresAtMs = expiryAfter(ttl);
    this.lastSeenLease = kv.lease;
    const renewInMs = this.held.expiresAtMs - this.options.renewMarginSeconds * 1000 - Date.now();
    this.triggeredByWatch = via === 'watch' && renewInMs <= 0;
    emit('observed', {
      key: kv.key.toString('utf8'),
      leaseId: leaseHex(kv.lease),
      ttl,
      modRevision: Number(kv.mod_revision),
      via,
      renewInSeconds: Math.max(0, Math.floor(renewInMs / 1000)),
    });
    this.arm();
  }

  private async renew(): Promise<void> {
    const previousLease = this.lastSeenLease;
    const trigger = this.triggeredByWatch ? 'watch' : 'expiry';
    try {
      this.held = await putWithNewLease(this.options, this.held.key);
    } catch (error) {
      emit('error', { message: `renewing failed, retrying in 60 s: ${(error as Error).message}` });
      this.arm(Date.now() + RENEW_RETRY_MS);
      return;
    }

    this.lastSeenLease = this.held.leaseDecimal;
    this.triggeredByWatch = false;
    // A lease-0 key re-leased by a running flanneld is the same defect seen live.
    const event = previousLease === '0' ? 'reattached' : 'renewed';
    emitWrite(event, this.held, this.options, {
      previousLeaseId: leaseHex(previousLease),
      trigger,
    });
    this.arm();
  }

  private async revoked(kv: IKeyValue): Promise<void> {
    this.disarm();
    emit('revoked', { key: kv.key.toString('utf8') });
    await shutDown(0);
  }
}

// ---- process -----------------------------------------------------------------------------------

async function shutDown(code: number): Promise<never> {
  client?.close();
  // Let stdout drain before the process goes: tests count these lines.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  // `node --test build/test/` runs every file under test/ as a test, this one too: with no
  // arguments there, it has nothing to imitate and must not count as a failure.
  if (argv.length === 0 && process.env.NODE_TEST_CONTEXT !== undefined) return;

  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`flanneld-standin: ${error.message}\n`);
    process.exit(USAGE_EXIT);
  }

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // Like flanneld: stop, revoke nothing; the lease expires on its own.
    process.once(signal, () => {
      emit('stopped', { signal });
      void shutDown(0);
    });
  }

  client = new Etcd3({
    hosts: options.endpoint,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS },
  });

  emit('started', { publicIp: options.publicIp, prefix: options.prefix, pid: process.pid });
  const plan = await readConfigUntilValid(options);
  const held = await acquire(options, plan);
  await new LeaseKeeper(options, held).start();
}

main(process.argv.slice(2)).catch(async (error: Error) => {
  emit('failed', { message: error.message });
  process.stderr.write(`flanneld-standin: ${error.message}\n`);
  await shutDown(FAILURE_EXIT);
});
