/**
 * `bootcard serve`: runs the wizard for a browser (a flashing station without
 * a screen, driven from a laptop). Binds to loopback unless --host says
 * otherwise and prints the one URL that works: it carries a random token.
 */
import { Option, type Command } from 'commander';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootcardError } from '../../core/errors.js';
import { openOutputFolder, resolveOutputRoot } from '../../core/files/output-root.io.js';
import { createHandlers } from '../../ipc/handlers/index.js';
import { StationService } from '../../ipc/handlers/station.js';
import { DEFAULT_CLOSE_GRACE_MS, defaultRendererDir, startServer, type RunningServer } from '../../serve/server.js';
import { keepServingThroughErrors, stopOnFirstSignal } from '../../serve/lifecycle.js';
import { isLoopbackHost, parsePort } from '../../serve/access.js';
import { loadOrCreateTokenFile } from '../../serve/token-file.io.js';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';

export const DEFAULT_SERVE_PORT = 8477;

interface ServeCommandOptions {
  host: string;
  port: string;
  json?: boolean;
  includeLoop?: boolean;
  loopDir?: string;
  rendererDir?: string;
  outputDir?: string;
  tokenFile?: string;
}

/**
 * The folder the wizard saves into: --output-dir (refused at start when it
 * is missing or another user could change it) or the folder serve started in
 * (then only warned about: saving is refused request by request).
 */
async function outputRootFor(options: ServeCommandOptions, ctx: CliContext): Promise<string> {
  let root: string;
  try {
    root = resolveOutputRoot(path.resolve(ctx.io.cwd, options.outputDir ?? '.'));
  } catch (error) {
    throw options.outputDir !== undefined && BootcardError.is(error) ? usageError(`--output-dir: ${error.message}`) : error;
  }
  const problem = await openOutputFolder(root, '.').then((f) => f.close().then(() => null), (error: unknown) => error);
  if (problem) {
    const message = problem instanceof Error ? problem.message : String(problem);
    if (options.outputDir !== undefined) throw usageError(`--output-dir: ${message}`);
    ctx.warn(`saving files from the wizard will be refused: ${message} Start serve in a folder of your own or pass --output-dir.`);
  }
  return root;
}

/** Starts the server; resolves once it listens. Exported for tests that run it in-process. */
export async function startServeCommand(options: ServeCommandOptions, ctx: CliContext): Promise<RunningServer> {
  const port = parsePort(options.port);
  if (port === null) throw usageError(`--port must be a number from 0 to 65535, not "${options.port}".`);
  const includeLoop = Boolean(options.includeLoop);
  const outputRoot = await outputRootFor(options, ctx);
  const kept = options.tokenFile !== undefined ? await loadOrCreateTokenFile(path.resolve(ctx.io.cwd, options.tokenFile)) : null;
  // The flashing station lives in the server, not in one tab's connection; stopping serve cancels it.
  if (options.loopDir !== undefined && !includeLoop) throw usageError('--loop-dir is for --include-loop.');
  const station = new StationService({ cwd: ctx.io.cwd, includeLoop, ...(options.loopDir !== undefined ? { loopDir: path.resolve(ctx.io.cwd, options.loopDir) } : {}) });
  const server = await startServer({
    ...(kept ? { token: kept.token } : {}),
    host: options.host,
    port,
    rendererDir: options.rendererDir ?? defaultRendererDir(fileURLToPath(import.meta.url)),
    handlers: createHandlers({ frontEnd: 'serve', includeLoop, outputRoot, station }),
    onClose: () => station.close(),
    onRefused: (reason) => ctx.info(`refused: ${reason}`),
  });
  if (options.json) {
    ctx.printJson({ url: server.url, origin: server.origin, port: server.port, token: server.token });
  } else {
    ctx.print(`bootcard wizard: ${server.url}`);
    ctx.info('Open this URL in a browser (it carries the access token). Press Ctrl+C to stop.');
    ctx.info('Paste it into the address bar rather than passing it on a command line: other users can read command lines.');
    ctx.info(`Files saved from the wizard go under ${outputRoot}.`);
    if (kept) ctx.info(kept.created ? `The token is kept in ${options.tokenFile} (new, mode 0600): this URL stays the same when serve restarts.` : `The token comes from ${options.tokenFile}: the URL is the one from before.`);
    if (!isLoopbackHost(options.host)) ctx.warn(`listening on ${options.host}: anyone who can reach this machine and has the URL can write cards.`);
    if (includeLoop) ctx.warn('loop devices are offered as targets (test mode).');
  }
  return server;
}

export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('run the wizard in a browser: serves it on loopback and prints a URL with an access token')
    .option('--host <address>', 'address to listen on (anything but loopback exposes the station to the network)', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 picks a free one)', String(DEFAULT_SERVE_PORT))
    .option('--json', 'print the URL, port and token as JSON')
    .option('--output-dir <dir>', 'the folder the wizard saves files under (default: the current folder)')
    .option('--token-file <file>', 'keep the access token in this file (created mode 0600), so the URL survives restarts')
    .addOption(new Option('--include-loop', 'offer loop devices as targets (for tests)').hideHelp())
    .addOption(new Option('--loop-dir <dir>', "with --include-loop: the station takes only loop devices backed by files in this folder (so a test never writes another's)").hideHelp())
    .addOption(new Option('--renderer-dir <dir>', 'serve this built renderer instead of dist/renderer').hideHelp())
    .action(async (options: ServeCommandOptions) => {
      const server = await startServeCommand(options, ctx);
      const restoreErrors = keepServingThroughErrors(ctx);
      await stopOnFirstSignal(server, ctx, DEFAULT_CLOSE_GRACE_MS);
      restoreErrors();
      // Whatever a cancelled request left running (a timer, a child that would not end) does not keep serve alive.
      setTimeout(() => process.exit(), 1000).unref();
    });
}
