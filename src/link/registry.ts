/**
 * The process-wide registry of attached links. On normal exit, on SIGINT and on SIGTERM every
 * link still attached is closed (so the program detaches), except links pinned on request.
 * Most links would go with the process anyway, as the kernel closes its fds; the registry
 * matters for attachments that outlive fds — BPF_PROG_ATTACH on a cgroup, legacy kprobe and
 * uprobe events in tracefs — and makes the order of teardown deterministic.
 *
 * The signal handlers are installed once, with the first link. After cleaning up, the handler
 * removes itself and, when no other listener for the signal is left, raises the signal again so
 * the default action runs: Ctrl-C still ends the process, with the status a shell expects
 * (130 for SIGINT). When the application listens for the signal too, it decides what happens
 * next.
 */
interface Closable {
  close(): void;
}

const live = new Set<Closable>();

/** Registers an attached link for cleanup at exit. */
export function track(link: Closable): void {
  live.add(link);
  install();
}

/** Unregisters a link (closed, pinned, or owned by a group). */
export function forget(link: Closable): void {
  live.delete(link);
}

/** How many links the registry would close now. */
export function trackedLinks(): number {
  return live.size;
}

/** Closes every tracked link, newest first; errors are reported on stderr, not thrown. */
export function closeAllLinks(): void {
  for (const link of [...live].reverse()) {
    try {
      link.close();
    } catch (err) {
      process.stderr.write(`tsbpf: detaching ${String(link)} at exit failed: ${(err as Error).message}\n`);
    }
  }
  live.clear();
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let exitHooked = false;
const armed = new Set<(typeof SIGNALS)[number]>();

function install(): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', closeAllLinks);
  }
  for (const signal of SIGNALS) {
    if (armed.has(signal)) continue;
    armed.add(signal);
    const handler = (): void => {
      // Runs first (prepended), so the application's listeners — `once` ones included, which
      // are removed as they run — are still counted here.
      const othersListen = process.listenerCount(signal) > 1;
      closeAllLinks();
      process.removeListener(signal, handler);
      armed.delete(signal);
      // Nobody else handles it: restore the default action by raising the signal again.
      if (!othersListen) process.kill(process.pid, signal);
    };
    process.prependListener(signal, handler);
  }
}
