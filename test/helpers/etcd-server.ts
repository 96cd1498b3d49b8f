// Starts a private, single-member etcd on 127.0.0.1 for one test file and makes sure it dies
// with the test process; etcdForSuite ties one to the before() and after() of a suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { cleanUpOnExit } from './exit-hooks.js';

export interface EtcdServer {
  endpoint: string;
  clientPort: number;
  /** The running process; a new one after startAgain(). */
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
  /** Stops the process (SIGTERM, as an operator's restart does) and keeps the data dir. */
  stopKeepingData(): Promise<void>;
  /** Starts etcd again on the same ports and data after stopKeepingData(); waits until healthy. */
  startAgain(): Promise<void>;
}

export interface EtcdTlsOptions {
  /** Server certificate and key etcd presents on its client URL, which becomes https://. */
  certFile: string;
  keyFile: string;
  /** CA etcd trusts for client certificates (`--trusted-ca-file`). */
  caFile?: string;
  /** Refuse clients without a certificate signed by caFile (`--client-cert-auth`). */
  clientCertAuth?: boolean;
  /** Certificate and key the readiness probe presents; required with clientCertAuth. */
  probeCertFile?: string;
  probeKeyFile?: string;
}

export interface StartEtcdOptions {
  enableV2?: boolean;
  extraArgs?: string[];
  /** Leave etcd running when this process exits (`npm run demo -- --keep`); stop() still works. */
  keepAfterExit?: boolean;
  /** Serve the client URL over https with these files; plain http when absent. */
  tls?: EtcdTlsOptions;
}

const ETCD_BINARY = 'etcd';
const READY_TIMEOUT_MS = 15_000;
const HEALTH_POLL_INTERVAL_MS = 100;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;
const STOP_GRACE_MS = 5_000;
const START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;

// Every etcd this process started and has not yet seen exit, by PID, with its temp dir.
const runningEtcds = new Map<number, string>();

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = probe.address();
      if (address === null || typeof address === 'string') {
        probe.close();
        reject(new Error('freePort: could not read the port the probe socket was bound to'));
        return;
      }
      probe.close(() => resolve(address.port));
    });
  });
}

export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  checkTlsOptions(options.tls);
  // Read before anything is spawned, so a missing file cannot leave an etcd behind.
  const probeIdentity = options.tls ? readProbeIdentity(options.tls) : undefined;
  cleanUpOnExit(killAllSynchronously);

  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const outcome = await startEtcdOnce(options, probeIdentity);
    if (outcome.kind === 'started') {
      return outcome.server;
    }

    failures.push(`attempt ${attempt}: ${outcome.message}`);
    // Only a lost race for a port is worth another try; anything else will fail the same way.
    if (!outcome.portTaken) {
      break;
    }
  }

  throw new Error(`could not start etcd on 127.0.0.1:\n${failures.join('\n')}`);
}

export interface SuiteEtcd {
  readonly server: EtcdServer;
  readonly endpoint: string;
}

/**
 * The etcd of a suite: call in a describe() body, whose before() starts it and whose after()
 * stops it, so no test file forgets to stop its etcd.
 */
export function etcdForSuite(options: StartEtcdOptions = {}): SuiteEtcd {
  let server: EtcdServer | undefined;

  before(async () => {
    server = await startEtcd(options);
  });

  after(async () => {
    // Undefined only when before() failed.
    await server?.stop();
  });

  const started = (): EtcdServer => {
    if (server === undefined) {
      throw new Error('etcdForSuite: the etcd is used before its before() hook ran');
    }
    return server;
  };
  return {
    get server() {
      return started();
    },
    get endpoint() {
      return started().endpoint;
    },
  };
}

type StartOutcome =
  | { kind: 'started'; server: EtcdServer }
  | { kind: 'failed'; portTaken: boolean; message: string };

async function startEtcdOnce(
  options: StartEtcdOptions,
  probeIdentity: ProbeIdentity | undefined,
): Promise<StartOutcome> {
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) {
    peerPort = await freePort();
  }

  // The temp dir holds etcd's own data dir and its log side by side, so one rm cleans both.
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flanctl-etcd-'));
  const etcdDataDir = path.join(dataDir, 'etcd');
  const logPath = path.join(dataDir, 'etcd.log');
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const memberName = 'flanctl-test';

  const args = [
    `--name=${memberName}`,
    `--data-dir=${etcdDataDir}`,
    `--listen-client-urls=${endpoint}`,
    `--advertise-client-urls=${endpoint}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${memberName}=${peerUrl}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=flanctl-test-${process.pid}-${clientPort}`,
    '--heartbeat-interval=50',
    '--election-timeout=500',
    '--logger=zap',
    '--log-outputs=stderr',
    ...(options.enableV2 === true ? ['--enable-v2=true'] : []),
    ...tlsArgs(options.tls),
    ...(options.extraArgs ?? []),
  ];

  const launch = () => launchEtcd(args, dataDir, logPath, options.keepAfterExit === true);
  const launched = await launch();
  if (launched.kind === 'failed') {
    await rm(dataDir, { recursive: true, force: true });
    return { kind: 'failed', portTaken: false, message: launched.message };
  }

  const { child } = launched;
  const relaunch = async (): Promise<ChildProcess> => {
    const again = await launch();
    if (again.kind === 'failed') throw new Error(`etcd did not start again: ${again.message}`);

    const readiness = await waitUntilHealthy(again.child, endpoint, probeIdentity);
    if (readiness !== 'healthy') {
      await stopChild(again.child, again.pid);
      throw new Error(`etcd did not start again (${readiness}):\n${await readLogTail(logPath)}`);
    }
    return again.child;
  };
  const server = makeServer(child, endpoint, clientPort, dataDir, relaunch);
  const readiness = await waitUntilHealthy(child, endpoint, probeIdentity);
  if (readiness === 'healthy') {
    return { kind: 'started', server };
  }

  const logTail = await readLogTail(logPath);
  await server.stop();
  const portTaken = readiness === 'exited' && /address already in use/i.test(logTail);
  const reason =
    readiness === 'exited'
      ? `etcd exited before becoming healthy (${describeExit(child)})`
      : `etcd did not report healthy at ${endpoint}/health within ${READY_TIMEOUT_MS} ms`;
  return {
    kind: 'failed',
    portTaken,
    message: `${reason}; last lines of its log:\n${logTail}`,
  };
}

function makeServer(
  firstChild: ChildProcess,
  endpoint: string,
  clientPort: number,
  dataDir: string,
  relaunch: () => Promise<ChildProcess>,
): EtcdServer {
  let child = firstChild;
  let stopping: Promise<void> | undefined;

  const server: EtcdServer = {
    endpoint,
    clientPort,
    pid: firstChild.pid as number,
    dataDir,
    stop() {
      stopping ??= stopChild(child, server.pid).finally(() =>
        rm(dataDir, { recursive: true, force: true }),
      );
      return stopping;
    },
    stopKeepingData() {
      return stopChild(child, server.pid);
    },
    async startAgain() {
      if (stopping !== undefined) throw new Error('startAgain: this etcd was stopped for good');
      if (!hasExited(child)) throw new Error('startAgain: etcd is still running');

      child = await relaunch();
      server.pid = child.pid as number;
    },
  };
  return server;
}

type Launch =
  | { kind: 'spawned'; child: ChildProcess; pid: number }
  | { kind: 'failed'; message: string };

/** Spawns etcd with its output appended to `logPath`, and tracks it until it exits. */
async function launchEtcd(
  args: string[],
  dataDir: string,
  logPath: string,
  keepAfterExit: boolean,
): Promise<Launch> {
  const logFd = fs.openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(ETCD_BINARY, args, {
      cwd: dataDir,
      env: etcdEnvironment(),
      stdio: ['ignore', logFd, logFd],
      // Its own process group, so a Ctrl-C meant for the demo does not reach a kept etcd.
      detached: keepAfterExit,
    });
  } finally {
    // The child holds its own copy of the descriptor.
    fs.closeSync(logFd);
  }

  const spawnError = await spawnFailure(child);
  if (spawnError !== undefined) {
    return { kind: 'failed', message: `cannot run '${ETCD_BINARY}': ${spawnError.message}` };
  }

  const pid = child.pid as number;
  if (!keepAfterExit) runningEtcds.set(pid, dataDir);
  child.once('exit', () => runningEtcds.delete(pid));
  // A test that forgets stop() must not hang on this handle; the exit hook still kills etcd.
  child.unref();
  return { kind: 'spawned', child, pid };
}

async function stopChild(child: ChildProcess, pid: number): Promise<void> {
  if (hasExited(child)) {
    return;
  }

  // Waiting for 'exit' (not polling the PID) means Node has reaped it, so the PID is really gone.
  const exited = once(child, 'exit');
  signalPid(pid, 'SIGTERM');

  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<'timeout'>((resolve) => {
    graceTimer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const firstOutcome = await Promise.race([exited.then(() => 'exited' as const), graceOver]);
  // A pending grace timer would keep the test process alive for the full 5 s.
  clearTimeout(graceTimer);

  if (firstOutcome === 'timeout') {
    signalPid(pid, 'SIGKILL');
    await exited;
  }
}

async function waitUntilHealthy(
  child: ChildProcess,
  endpoint: string,
  probeIdentity: ProbeIdentity | undefined,
): Promise<'healthy' | 'exited' | 'timeout'> {
  const deadline = Date.now() + READY_TIMEOUT_MS;

  while (Date.now() < deadline) {
    if (hasExited(child)) {
      return 'exited';
    }

    if (await reportsHealthy(endpoint, probeIdentity)) {
      // Guards against another process having grabbed the port and answering in etcd's place.
      return hasExited(child) ? 'exited' : 'healthy';
    }

    await sleep(HEALTH_POLL_INTERVAL_MS);
  }

  return hasExited(child) ? 'exited' : 'timeout';
}

async function reportsHealthy(
  endpoint: string,
  probeIdentity: ProbeIdentity | undefined,
): Promise<boolean> {
  try {
    const body = probeIdentity
      ? await getJsonOverTls(`${endpoint}/health`, probeIdentity)
      : await getJson(`${endpoint}/health`);
    return (
      typeof body === 'object' && body !== null && (body as { health?: unknown }).health === 'true'
    );
  } catch {
    // Refused connections and half-started servers are expected while etcd boots.
    return false;
  }
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) });
  return response.json();
}

// What the readiness probe presents to an https etcd: nothing, or a client certificate.
interface ProbeIdentity {
  cert?: Buffer;
  key?: Buffer;
}

function readProbeIdentity(tls: EtcdTlsOptions): ProbeIdentity {
  return {
    cert: tls.probeCertFile === undefined ? undefined : fs.readFileSync(tls.probeCertFile),
    key: tls.probeKeyFile === undefined ? undefined : fs.readFileSync(tls.probeKeyFile),
  };
}

// The probe only asks whether the etcd we spawned is up. Tests give etcd deliberately broken
// server certificates (expired, naming another host), so it does not verify the server's.
function getJsonOverTls(url: string, identity: ProbeIdentity): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      url,
      {
        ...identity,
        rejectUnauthorized: false,
        agent: false,
        timeout: HEALTH_REQUEST_TIMEOUT_MS,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('error', reject);
        response.on('end', () => {
          try {
            resolve(JSON.parse(body));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.once('timeout', () => request.destroy(new Error('health request timed out')));
    request.once('error', reject);
  });
}

function tlsArgs(tls: EtcdTlsOptions | undefined): string[] {
  if (tls === undefined) {
    return [];
  }

  return [
    `--cert-file=${tls.certFile}`,
    `--key-file=${tls.keyFile}`,
    ...(tls.caFile === undefined ? [] : [`--trusted-ca-file=${tls.caFile}`]),
    ...(tls.clientCertAuth === true ? ['--client-cert-auth=true'] : []),
  ];
}

// A mistake here would otherwise show up as etcd "not healthy" after the full ready timeout.
function checkTlsOptions(tls: EtcdTlsOptions | undefined): void {
  if (tls === undefined) {
    return;
  }

  if (tls.clientCertAuth === true && tls.caFile === undefined) {
    throw new Error('startEtcd: tls.clientCertAuth needs tls.caFile to verify clients with');
  }
  if (tls.clientCertAuth === true && (!tls.probeCertFile || !tls.probeKeyFile)) {
    throw new Error(
      'startEtcd: tls.clientCertAuth needs tls.probeCertFile and tls.probeKeyFile, or the' +
        ' readiness probe is refused',
    );
  }
  if ((tls.probeCertFile === undefined) !== (tls.probeKeyFile === undefined)) {
    throw new Error('startEtcd: tls.probeCertFile and tls.probeKeyFile go together');
  }
}

function spawnFailure(child: ChildProcess): Promise<Error | undefined> {
  return new Promise((resolve) => {
    child.once('error', (error) => resolve(error));
    child.once('spawn', () => resolve(undefined));
  });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function describeExit(child: ChildProcess): string {
  return child.signalCode !== null ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // ESRCH: it exited on its own between our check and the signal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw error;
    }
  }
}

// etcd reads every ETCD_* variable as a flag, so an operator's settings could move it off our
// ports or data dir; drop them all.
function etcdEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('ETCD_')) {
      environment[name] = value;
    }
  }
  return environment;
}

async function readLogTail(logPath: string): Promise<string> {
  try {
    const log = await readFile(logPath, 'utf8');
    return log.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch (error) {
    return `(log unreadable: ${(error as Error).message})`;
  }
}

// Runs inside 'exit' and signal handlers, where only synchronous work is certain to finish.
function killAllSynchronously(): void {
  for (const [pid, dataDir] of runningEtcds) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone; its temp dir is still worth removing.
    }
    try {
      fs.rmSync(dataDir, { recursive: true, force: true });
    } catch {
      // Best effort while the process is going down; a leftover temp dir is harmless.
    }
  }
  runningEtcds.clear();
}
