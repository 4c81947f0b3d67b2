/**
 * `writeImageToDrives`: the one way the CLI and the GUI write cards. It starts
 * the privileged writer child (directly when already root, through pkexec
 * otherwise), sends it the request, relays per-card progress, and resolves to
 * one result per target. Cancel with the AbortSignal.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeTarget, enumerationPaths } from '../drives/enumerate.io.js';
import { BootcardError } from '../errors.js';
import { runWrite } from './engine.io.js';
import { childCommand, ioThreadsFor, noPolkitError, pkexecExitError } from './privilege.js';
import { childMessageSchema, encodeMessage, imageToWire, type ParentMessage } from './protocol.js';
import { isSparseSource, WriteErrorCode, type WriteRequest, type WriteResult } from './types.js';

export interface PrivilegeOptions {
  /** 'auto' (default): direct when root, pkexec otherwise. */
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

/**
 * Devices go to the privileged child; image files are written here, with the
 * caller's own rights (after the cards, so a cancelled password prompt leaves
 * nothing written). Results come back in target order.
 */
export async function writeImageToDrives(request: WriteRequest & PrivilegeOptions): Promise<WriteResult[]> {
  const targets = request.targets.map((t) => path.resolve(t));
  const paths = enumerationPaths(request.env ?? process.env);
  const kinds = await Promise.all(targets.map((t) => describeTarget(t, { paths })));
  const files = targets.filter((_, i) => kinds[i]!.kind === 'file');
  const devices = targets.filter((_, i) => kinds[i]!.kind !== 'file');
  const deviceResults = devices.length > 0 ? await writeThroughChild({ ...request, targets: devices }) : [];
  const fileResults = files.length > 0 ? await runWrite({ ...request, targets: files }) : [];
  const byTarget = new Map([...deviceResults, ...fileResults].map((r) => [r.target, r]));
  return targets.map((t) => {
    const result = byTarget.get(t);
    if (!result) throw new BootcardError(WriteErrorCode.CHILD_FAILED, `The writer gave no result for ${t}; treat that card as unwritten.`);
    return result;
  });
}

async function writeThroughChild(request: WriteRequest & PrivilegeOptions): Promise<WriteResult[]> {
  const env = request.env ?? process.env;
  const pkexec = request.pkexec ?? env.BOOTCARD_PKEXEC ?? 'pkexec';
  const asRoot = request.privilege === 'direct' || (request.privilege !== 'pkexec' && process.getuid?.() === 0);
  const entry = writerChildEntry();
  const childEnv = { ...env, ...entry.env, UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE ?? String(ioThreadsFor(request.targets.length)) };
  const { command, args } = childCommand({ asRoot, nodePath: entry.nodePath, nodeArgs: entry.nodeArgs, pkexec, env: childEnv });
  const image = isSparseSource(request.image) ? request.image : { path: path.resolve(request.image.path) };
  const message: ParentMessage = {
    type: 'write',
    image: imageToWire(image),
    targets: request.targets.map((t) => path.resolve(t)),
    verify: request.verify,
    includeLoop: request.includeLoop ?? false,
    allowNonCard: request.allowNonCard ?? false,
    lockAfterVerify: request.lockAfterVerify ?? false,
  };

  return new Promise<WriteResult[]>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv });
    let spoke = false;
    let settled = false;
    let stderr = '';
    const finish = (error: BootcardError | undefined, results?: WriteResult[]) => {
      if (settled) return;
      settled = true;
      request.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(results!);
    };
    const onAbort = () => {
      if (child.stdin.writable) child.stdin.write(encodeMessage({ type: 'cancel' }));
    };
    request.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && !asRoot) finish(noPolkitError(pkexec));
      else finish(new BootcardError(WriteErrorCode.CHILD_FAILED, `Could not start the writer (${error.message}).`));
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
        finish(new BootcardError(WriteErrorCode.CHILD_FAILED, `The writer sent something unexpected: ${line.slice(0, 200)}`));
        child.kill();
        return;
      }
      const msg = parsed.data;
      spoke = true;
      switch (msg.type) {
        case 'ready':
          child.stdin.write(encodeMessage(message));
          if (request.signal?.aborted) onAbort();
          break;
        case 'progress':
          request.onProgress?.(msg.progress);
          break;
        case 'result':
          request.onResult?.(msg.result);
          break;
        case 'done':
          child.stdin.end();
          finish(undefined, msg.results);
          break;
        case 'fatal':
          child.stdin.end();
          finish(BootcardError.fromJSON(msg.error));
          break;
      }
    });
    child.on('close', (code) => {
      const special = pkexecExitError(!asRoot, code, spoke);
      finish(
        special ??
          new BootcardError(
            WriteErrorCode.CHILD_FAILED,
            `The writer stopped unexpectedly (exit ${code ?? 'signal'})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}. Cards it was writing are incomplete.`,
          ),
      );
    });
  });
}
