/**
 * `writeImageToDrives`: the one way the CLI and the GUI write cards. It starts
 * the privileged writer child (directly when already root, through pkexec
 * otherwise; spawn-child.io.ts), sends it the request, relays per-card
 * progress, and resolves to one result per target. Cancel with the AbortSignal.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { describeTarget, enumerationPaths } from '../drives/enumerate.io.js';
import type { Drive } from '../drives/types.js';
import { BootcardError } from '../errors.js';
import { ioThreadsFor, LOOP_THROUGH_PKEXEC_REFUSAL, WRITE_PURPOSE } from './privilege.js';
import type { OpenedImage } from './image-stream.io.js';
import type { ParentMessage } from './protocol.js';
import { resolveTargets, type ResolvedTarget } from './resolve-targets.io.js';
import { runPrivilegedChild, startsAsRoot, type PrivilegeOptions } from './spawn-child.io.js';
import { isSparseSource, isStreamSource, WriteErrorCode, type WriteRequest, type WriteResult } from './types.js';

export { writerChildEntry, type PrivilegeOptions } from './spawn-child.io.js';

/**
 * Devices go to the privileged child; image files are written here, with the
 * caller's own rights (after the cards, so a cancelled password prompt leaves
 * nothing written). Results come back in target order.
 */
export async function writeImageToDrives(request: WriteRequest & PrivilegeOptions): Promise<WriteResult[]> {
  const targets = request.targets.map((t) => path.resolve(t));
  const paths = enumerationPaths(request.env ?? process.env);
  // Every name is resolved here, with this user's rights (two names of one card are refused before a password prompt);
  // the child is handed the /dev node each led to, and through pkexec looks at no other name.
  const resolved = await resolveTargets(targets, (t) => describeTarget(t, { paths }));
  const files = resolved.filter((r) => r.found.kind === 'file').map((r) => r.target);
  const given = new Map(resolved.filter((r) => r.found.kind !== 'file').map((r) => [nodeOf(r), r.target]));
  const drives = resolved.flatMap((r) => (r.found.kind === 'drive' ? [r.found.drive] : []));
  const deviceResults = given.size > 0 ? await writeThroughChild({ ...request, targets: [...given.keys()] }, given, drives) : [];
  // The engine (etcher-sdk) loads only when a file is written here, not with every command that imports this module.
  const fileResults = files.length > 0 ? await (await import('./engine.io.js')).runWrite({ ...request, targets: files }, { imageFiles: true }) : [];
  const byTarget = new Map([...deviceResults, ...fileResults].map((r) => [r.target, r]));
  return targets.map((t) => {
    const result = byTarget.get(t);
    if (!result) throw new BootcardError(WriteErrorCode.CHILD_FAILED, `The writer gave no result for ${t}; treat that card as unwritten.`);
    return result;
  });
}

/** The name the child gets: the device node a drive or partition resolved to; any other name as given (the child refuses it). */
function nodeOf({ target, found }: ResolvedTarget): string {
  if (found.kind === 'drive') return found.drive.device;
  if (found.kind === 'partition') return found.device;
  return target;
}

/** `given` maps each node the child is sent to the name the caller used; results and progress carry the caller's name. */
async function writeThroughChild(request: WriteRequest & PrivilegeOptions, given: ReadonlyMap<string, string>, drives: readonly Drive[]): Promise<WriteResult[]> {
  const asGiven = <T extends { readonly target: string }>(item: T): T => ({ ...item, target: given.get(item.target) ?? item.target });
  const env = request.env ?? process.env;
  if (isStreamSource(request.image)) throw new BootcardError(WriteErrorCode.BAD_REQUEST, 'An image to write through the privileged writer is a composed image or an image file.');
  // The child refuses this through pkexec anyway; say so before asking for a password that cannot help.
  if (request.includeLoop && !startsAsRoot(request)) throw new BootcardError(WriteErrorCode.REFUSED, LOOP_THROUGH_PKEXEC_REFUSAL);
  const targets = request.targets.map((t) => path.resolve(t));
  // The image file is opened here, with this user's rights; the child only ever sees its bytes.
  const [{ openImageForChild }, { imageToWire }] = await Promise.all([import('./image-stream.io.js'), import('./protocol.js')]);
  const opened = isSparseSource(request.image) ? undefined : await openImageForChild(request.image.path);
  const finished = new Map<string, WriteResult>();
  try {
    const message: ParentMessage = {
      type: 'write',
      image: imageToWire(isSparseSource(request.image) ? request.image : await asLoopBackingFile(opened!, drives)),
      targets,
      verify: request.verify,
      includeLoop: request.includeLoop ?? false,
      allowNonCard: request.allowNonCard ?? false,
      lockAfterVerify: request.lockAfterVerify ?? false,
    };
    return await runPrivilegedChild<WriteResult[]>({
      ...(request.privilege ? { privilege: request.privilege } : {}),
      ...(request.pkexec ? { pkexec: request.pkexec } : {}),
      ...(request.writerHelper ? { writerHelper: request.writerHelper } : {}),
      ...(request.notice ? { notice: request.notice } : {}),
      env,
      message,
      purpose: WRITE_PURPOSE,
      childEnv: { UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE ?? String(ioThreadsFor(request.targets.length)) },
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.stopSignal ? { stopSignal: request.stopSignal } : {}),
      ...(opened ? { readImage: opened.read } : {}),
      whenStopped: 'Cards it was writing are incomplete.',
      // Cancelled, and the child ended (or was abandoned) before it said how each card ended: every card it had not finished is incomplete.
      whenCancelled: (childStarted) => targets.map((t) => finished.get(t) ?? asGiven(cancelledResult(t, childStarted))),
      onReport: (report) => {
        switch (report.type) {
          case 'progress':
            request.onProgress?.(asGiven(report.progress));
            return undefined;
          case 'result':
            finished.set(report.result.target, asGiven(report.result));
            request.onResult?.(asGiven(report.result));
            return undefined;
          case 'done':
            return { value: report.results.map(asGiven) };
          default:
            throw new BootcardError(WriteErrorCode.CHILD_FAILED, `The writer answered a write with a '${report.type}' message.`);
        }
      },
    });
  } finally {
    await opened?.close();
  }
}

/**
 * The image's facts, naming it by a target loop device's backing file when that
 * is the same file under another name (a hard link): the child then refuses
 * that loop device as holding the image instead of writing the image over itself.
 */
async function asLoopBackingFile(opened: OpenedImage, drives: readonly Drive[]): Promise<OpenedImage['facts']> {
  for (const drive of drives) {
    if (!drive.loopBackingFile) continue;
    const backing = await stat(drive.loopBackingFile, { bigint: true }).catch(() => undefined);
    if (backing && backing.dev === opened.node.dev && backing.ino === opened.node.ino) return { ...opened.facts, sourcePath: drive.loopBackingFile };
  }
  return opened.facts;
}

function cancelledResult(target: string, childStarted: boolean): WriteResult {
  const message = childStarted
    ? `Cancelled: ${target} is incomplete; write it again before using it.`
    : `Cancelled before the privileged writer started: nothing was written to ${target}.`;
  return {
    target,
    ok: false,
    kind: 'device',
    error: new BootcardError(WriteErrorCode.CANCELLED, message, { target }).toJSON(),
    bytesWritten: 0,
    durationMs: 0,
    verified: false,
  };
}
