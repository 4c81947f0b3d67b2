/**
 * Entry point of the privileged writer child process (spawned by
 * spawn-child.io.ts). What must hold before anything else runs comes first;
 * the writer itself is imported afterwards, so no module of it can read an
 * override the child is about to drop.
 */
import { overridesToIgnore } from './privilege.js';

// Taken before anything slow (loading the writer takes seconds on a busy machine): a parent that dies meanwhile must
// still be noticed as a changed ppid, not mistaken for the parent itself.
const parentPid = process.ppid;

// Through pkexec the caller is a user, not root: every BOOTCARD_* override (fake sysfs, mount tables, test switches) goes.
for (const name of overridesToIgnore(process.env)) delete process.env[name];

// Ctrl-C in the terminal reaches this process too; the parent decides: it sends
// `cancel` (or closes stdin, or dies), and every card then reports itself incomplete.
process.on('SIGINT', () => undefined);

// pkexec tells the program who asked; the child then acts only within that user's reach.
const invoker = process.env.PKEXEC_UID;
const onBehalfOfUid = invoker !== undefined && /^\d+$/.test(invoker) ? Number(invoker) : undefined;

const { runWriterChild } = await import('./child.io.js');
const code = await runWriterChild(process.stdin, process.stdout, {
  ...(onBehalfOfUid === undefined ? {} : { onBehalfOfUid }),
  parentPid,
});
// Whatever handle a library left open (a timer, a stuck device read), the child ends here, once its last words are out.
process.stdout.write('', () => process.exit(code));
