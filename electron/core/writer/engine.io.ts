/**
 * The writer itself: runs inside the privileged child (or in-process as root
 * in tests). For every target, independently and at the same time:
 *
 *   re-check the target (fresh from sysfs and the mount table) -> open it
 *   exclusively (etcher-sdk's BlockDevice: unmount, then O_RDWR|O_DIRECT|O_EXCL,
 *   which the kernel refuses while anything is mounted or holds it) -> zero the
 *   partition table area -> read the other must-be-zero blocks (head, tail, the
 *   image's zero ranges) and write zeros only where they are not zero -> stream
 *   the data ranges (partition table last) -> close, fsync the device -> check
 *   it is still the same device -> read everything back and compare checksums
 *   -> optionally lock the card. See layout.ts for the order and why.
 *
 * One target's failure never stops the others: each resolves to its own result.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Drive as DrivelistDrive } from 'drivelist';
import { sourceDestination, errors as etcherErrors, type sparseStream } from 'etcher-sdk';
import { createBuffer } from 'etcher-sdk/build/aligned-lockable-buffer.js';
import { describeTarget, type TargetKind } from '../drives/enumerate.io.js';
import { driveConstraints, fileTargetConstraints, type Constraint } from '../drives/constraints.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { CardContentSource, PLAN_BUFFERS, createPlanReadStream, verifyBlocks, writeBlocks } from './card-source.io.js';
import { writeImageFile } from './image-file.io.js';
import { nonZeroPieces, planCardWrite, ZERO_CHECK_CHUNK, type PlannedBlock, type RangeExtent } from './layout.js';
import { prepareImage, type PreparedImage } from './prepared-image.io.js';
import { ProgressMeter, type WriteProgress } from './progress.js';
import { WriteErrorCode, type LockOutcome, type WriteRequest, type WriteResult } from './types.js';

/** What a destination must do; etcher-sdk's BlockDevice in production, a spy in unit tests. */
export type Destination = Pick<sourceDestination.BlockDevice, 'open' | 'close' | 'read' | 'write' | 'getAlignment' | 'createSparseWriteStream' | 'createVerifier'>;

export interface EngineDeps {
  readonly describeTarget: (target: string) => Promise<TargetKind>;
  readonly openDevice: (drive: Drive, mode: 'write' | 'verify') => Destination;
  readonly lockCard: (device: string) => Promise<{ state: string }>;
  readonly now: () => number;
}

export interface RunWriteOptions {
  readonly deps?: Partial<EngineDeps>;
  readonly hooks?: EngineHooks;
  /**
   * The user who asked, when the engine runs with more rights than they have
   * (the child started through pkexec: $PKEXEC_UID). It then reads only image
   * files that user owns or everyone may read, and writes no files at all.
   */
  readonly onBehalfOfUid?: number;
}

export interface EngineHooks {
  /** Runs right after a card's partition table area was zeroed, its first write (tests interrupt the write here). */
  readonly afterHeadWipe?: (target: string) => Promise<void> | void;
  /** Runs after a card is written and closed, before it is read back (tests inject corruption here). */
  readonly afterWrite?: (target: string) => Promise<void> | void;
}

export const defaultEngineDeps: EngineDeps = {
  describeTarget: (target) => describeTarget(target),
  openDevice: (drive, mode) =>
    new sourceDestination.BlockDevice({ drive: asDrivelistDrive(drive), write: mode === 'write', direct: true, keepOriginal: true }),
  lockCard: async (device) => {
    const { lockSdCard } = await import('../sdlock/sdlock.io.js');
    return lockSdCard(device);
  },
  now: () => Date.now(),
};

/** The drivelist shape etcher-sdk's BlockDevice wants, from bootcard's Drive. */
export function asDrivelistDrive(drive: Drive): DrivelistDrive {
  return {
    enumerator: 'bootcard',
    busType: drive.bus.toUpperCase(),
    busVersion: null,
    device: drive.device,
    devicePath: null,
    raw: drive.device,
    description: drive.description,
    error: null,
    size: drive.size,
    blockSize: 512,
    logicalBlockSize: 512,
    mountpoints: drive.mountpoints.map((p) => ({ path: p, label: null })),
    isReadOnly: drive.isReadOnly,
    isSystem: drive.isSystem,
    isVirtual: drive.isLoop,
    isRemovable: drive.isRemovable,
    isCard: null,
    isSCSI: null,
    isUSB: drive.bus === 'usb',
    isUAS: null,
    partitionTableType: null,
  };
}

/** Writes the image to every target at once; resolves to one result per target, in order. Throws only for a bad request. */
export async function runWrite(request: WriteRequest, options: RunWriteOptions = {}): Promise<WriteResult[]> {
  const deps: EngineDeps = { ...defaultEngineDeps, ...options.deps };
  if (request.targets.length === 0) throw new BootcardError(WriteErrorCode.BAD_REQUEST, 'No target given: name at least one card with --to.');
  const unique = new Set(request.targets.map((t) => path.resolve(t)));
  if (unique.size !== request.targets.length) throw new BootcardError(WriteErrorCode.BAD_REQUEST, 'A target is named twice; name each card once.');
  const image = await prepareImage(request, options.onBehalfOfUid);
  return Promise.all(
    request.targets.map(async (target) => {
      const result = await writeOneTarget(target, image, request, deps, options.hooks ?? {}, options.onBehalfOfUid);
      request.onResult?.(result);
      return result;
    }),
  );
}

function refusal(target: string, constraints: readonly Constraint[]): BootcardError {
  return new BootcardError(
    constraints[0]?.code ?? WriteErrorCode.REFUSED,
    constraints.length === 1 ? constraints[0]!.message : `${target} cannot be written: ${constraints.map((c) => c.message).join(' ')}`,
    { target, constraints: constraints.map((c) => ({ code: c.code, message: c.message })) },
  );
}

/** Fresh facts about a device target, refusing anything a constraint forbids. Mounts are allowed only where the writer unmounts next. */
async function recheck(target: string, image: PreparedImage, request: WriteRequest, deps: EngineDeps, allowMounted: boolean): Promise<Drive> {
  const found = await deps.describeTarget(target);
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
  if (!sameDevice(before, await deps.describeTarget(target))) {
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
  image: PreparedImage,
  request: WriteRequest,
  deps: EngineDeps,
  hooks: EngineHooks,
  onBehalfOfUid: number | undefined,
): Promise<WriteResult> {
  const started = deps.now();
  const progress = { bytesWritten: 0 };
  let kind: 'device' | 'file' = 'device';
  let description: string | undefined;
  let cidSerial: string | undefined;
  try {
    throwIfCancelled(request.signal, target);
    const found = await deps.describeTarget(target);
    if (found.kind === 'file') {
      kind = 'file';
      if (onBehalfOfUid !== undefined) {
        throw new BootcardError(WriteErrorCode.REFUSED, `The privileged writer writes only to devices; ${found.path} is a file, which bootcard writes without privileges.`, { target });
      }
      const problems = fileTargetConstraints(found.path, found.exists, image.sourcePath);
      if (problems.length) throw refusal(found.path, problems);
      return await writeImageFile(found.path, image, request, deps.now, started, progress);
    }
    if (found.kind === 'drive') {
      description = found.drive.description;
      cidSerial = found.drive.sd?.serial;
    }
    // writeDevice checks every constraint again right before it opens the device.
    const drive = found.kind === 'drive' ? found.drive : await recheck(target, image, request, deps, true);
    const result = await writeDevice(target, drive, image, request, deps, hooks, progress).catch(async (error: unknown) => {
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
  // Check again, then open: BlockDevice unmounts the card and opens it O_EXCL.
  const drive = await recheck(target, image, request, deps, true);
  if (drive.deviceNumbers[0] !== checked.deviceNumbers[0]) await ensureStillThere(target, checked, deps, 'before writing');
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
  try {
    const writeMeter = new ProgressMeter(target, 'write', plan.bytesToProcess);
    // `processed` moves the bar (zero blocks count as they are checked); `progress.bytesWritten` is what reached the card.
    let processed = 0;
    const dest = deps.openDevice(drive, 'write');
    try {
      await dest.open();
    } catch (error) {
      throw ioError(error, target, 'Opening');
    }
    try {
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
    } finally {
      await dest.close().catch(() => undefined);
    }
    await syncDevice(drive.device).catch((error: unknown) => {
      throw ioError(error, target, 'Flushing');
    });
    await ensureStillThere(target, drive, deps, 'while it was being written');
    await hooks.afterWrite?.(target);
    throwIfCancelled(request.signal, target);

    if (request.verify) {
      const verifyMeter = new ProgressMeter(target, 'verify', plan.bytesToVerify);
      const reading = deps.openDevice(drive, 'verify');
      try {
        await reading.open();
      } catch (error) {
        throw ioError(error, target, 'Opening for verification');
      }
      try {
        report(verifyMeter.sample(0, deps.now()));
        let zeroVerified = 0;
        await scanZeroBlocks(target, reading, zeroChecks, reading.getAlignment() ?? 512, request.signal, async (block, length, pieces) => {
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
        await runVerifier(target, reading.createVerifier(checks), request.signal, (bytes) => report(verifyMeter.sample(zeroVerified + bytes, deps.now())));
        report(verifyMeter.sample(plan.bytesToVerify, deps.now()));
      } finally {
        await reading.close().catch(() => undefined);
      }
      await ensureStillThere(target, drive, deps, 'while it was being verified');
    }
  } finally {
    await reader.close();
  }

  if (request.lockAfterVerify && request.verify) {
    try {
      const status = await deps.lockCard(drive.device);
      return { lock: { ok: true, state: status.state } };
    } catch (error) {
      return { lock: { ok: false, error: toBootcardError(error, `Locking ${target}`).toJSON() } };
    }
  }
  return {};
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

/** fsync on a block device flushes its buffers and the drive's write cache. */
async function syncDevice(device: string): Promise<void> {
  const handle = await open(device, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
