/** Entry point of the privileged writer child process (spawned by writer.io.ts). */
import { runWriterChild } from './child.io.js';

// pkexec tells the program who asked; the child then acts only within that user's reach.
const invoker = process.env.PKEXEC_UID;
const onBehalfOfUid = invoker !== undefined && /^\d+$/.test(invoker) ? Number(invoker) : undefined;
process.exitCode = await runWriterChild(process.stdin, process.stdout, onBehalfOfUid === undefined ? {} : { onBehalfOfUid });
process.stdin.destroy();
