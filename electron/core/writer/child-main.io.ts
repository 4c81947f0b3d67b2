/** Entry point of the privileged writer child process (spawned by writer.io.ts). */
import { runWriterChild } from './child.io.js';

process.exitCode = await runWriterChild(process.stdin, process.stdout);
process.stdin.destroy();
