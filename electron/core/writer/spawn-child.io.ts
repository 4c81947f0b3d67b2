/**
 * Starting the privileged child (child-main.io.ts) and talking to it: spawned
 * directly when already root, through pkexec otherwise. Sends one request after
 * the child's `ready`, relays its messages, and turns every way it can end
 * (done, fatal, a cancelled password prompt, no pkexec, a crash) into a result
 * or a BootcardError. Used by `writeImageToDrives` and `runSdLockOperation`.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BootcardError, toBootcardError } from '../errors.js';
import {
  childCommand,
  helperMissingNote,
  INSTALLED_WRITER_HELPER,
  isInstalledChildEntry,
  noPolkitError,
  PKEXEC_LOCATIONS,
  pkexecExitError,
  type ChildPurpose,
} from './privilege.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { WriteErrorCode } from './types.js';

export interface PrivilegeOptions {
  /** 'auto' (default): direct when root, pkexec otherwise. 'direct': start the child without pkexec. */
  readonly privilege?: 'auto' | 'direct' | 'pkexec';
  /** The pkexec program; default $BOOTCARD_PKEXEC, else the first of PKEXEC_LOCATIONS that is there (never a PATH search). */
  readonly pkexec?: string;
  /**
   * The writer helper pkexec runs (polkit's org.bootcard.writer action);
   * default $BOOTCARD_WRITER_HELPER, else INSTALLED_WRITER_HELPER when this
   * bootcard is the installed app. Used only if it is there, root's and
   * writable by root alone; otherwise pkexec runs node as before (with a note).
   */
  readonly writerHelper?: string;
  /** Where the note about a missing helper goes (once per process); default stderr. */
  readonly notice?: (text: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Stops waiting for the child at once (a second Ctrl-C): its stdin is closed,
   * which cancels it, and it exits by itself within seconds.
   */
  readonly stopSignal?: AbortSignal;
}

/** node (or Electron as Node) plus the child's entry: compiled .js from dist/, or the .ts source through tsx (tests, dev). */
export function writerChildEntry(): { nodePath: string; nodeArgs: string[]; env: Record<string, string> } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const entry = path.join(path.dirname(here), fromSource ? 'child-main.io.ts' : 'child-main.io.js');
  const nodeArgs = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, entry] : [entry];
  return { nodePath: process.execPath, nodeArgs, env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} };
}

/** The pkexec to run: an absolute path, never found through PATH. */
export function pkexecProgram(options: PrivilegeOptions, env: NodeJS.ProcessEnv): string {
  const chosen = options.pkexec ?? env.BOOTCARD_PKEXEC;
  if (chosen) return chosen;
  const found = PKEXEC_LOCATIONS.find((candidate) => {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  // Neither is there: spawning the first fails with ENOENT, which becomes the "install polkit" error naming it.
  return found ?? PKEXEC_LOCATIONS[0];
}

/**
 * The writer helper pkexec should run, or undefined to run node as before.
 * Root will execute it, so a helper anyone but root could have changed is not one.
 */
export function writerHelperToUse(options: PrivilegeOptions, env: NodeJS.ProcessEnv, childEntry: string): { readonly helper?: string; readonly note?: string } {
  const wanted = options.writerHelper ?? env.BOOTCARD_WRITER_HELPER ?? (isInstalledChildEntry(childEntry) ? INSTALLED_WRITER_HELPER : undefined);
  if (wanted === undefined) return { note: helperMissingNote({ fromCheckout: true }) };
  try {
    const facts = statSync(wanted);
    if (facts.isFile() && facts.uid === 0 && (facts.mode & 0o022) === 0 && (facts.mode & 0o111) !== 0) return { helper: wanted };
  } catch {
    // not there
  }
  return { note: helperMissingNote({ helper: wanted }) };
}

let defaultNoteGiven = false;
/** The note goes to stderr once per process (a station that writes all day says it once), or to the caller's `notice` each time. */
function giveNote(note: string, notice: PrivilegeOptions['notice']): void {
  if (notice) return notice(note);
  if (defaultNoteGiven) return;
  defaultNoteGiven = true;
  process.stderr.write(`${note}\n`);
}

/** Whether the child is started directly (no pkexec). */
export function startsAsRoot(options: PrivilegeOptions): boolean {
  return options.privilege === 'direct' || (options.privilege !== 'pkexec' && process.getuid?.() === 0);
}

/** The messages a caller handles: everything but the handshake, image reads and the fatal error. */
export type ChildReport = Exclude<ChildMessage, { readonly type: 'ready' } | { readonly type: 'fatal' } | { readonly type: 'read' }>;

/** How long the parent waits for a cancelled child to finish before it stops waiting (the child gives up by itself after CANCEL_DEADLINE_MS). */
export const CANCELLED_CHILD_WAIT_MS = 8000;
/** How long a child that has answered may take to exit before its pipes are let go. */
const CHILD_EXIT_GRACE_MS = 3000;

export interface ChildRun<T> extends PrivilegeOptions {
  readonly message: ParentMessage;
  readonly purpose: ChildPurpose;
  /** Extra environment for the child (forwarded through pkexec only if privilege.ts lists it). */
  readonly childEnv?: Readonly<Record<string, string>>;
  /** Sends `cancel` to the child. */
  readonly signal?: AbortSignal;
  /** Answers the child's image reads (the image file the parent opened); without it a read is a protocol error. */
  readonly readImage?: (offset: number, length: number) => Promise<Uint8Array>;
  /** Each report; return `{ value }` to finish with it. */
  readonly onReport: (report: ChildReport) => { readonly value: T } | undefined;
  /**
   * The value for a run that was cancelled and ended without one (the child
   * died, or was abandoned); without it, that is an error. `childStarted`: the
   * child said it was ready (false: it never ran, e.g. Ctrl-C at the password prompt).
   */
  readonly whenCancelled?: (childStarted: boolean) => T;
  /** Appended to the message for a child that died, e.g. "Cards it was writing are incomplete." */
  readonly whenStopped: string;
}

export async function runPrivilegedChild<T>(run: ChildRun<T>): Promise<T> {
  // The wire format (zod) loads with the first child, not with every command that could start one.
  const { childMessageSchema, encodeData, encodeMessage } = await import('./protocol.js');
  const env = run.env ?? process.env;
  const asRoot = startsAsRoot(run);
  const pkexec = asRoot ? '' : pkexecProgram(run, env);
  const entry = writerChildEntry();
  const childEnv = { ...env, ...entry.env, ...run.childEnv };
  const { helper, note } = asRoot ? {} : writerHelperToUse(run, env, entry.nodeArgs.at(-1) ?? '');
  if (note !== undefined) giveNote(note, run.notice);
  const { command, args } = childCommand({ asRoot, nodePath: entry.nodePath, nodeArgs: entry.nodeArgs, pkexec, env: childEnv, helper });

  return new Promise<T>((resolve, reject) => {
    if (run.stopSignal?.aborted && run.whenCancelled) {
      resolve(run.whenCancelled(false));
      return;
    }
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv });
    let spoke = false;
    let settled = false;
    let stderr = '';
    let giveUp: NodeJS.Timeout | undefined;
    const finish = (error: BootcardError | undefined, value?: { readonly value: T }) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      // The child exits right after its answer; should it linger, its pipes must not keep this process (the CLI) alive with it.
      setTimeout(release, CHILD_EXIT_GRACE_MS).unref();
      run.signal?.removeEventListener('abort', onAbort);
      run.stopSignal?.removeEventListener('abort', onStop);
      if (error && cancelled() && run.whenCancelled) resolve(run.whenCancelled(spoke));
      else if (error) reject(error);
      else resolve(value!.value);
    };
    const cancelled = () => Boolean(run.signal?.aborted || run.stopSignal?.aborted);
    const send = (text: string | Uint8Array): boolean => (child.stdin.writable ? child.stdin.write(text) : true);
    const onAbort = () => {
      send(encodeMessage({ type: 'cancel' }));
      // The child ends its writes within seconds and exits by its own deadline; this is the backstop if it does neither.
      giveUp ??= setTimeout(onStop, CANCELLED_CHILD_WAIT_MS);
    };
    const release = () => {
      child.stdin.end();
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
    };
    /** Abandons the child: closing its stdin cancels it, and nothing here waits for it any more. */
    const onStop = () => {
      release();
      finish(new BootcardError(WriteErrorCode.CANCELLED, `Cancelled: stopped waiting for the privileged helper. ${run.whenStopped}`));
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    run.stopSignal?.addEventListener('abort', onStop, { once: true });

    // Reads are answered in order, each sent only once the pipe has room; the next one is read from the file while
    // the last one drains, so memory stays at two chunks however fast the child asks.
    const reads: { id: number; offset: number; length: number }[] = [];
    let serving = false;
    const fetchRead = async ({ id, offset, length }: { id: number; offset: number; length: number }) => {
      try {
        if (!run.readImage) throw new BootcardError(WriteErrorCode.CHILD_FAILED, 'The privileged helper asked for image data where there is no image file.');
        return { id, bytes: await run.readImage(offset, length) };
      } catch (error) {
        return { id, failure: toBootcardError(error, 'Reading the image') };
      }
    };
    const serveReads = async () => {
      if (serving) return;
      serving = true;
      try {
        let next = reads.length > 0 ? fetchRead(reads.shift()!) : undefined;
        while (next && !settled) {
          const answer = await next;
          next = reads.length > 0 ? fetchRead(reads.shift()!) : undefined;
          let room: boolean;
          if (answer.bytes) {
            const [header, payload] = encodeData(answer.id, answer.bytes);
            const headerFits = send(header);
            room = send(payload) && headerFits;
          } else {
            room = send(encodeMessage({ type: 'read-failed', id: answer.id, error: answer.failure!.toJSON() }));
          }
          if (!room && !settled) await new Promise<void>((done) => {
            const go = () => {
              child.stdin.off('drain', go);
              child.stdin.off('close', go);
              done();
            };
            child.stdin.once('drain', go);
            child.stdin.once('close', go);
          });
          next ??= reads.length > 0 ? fetchRead(reads.shift()!) : undefined;
        }
      } finally {
        serving = false;
      }
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && !asRoot) finish(noPolkitError(pkexec, run.purpose));
      else finish(new BootcardError(WriteErrorCode.CHILD_FAILED, `Could not start the privileged helper (${error.message}).`));
    });
    child.stdin.on('error', () => undefined);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (settled) return;
      let parsed;
      try {
        parsed = childMessageSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        finish(new BootcardError(WriteErrorCode.CHILD_FAILED, `The privileged helper sent something unexpected: ${line.slice(0, 200)}`));
        child.stdin.end();
        child.kill();
        return;
      }
      const msg: ChildMessage = parsed.data;
      spoke = true;
      if (msg.type === 'ready') {
        send(encodeMessage(run.message));
        if (run.signal?.aborted) onAbort();
        return;
      }
      if (msg.type === 'read') {
        reads.push(msg);
        void serveReads();
        return;
      }
      if (msg.type === 'fatal') {
        child.stdin.end();
        finish(BootcardError.fromJSON(msg.error));
        return;
      }
      let done: { readonly value: T } | undefined;
      try {
        done = run.onReport(msg);
      } catch (error) {
        finish(toBootcardError(error, 'The privileged helper sent an unexpected answer'));
        child.stdin.end();
        child.kill();
        return;
      }
      if (done) {
        child.stdin.end();
        finish(undefined, done);
      }
    });
    child.on('close', (code) => {
      const special = pkexecExitError(!asRoot, code, spoke, run.purpose);
      finish(
        special ??
          new BootcardError(
            WriteErrorCode.CHILD_FAILED,
            `The privileged helper stopped unexpectedly (exit ${code ?? 'signal'})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}. ${run.whenStopped}`,
          ),
      );
    });
  });
}
