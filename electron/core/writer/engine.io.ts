/**
 * The writer itself: runs inside the privileged child (or in-process as root
 * in tests). For every target, independently and at the same time:
 *
 *   resolve the name once (resolve-targets.io.ts; two names of one card are
 *   refused) -> re-check the resolved /dev node (fresh from sysfs and the mount
 *   table) -> unmount exactly the card's own file systems (unmount.io.ts, by
 *   device number, never lazily) -> open it O_NOFOLLOW|O_EXCL and check the
 *   handle is the checked device (card-device.io.ts) -> zero the partition
 *   table area -> read the other must-be-zero blocks (head, tail, the image's
 *   zero ranges) and write zeros only where they are not zero -> stream the
 *   data ranges (partition table last) -> fsync -> check it is still the same
 *   device -> read everything back through the same exclusive handle and
 *   compare checksums -> optionally lock the card -> close. See layout.ts for
 *   the order and why.
 *
 * One target's failure never stops the others: each resolves to its own result.
 */
import { sourceDestination, errors as etcherErrors, type sparseStream } from 'etcher-sdk';
import { createBuffer } from 'etcher-sdk/build/aligned-lockable-buffer.js';
import { describeTarget, type TargetKind } from '../drives/enumerate.io.js';
import { driveConstraints, fileTargetConstraints, type Constraint } from '../drives/constraints.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { CardDevice, type CardDeviceOptions } from './card-device.io.js';
import { CardContentSource, PLAN_BUFFERS, createPlanReadStream, verifyBlocks, writeBlocks } from './card-source.io.js';
import { writeImageFile } from './image-file.io.js';
import { nonZeroPieces, planCardWrite, ZERO_CHECK_CHUNK, type PlannedBlock, type RangeExtent } from './layout.js';
import { prepareImage, type PreparedImage } from './prepared-image.io.js';
import { ProgressMeter, type WriteProgress } from './progress.js';
import { resolveTargets } from './resolve-targets.io.js';
import { WriteErrorCode, type LockOutcome, type WriteRequest, type WriteResult } from './types.js';
import { unmountCard } from './unmount.io.js';

export { asDrivelistDrive } from './card-device.io.js';

/**
 * What a destination must do: CardDevice in production (one exclusive handle
 * for write, flush and verify), a spy in unit tests.
 */
export type Destination = Pick<sourceDestination.BlockDevice, 'open' | 'close' | 'read' | 'write' | 'getAlignment' | 'createSparseWriteStream' | 'createVerifier'> & {
  readonly flush: () => Promise<void>;
};

export interface EngineDeps {
  readonly describeTarget: (target: string) => Promise<TargetKind>;
  /** Unmounts the card's own file systems or throws DRIVE_BUSY (unmount.io.ts). */
  readonly unmount: (drive: Drive, signal: AbortSignal | undefined) => Promise<void>;
  readonly openDevice: (drive: Drive, options: CardDeviceOptions) => Destination;
  readonly lockCard: (device: string) => Promise<{ state: string }>;
  readonly now: () => number;
}

export interface RunWriteOptions {
  readonly deps?: Partial<EngineDeps>;
  readonly hooks?: EngineHooks;
  /**
   * The user who asked, when the engine runs with more rights than they have
   * (the child started through pkexec: $PKEXEC_UID). It then opens no image
   * file at all (the parent opened it and streams its bytes) and writes no files.
   */
  readonly onBehalfOfUid?: number;
  /**
   * Targets that are regular files are written as image files. Only the
   * unprivileged caller asks for this (writer.io.ts); the privileged child
   * never does, so a link that turns into a file is refused there.
   */
  readonly imageFiles?: boolean;
}

export interface EngineHooks {
  /** Runs right after a card's partition table area was zeroed, its first write (tests interrupt the write here). */
  readonly afterHeadWipe?: (target: string) => Promise<void> | void;
  /** Runs after a card is written and flushed (and still held exclusively), before it is read back (tests inject corruption here). */
  readonly afterWrite?: (target: string) => Promise<void> | void;
}

export const defaultEngineDeps: EngineDeps = {
  describeTarget: (target) => describeTarget(target),
  unmount: (drive, signal) => unmountCard(drive, signal ? { signal } : {}),
  openDevice: (drive, options) => new CardDevice(drive, options),
  lockCard: async (device) => {
    const { lockSdCard } = await import('../sdlock/sdlock.io.js');
    return lockSdCard(device);
  },
  now: () => Date.now(),
};

/** Writes the image to every target at once; resolves to one result per target, in order. Throws only for a bad request. */
export async function runWrite(request: WriteRequest, options: RunWriteOptions = {}): Promise<WriteResult[]> {
  const deps: EngineDeps = { ...defaultEngineDeps, ...options.deps };
  if (request.targets.length === 0) throw new BootcardError(WriteErrorCode.BAD_REQUEST, 'No target given: name at least one card with --to.');
  // Each name is followed once, here; two names of one card refuse the whole request before anything is written.
  // For a user (pkexec) only /dev nodes are looked at: root following a user's name would tell them what lies where they cannot look.
  const describe = options.onBehalfOfUid === undefined ? deps.describeTarget : onlyDeviceNodes(deps.describeTarget);
  const resolved = await resolveTargets(request.targets, describe);
  const image = await prepareImage(request, options.onBehalfOfUid);
  try {
    return await Promise.all(
      resolved.map(async ({ target, found }) => {
        const result = await writeOneTarget(target, found, image, request, deps, options);
        request.onResult?.(result);
        return result;
      }),
    );
  } finally {
    await image.release?.();
  }
}

/**
 * A device node directly in /dev (/dev/sdb, /dev/mmcblk0, /dev/nvme0n1): the
 * only names the child takes for a user. Only root can create names there, and
 * the parent has already resolved the user's names (links, /dev/disk/by-id)
 * with the user's own rights.
 */
const DEVICE_NODE = /^\/dev\/[A-Za-z0-9][A-Za-z0-9_-]*$/;
const NOT_FOLLOWED = 'not-followed-for-a-user';

function onlyDeviceNodes(describe: EngineDeps['describeTarget']): EngineDeps['describeTarget'] {
  return async (target) => (DEVICE_NODE.test(target) ? describe(target) : { kind: 'other', path: target, reason: NOT_FOLLOWED });
}

function refusal(target: string, constraints: readonly Constraint[]): BootcardError {
  return new BootcardError(
    constraints[0]?.code ?? WriteErrorCode.REFUSED,
    constraints.length === 1 ? constraints[0]!.message : `${target} cannot be written: ${constraints.map((c) => c.message).join(' ')}`,
    { target, constraints: constraints.map((c) => ({ code: c.code, message: c.message })) },
  );
}

/** Refuses anything a constraint forbids about what a target resolved to. Mounts are allowed only where the writer unmounts next. */
function checkTarget(target: string, found: TargetKind, image: PreparedImage, request: WriteRequest, allowMounted: boolean): Drive {
  switch (found.kind) {
    case 'drive': {
      const constraints = driveConstraints(
        found.drive,
        {
          size: image.size,
          ...(image.sourcePath ? { sourcePath: image.sourcePath } : {}),
          ...(image.sourceDeviceNumber ? { sourceDeviceNumber: image.sourceDeviceNumber } : {}),
        },
        { includeLoop: request.includeLoop ?? false, allowNonCard: request.allowNonCard ?? false },
      ).filter((c) => !(allowMounted && c.code === DriveErrorCode.MOUNTED));
      if (constraints.length > 0) throw refusal(target, constraints);
      return found.drive;
    }
    case 'partition':
      throw new BootcardError(DriveErrorCode.PARTITION, `${target} is a partition; write to the whole card (${found.disk}) instead.`, { target });
    case 'missing':
      throw new BootcardError(DriveErrorCode.VANISHED, `${target} does not exist (the card was removed, or the path is wrong).`, { target });
    case 'file':
      throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, `${target} is a file, not a device.`, { target });
    default:
      if (found.reason) throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, found.reason, { target });
      throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, `${target} is neither a disk nor an image file; bootcard writes to whole disks (e.g. /dev/sdb) or to a new .img file.`, { target });
  }
}

/** Fresh facts about the resolved device node (never the name the user gave), checked again. */
async function recheck(device: string, image: PreparedImage, request: WriteRequest, deps: EngineDeps, allowMounted: boolean): Promise<Drive> {
  return checkTarget(device, await deps.describeTarget(device), image, request, allowMounted);
}

function sameDevice(before: Drive, after: TargetKind): boolean {
  if (after.kind !== 'drive') return false;
  const a = after.drive;
  return (
    a.size === before.size &&
    a.deviceNumbers[0] === before.deviceNumbers[0] &&
    a.loopBackingFile === before.loopBackingFile &&
    a.sd?.serial === before.sd?.serial
  );
}

async function ensureStillThere(target: string, before: Drive, deps: EngineDeps, when: string): Promise<void> {
  if (!sameDevice(before, await deps.describeTarget(before.device))) {
    throw new BootcardError(
      WriteErrorCode.VANISHED,
      `${target} went away ${when} (the card was removed, the reader unplugged or the loop device detached). The card is incomplete: insert it again and write it again.`,
      { target },
    );
  }
}

function ioError(error: unknown, target: string, what: string): BootcardError {
  if (error instanceof BootcardError) return error;
  const code = (error as { code?: unknown })?.code;
  if (code === 'EBUSY') {
    return new BootcardError(
      WriteErrorCode.BUSY,
      `${target} is in use (mounted, or opened by another program), so bootcard could not open it exclusively. Unmount it and close programs using it, then retry.`,
      { target },
    );
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new BootcardError(WriteErrorCode.IO, `${target} refused writing (${String(code)}): is the card locked or are you lacking privileges?`, { target });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BootcardError(WriteErrorCode.IO, `${what} ${target} failed: ${message}. The card may be failing or was removed; try again or use another card.`, { target, cause: String(code ?? '') });
}

function throwIfCancelled(signal: AbortSignal | undefined, target: string): void {
  if (signal?.aborted) {
    throw new BootcardError(WriteErrorCode.CANCELLED, `Cancelled: ${target} is incomplete; write it again before using it.`, { target });
  }
}

async function writeOneTarget(
  target: string,
  found: TargetKind,
  image: PreparedImage,
  request: WriteRequest,
  deps: EngineDeps,
  options: RunWriteOptions,
): Promise<WriteResult> {
  const started = deps.now();
  const progress = { bytesWritten: 0 };
  let kind: 'device' | 'file' = 'device';
  let device: string | undefined;
  let description: string | undefined;
  let cidSerial: string | undefined;
  try {
    throwIfCancelled(request.signal, target);
    if (found.kind === 'other' && found.reason === NOT_FOLLOWED) {
      // The same words whatever the name leads to (a file, a folder, nothing): a user learns nothing from root's refusal.
      throw new BootcardError(
        WriteErrorCode.REFUSED,
        `${target} is not a device node in /dev (such as /dev/sdb); the privileged writer writes only to cards and, for a user, looks at no other name. Nothing was written. Name the card by its device (bootcard drives lists them).`,
        { target },
      );
    }
    if (found.kind === 'file') {
      kind = 'file';
      if (!options.imageFiles || options.onBehalfOfUid !== undefined) {
        throw new BootcardError(
          WriteErrorCode.REFUSED,
          `${target === found.path ? target : `${target} leads to ${found.path}, which`} is a file; the privileged writer writes only to cards (whole-disk block devices). Nothing was written. Image files are written by bootcard itself, without privileges.`,
          { target, resolved: found.path },
        );
      }
      const problems = fileTargetConstraints(found.path, found.exists, image.sourcePath);
      if (problems.length) throw refusal(found.path, problems);
      return await writeImageFile(found.path, image, request, deps.now, started, progress);
    }
    if (found.kind === 'drive') {
      device = found.drive.device;
      description = found.drive.description;
      cidSerial = found.drive.sd?.serial;
    }
    // From here on only the resolved node: the name the user gave is never followed again. writeDevice checks every constraint once more right before it opens it.
    const drive = checkTarget(target, found, image, request, true);
    const result = await writeDevice(target, drive, image, request, deps, options.hooks ?? {}, progress).catch(async (error: unknown) => {
      // An I/O failure on a card that is no longer there is a removed card, and the message should say so.
      if (BootcardError.is(error) && error.code !== WriteErrorCode.CANCELLED && error.code !== WriteErrorCode.VANISHED) {
        await ensureStillThere(target, drive, deps, 'while it was being written');
      }
      throw error;
    });
    return {
      target,
      ok: true,
      kind,
      ...(device ? { device } : {}),
      description,
      bytesWritten: progress.bytesWritten,
      durationMs: deps.now() - started,
      verified: request.verify,
      ...(request.verify && image.sha256 ? { sha256: image.sha256 } : {}),
      ...(cidSerial ? { cidSerial } : {}),
      ...(result.lock ? { lock: result.lock } : {}),
    };
  } catch (error) {
    return {
      target,
      ok: false,
      kind,
      ...(device ? { device } : {}),
      ...(description ? { description } : {}),
      error: toBootcardError(error, `Writing ${target}`).toJSON(),
      bytesWritten: progress.bytesWritten,
      durationMs: deps.now() - started,
      verified: false,
      ...(cidSerial ? { cidSerial } : {}),
    };
  }
}

const PROGRESS_INTERVAL_MS = 250;

async function writeDevice(
  target: string,
  checked: Drive,
  image: PreparedImage,
  request: WriteRequest,
  deps: EngineDeps,
  hooks: EngineHooks,
  progress: { bytesWritten: number },
): Promise<{ lock?: LockOutcome }> {
  // Check again (the resolved node, fresh), unmount exactly this card's file systems, then open it exclusively.
  const drive = await recheck(checked.device, image, request, deps, true);
  if (drive.deviceNumbers[0] !== checked.deviceNumbers[0]) await ensureStillThere(target, checked, deps, 'before writing');
  throwIfCancelled(request.signal, target);
  await deps.unmount(drive, request.signal);
  const plan = planCardWrite(image.extents, drive.size, image.zeroExtents);
  const blocks = writeBlocks(plan.dataBlocks);
  const checksumOf = (b: { offset: number }) => {
    const digest = image.extentSha256?.get(b.offset);
    if (!digest) throw new BootcardError(CommonErrorCode.INTERNAL, `No checksum for the block at ${b.offset} (please report this).`);
    return digest;
  };
  // Data blocks are verified by etcher-sdk against their SHA-256; zero blocks by reading them and looking for anything but zeros (far cheaper than hashing megabytes of zeros).
  const checks = request.verify ? verifyBlocks(plan.dataBlocks, checksumOf) : [];
  const zeroChecks = plan.verifyBlocks.filter((b) => b.kind === 'zero');
  const reader = await image.openReader();
  const report = (p: WriteProgress) => request.onProgress?.(p);
  let lock: LockOutcome | undefined;
  try {
    const writeMeter = new ProgressMeter(target, 'write', plan.bytesToProcess);
    // `processed` moves the bar (zero blocks count as they are checked); `progress.bytesWritten` is what reached the card.
    let processed = 0;
    // One exclusive handle from the first write to the end of verification (and the lock): no other writer gets in between.
    const dest = deps.openDevice(drive, request.signal ? { signal: request.signal } : {});
    try {
      await dest.open();
    } catch (error) {
      throw ioError(error, target, 'Opening');
    }
    try {
      // The card held exclusively is still the card that was checked (nothing can mount it from here on).
      await ensureStillThere(target, drive, deps, 'before writing');
      report(writeMeter.sample(0, deps.now()));
      throwIfCancelled(request.signal, target);
      const alignment = dest.getAlignment() ?? 512;
      // 1. No partition table from here on.
      const tableZeros = createBuffer(plan.tableWipe.length, alignment);
      tableZeros.fill(0);
      try {
        await dest.write(tableZeros as Buffer, 0, plan.tableWipe.length, 0);
      } catch (error) {
        throw ioError(error, target, 'Clearing the start of');
      }
      progress.bytesWritten = plan.tableWipe.length;
      processed = plan.tableWipe.length;
      await hooks.afterHeadWipe?.(target);
      // 2. Zero blocks: read, and write zeros only where the card is not zero yet.
      let lastTick = deps.now();
      const zeros = createBuffer(ZERO_CHECK_CHUNK, alignment) as Buffer;
      zeros.fill(0);
      await scanZeroBlocks(target, dest, plan.zeroBlocks, alignment, request.signal, async (_block, length, pieces) => {
        for (const piece of pieces) {
          try {
            await dest.write(zeros, 0, piece.length, piece.offset);
          } catch (error) {
            throw ioError(error, target, 'Clearing old data on');
          }
          progress.bytesWritten += piece.length;
        }
        processed += length;
        if (deps.now() - lastTick >= PROGRESS_INTERVAL_MS) {
          lastTick = deps.now();
          report(writeMeter.sample(processed, deps.now()));
        }
      });
      report(writeMeter.sample(processed, deps.now()));
      // 3-4. Data, partition table last.
      const before = { processed, written: progress.bytesWritten };
      await streamBlocks(target, dest, new CardContentSource(reader.read, drive.size), blocks, request, () => {
        report(writeMeter.sample(processed, deps.now()));
      }, (n) => {
        processed = before.processed + n;
        progress.bytesWritten = before.written + n;
      });
      report(writeMeter.sample(processed, deps.now()));
      await dest.flush().catch((error: unknown) => {
        throw ioError(error, target, 'Flushing');
      });
      await ensureStillThere(target, drive, deps, 'while it was being written');
      await hooks.afterWrite?.(target);
      throwIfCancelled(request.signal, target);

      if (request.verify) {
        const verifyMeter = new ProgressMeter(target, 'verify', plan.bytesToVerify);
        report(verifyMeter.sample(0, deps.now()));
        let zeroVerified = 0;
        await scanZeroBlocks(target, dest, zeroChecks, alignment, request.signal, async (block, length, pieces) => {
          if (pieces.length > 0) {
            throw new BootcardError(
              WriteErrorCode.VERIFY_FAILED,
              `${target} read back old data where it must read as zero (at byte ${pieces[0]!.offset}, in the ${block.length}-byte region at ${block.offset}). The card is faulty or fake; do not use it — try another card.`,
              { target, offset: block.offset, length: block.length, firstBadByte: pieces[0]!.offset },
            );
          }
          zeroVerified += length;
          report(verifyMeter.sample(zeroVerified, deps.now()));
        }, () => new BootcardError(WriteErrorCode.CANCELLED, `Cancelled while verifying ${target}; it was written but not checked.`, { target }));
        await runVerifier(target, dest.createVerifier(checks), request.signal, (bytes) => report(verifyMeter.sample(zeroVerified + bytes, deps.now())));
        report(verifyMeter.sample(plan.bytesToVerify, deps.now()));
        await ensureStillThere(target, drive, deps, 'while it was being verified');
      }

      if (request.lockAfterVerify && request.verify) {
        try {
          const status = await deps.lockCard(drive.device);
          lock = { ok: true, state: status.state };
        } catch (error) {
          lock = { ok: false, error: toBootcardError(error, `Locking ${target}`).toJSON() };
        }
      }
    } finally {
      await dest.close().catch(() => undefined);
    }
  } finally {
    await reader.close();
  }
  return lock ? { lock } : {};
}

/** One chunk of zeros to compare read chunks against (never written to). */
const ALL_ZEROS = Buffer.alloc(ZERO_CHECK_CHUNK);

/**
 * Reads every zero block in ZERO_CHECK_CHUNK chunks and hands each chunk's
 * pieces that are not zero to `onChunk` (with the chunk's length): step 2 of
 * the plan writes zeros over them, verification fails on them.
 */
async function scanZeroBlocks(
  target: string,
  device: Pick<Destination, 'read'>,
  blocks: readonly PlannedBlock[],
  alignment: number,
  signal: AbortSignal | undefined,
  onChunk: (block: PlannedBlock, length: number, pieces: RangeExtent[]) => Promise<void>,
  cancelled: () => BootcardError = () => new BootcardError(WriteErrorCode.CANCELLED, `Cancelled: ${target} is incomplete; write it again before using it.`, { target }),
): Promise<void> {
  if (blocks.length === 0) return;
  const chunk = createBuffer(ZERO_CHECK_CHUNK, alignment) as Buffer;
  for (const block of blocks) {
    for (let done = 0; done < block.length; ) {
      if (signal?.aborted) throw cancelled();
      const length = Math.min(ZERO_CHECK_CHUNK, block.length - done);
      const offset = block.offset + done;
      try {
        await device.read(chunk, 0, length, offset);
      } catch (error) {
        throw ioError(error, target, 'Reading');
      }
      const read = chunk.subarray(0, length);
      // The common case, an all-zero chunk, by a native compare; only other chunks are split into pieces.
      await onChunk(block, length, read.equals(ALL_ZEROS.subarray(0, length)) ? [] : nonZeroPieces(read, offset));
      done += length;
    }
  }
}

async function streamBlocks(
  target: string,
  dest: Destination,
  source: CardContentSource,
  blocks: sparseStream.BlocksWithChecksum[],
  request: WriteRequest,
  tick: () => void,
  onBytes: (n: number) => void,
): Promise<void> {
  const readStream = createPlanReadStream(source, blocks, dest.getAlignment());
  const writeStream = (await dest.createSparseWriteStream({ highWaterMark: PLAN_BUFFERS - 1 })) as sparseStream.SparseWriteStream;
  const timer = setInterval(() => {
    onBytes(writeStream.bytesWritten);
    tick();
  }, PROGRESS_INTERVAL_MS);
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => {
        readStream.unpipe(writeStream);
        readStream.destroy();
        writeStream.destroy();
        reject(error);
      };
      const onAbort = () => fail(new BootcardError(WriteErrorCode.CANCELLED, `Cancelled: ${target} is incomplete; write it again before using it.`, { target }));
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      readStream.once('error', (e) => fail(ioError(e, target, 'Reading the image for')));
      writeStream.once('error', (e) => fail(ioError(e, target, 'Writing')));
      writeStream.once('finish', () => {
        request.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      readStream.pipe(writeStream);
    });
  } finally {
    clearInterval(timer);
    onBytes(writeStream.bytesWritten);
  }
}

async function runVerifier(target: string, verifier: sourceDestination.Verifier, signal: AbortSignal | undefined, onBytes: (n: number) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new BootcardError(WriteErrorCode.CANCELLED, `Cancelled while verifying ${target}; it was written but not checked.`, { target }));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (error?: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    verifier.on('progress', (p: { bytes: number }) => onBytes(p.bytes));
    verifier.once('finish', () => done());
    verifier.once('error', (e: unknown) => done(verifyError(e, target)));
    verifier.on('fail', (e: unknown) => done(verifyError(e, target)));
    void verifier.run().catch((e: unknown) => done(verifyError(e, target)));
  });
}

function verifyError(error: unknown, target: string): BootcardError {
  if (error instanceof etcherErrors.BlocksVerificationError) {
    const first = error.blocks.blocks[0];
    return new BootcardError(
      WriteErrorCode.VERIFY_FAILED,
      `${target} read back different data than was written (at byte ${first?.offset ?? '?'}, ${first?.length ?? '?'} bytes). The card is faulty or fake; do not use it — try another card.`,
      { target, offset: first?.offset, length: first?.length },
    );
  }
  return ioError(error, target, 'Verifying');
}
