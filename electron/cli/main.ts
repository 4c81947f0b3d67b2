/** The `bootcard` executable's entry: real stdio, real exit code. */
import { runCli } from './program.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  interactive: Boolean(process.stdin.isTTY),
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
