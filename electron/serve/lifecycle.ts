/**
 * How the `bootcard serve` process lives and ends: it survives any exception
 * a dependency lets escape, and it stops on the first Ctrl+C or SIGTERM after
 * cancelling what runs.
 */
import type { CloseOutcome, RunningServer } from './server.js';

export interface ServeLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * A station stays up for days, and one client's bad frame or one library's
 * stray throw must not cancel every other tab's writes. Dependencies install
 * `uncaughtException`/`unhandledRejection` listeners that rethrow (the
 * Emscripten runtime of @balena/node-crc-utils, loaded through etcher-sdk,
 * does both), which turns any stray error into the end of the process. The
 * capture callback takes precedence over every such listener: the error is
 * logged with its stack and serve goes on. Only for the serve process itself
 * (never in-process tests): it is process-wide.
 */
export function keepServingThroughErrors(log: ServeLog): () => void {
  // A host that already captures them (a test runner running the CLI in-process) keeps doing so.
  if (process.hasUncaughtExceptionCaptureCallback()) return () => undefined;
  process.setUncaughtExceptionCaptureCallback((error: unknown) => {
    // The terminal or log reader went away: writing that down would fail the same way, again and again.
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === 'EPIPE' || code === 'EIO') return;
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log.warn(`internal error (serve keeps running; please report it): ${text}`);
  });
  return () => process.setUncaughtExceptionCaptureCallback(null);
}

/**
 * Resolves on the first SIGINT or SIGTERM, once the server has cancelled every
 * running request and they have ended (or `graceMs` passed). Later signals
 * only say it is already stopping: the first one is never ignored, and a
 * second one does not leave a write's child behind.
 */
export function stopOnFirstSignal(server: RunningServer, log: ServeLog, graceMs: number): Promise<CloseOutcome> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.info(`${signal}: already stopping (at most ${Math.ceil(graceMs / 1000)} s).`);
        return;
      }
      stopping = true;
      log.info(`${signal}: stopping; cancelling what is running.`);
      void server.close({ graceMs }).then((outcome) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (outcome.cancelled > 0) {
          const requests = `${outcome.cancelled} running ${outcome.cancelled === 1 ? 'request' : 'requests'}`;
          if (outcome.ended) log.info(`cancelled ${requests}; cards being written are incomplete: write them again.`);
          else log.warn(`cancelled ${requests}; ${outcome.cancelled === 1 ? 'it had' : 'some had'} not ended after ${Math.ceil(graceMs / 1000)} s and ${outcome.cancelled === 1 ? 'was' : 'were'} left.`);
        }
        resolve(outcome);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
