/**
 * Starting the privileged child (child-main.io.ts) and talking to it: spawned
 * directly when already root, through pkexec otherwise. Sends one request after
 * the child's `ready`, relays its messages, and turns every way it can end
 * (done, fatal, a cancelled password prompt, no pkexec, a crash) into a result
 * or a BootcardError. Used by `writeImageToDrives` and `runSdLockOperation`.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BootcardError, toBootcardError } from '../errors.js';
import { childCommand, noPolkitError, pkexecExitError, type ChildPurpose } from './privilege.js';
import { childMessageSchema, encodeMessage, type ChildMessage, type ParentMessage } from './protocol.js';
import { WriteErrorCode } from './types.js';

export interface PrivilegeOptions {
  /** 'auto' (default): direct when root, pkexec otherwise. 'direct': start the child without pkexec. */
  readonly privilege?: 'auto' | 'direct' | 'pkexec';
  /** The pkexec program; default $BOOTCARD_PKEXEC or `pkexec`. */
  readonly pkexec?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** node (or Electron as Node) plus the child's entry: compiled .js from dist/, or the .ts source through tsx (tests, dev). */
export function writerChildEntry(): { nodePath: string; nodeArgs: string[]; env: Record<string, string> } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const entry = path.join(path.dirname(here), fromSource ? 'child-main.io.ts' : 'child-main.io.js');
  const nodeArgs = fromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, entry] : [entry];
  return { nodePath: process.execPath, nodeArgs, env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} };
}

/** Whether the child is started directly (no pkexec). */
export function startsAsRoot(options: PrivilegeOptions): boolean {
  return options.privilege === 'direct' || (options.privilege !== 'pkexec' && process.getuid?.() === 0);
}

/** The messages a caller handles: everything but the handshake and the fatal error. */
export type ChildReport = Exclude<ChildMessage, { readonly type: 'ready' } | { readonly type: 'fatal' }>;

export interface ChildRun<T> extends PrivilegeOptions {
  readonly message: ParentMessage;
  readonly purpose: ChildPurpose;
  /** Extra environment for the child (forwarded through pkexec only if privilege.ts lists it). */
  readonly childEnv?: Readonly<Record<string, string>>;
  /** Sends `cancel` to the child. */
  readonly signal?: AbortSignal;
  /** Each report; return `{ value }` to finish with it. */
  readonly onReport: (report: ChildReport) => { readonly value: T } | undefined;
  /** Appended to the message for a child that died, e.g. "Cards it was writing are incomplete." */
  readonly whenStopped: string;
}

export function runPrivilegedChild<T>(run: ChildRun<T>): Promise<T> {
  const env = run.env ?? process.env;
  const pkexec = run.pkexec ?? env.BOOTCARD_PKEXEC ?? 'pkexec';
  const asRoot = startsAsRoot(run);
  const entry = writerChildEntry();
  const childEnv = { ...env, ...entry.env, ...run.childEnv };
  const { command, args } = childCommand({ asRoot, nodePath: entry.nodePath, nodeArgs: entry.nodeArgs, pkexec, env: childEnv });

  return new Promise<T>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv });
    let spoke = false;
    let settled = false;
    let stderr = '';
    const finish = (error: BootcardError | undefined, value?: { readonly value: T }) => {
      if (settled) return;
      settled = true;
      run.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(value!.value);
    };
    const onAbort = () => {
      if (child.stdin.writable) child.stdin.write(encodeMessage({ type: 'cancel' }));
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });

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
      let parsed;
      try {
        parsed = childMessageSchema.safeParse(JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        finish(new BootcardError(WriteErrorCode.CHILD_FAILED, `The privileged helper sent something unexpected: ${line.slice(0, 200)}`));
        child.kill();
        return;
      }
      const msg: ChildMessage = parsed.data;
      spoke = true;
      if (msg.type === 'ready') {
        child.stdin.write(encodeMessage(run.message));
        if (run.signal?.aborted) onAbort();
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
