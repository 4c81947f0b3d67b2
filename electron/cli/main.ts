/** The `bootcard` executable's entry: real stdio, real exit code. */

// Ctrl-C or SIGTERM before a command takes them over (a write, serve) ends bootcard at once as a failure (exit 1),
// not by the signal; the rest of the CLI loads after this, so the moment without a handler is as short as it can be.
const interrupted = (signal: NodeJS.Signals) => {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write('bootcard: interrupted\n');
  process.exit(1);
};
process.on('SIGINT', interrupted);
process.on('SIGTERM', interrupted);

const { runCli } = await import('./program.js');
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interactive: Boolean(process.stdin.isTTY),
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
