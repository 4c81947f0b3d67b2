/** Entry point of the privileged writer child process (spawned by writer.io.ts). */
import { runWriterChild } from './child.io.js';

// Ctrl-C in the terminal reaches this process too; the parent decides: it sends
// `cancel` (or closes stdin), and every card then reports itself incomplete.
process.on('SIGINT', () => undefined);

// pkexec tells the program who asked; the child then acts only within that user's reach.
const invoker = process.env.PKEXEC_UID;
const onBehalfOfUid = invoker !== undefined && /^\d+$/.test(invoker) ? Number(invoker) : undefined;
process.exitCode = await runWriterChild(process.stdin, process.stdout, onBehalfOfUid === undefined ? {} : { onBehalfOfUid });
process.stdin.destroy();
