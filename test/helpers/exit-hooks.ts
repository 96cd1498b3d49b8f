// Child processes a test starts (etcd, flanneld stand-ins) must not outlive it. 'exit' does not
// run when a signal ends the process, so the usual signals are handled too; after cleaning up,
// the signal does what it would have done had nobody listened.
const cleanups = new Set<() => void>();
let installed = false;

/** Runs `cleanup` (synchronously) when this process exits or is signalled to. */
export function cleanUpOnExit(cleanup: () => void): void {
  cleanups.add(cleanup);
  if (installed) return;
  installed = true;

  const runAll = () => {
    for (const run of cleanups) run();
  };
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      runAll();
      process.removeListener(signal, onSignal);
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
