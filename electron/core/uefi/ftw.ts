/**
 * edk2's fault-tolerant-write (FTW) working block (MdeModulePkg/Include/Guid/SystemNvDataGuid.h,
 * Universal/FaultTolerantWriteDxe). The firmware uses it to make variable-store reclaims atomic; if its
 * write queue holds a write that is not complete, the firmware replays it at the next boot and would
 * undo an offline edit, so bootcard refuses to edit such a store.
 *
 * EFI_FAULT_TOLERANT_WORKING_BLOCK_HEADER (32 bytes):
 *   0x00  EFI_GUID Signature            gEdkiiWorkingBlockSignatureGuid 9e58292b-7c68-497d-a0ce-6500fd9f1b95
 *   0x10  UINT32   Crc                  CRC32 of the 32-byte header with Crc and the state byte set to 0xFF
 *   0x14  UINT8    WorkingBlockValid:1, WorkingBlockInvalid:1, Reserved:6
 *                                       FTW_VALID_STATE is 0 and FTW_INVALID_STATE is 1 (bits are cleared
 *                                       on erased flash), so a valid header has 0xFE here
 *   0x15  UINT8    Reserved3[3]         0xFF
 *   0x18  UINT64   WriteQueueSize       working-block size - 32
 * edk2's IsValidWorkSpace compares the whole header with the one it builds (InitializeLocalWorkSpaceHeader),
 * so bootcard checks the same: signature, CRC, state byte 0xFE, reserved bytes 0xFF.
 *
 * The write queue follows: EFI_FAULT_TOLERANT_WRITE_HEADER records (40 bytes:
 *   0x00 UINT8 HeaderAllocated:1, WritesAllocated:1, Complete:1, Reserved:5;  0x04 EFI_GUID CallerId;
 *   0x18 UINT64 NumberOfWrites;  0x20 UINT64 PrivateDataSize)
 * each followed by NumberOfWrites EFI_FAULT_TOLERANT_WRITE_RECORDs of 40 + PrivateDataSize bytes.
 * Like FtwGetLastWriteHeader, bootcard skips headers whose Complete bit is 0 (valid); the first other
 * header is the last one: if its HeaderAllocated bit is 0 (allocated) a write is pending.
 */
import { BootcardError } from '../errors.js';
import { crc32 } from '../fat32/crc32.js';
import { UefiErrorCode } from './errors.js';
import { guidEquals, guidToBytes, KnownGuid } from './guid.js';

export const FTW_HEADER_SIZE = 32;
export const FTW_CRC_OFFSET = 0x10;
export const FTW_STATE_OFFSET = 0x14;
export const FTW_WRITE_QUEUE_SIZE_OFFSET = 0x18;
/** WorkingBlockValid = FTW_VALID_STATE (0), WorkingBlockInvalid = FTW_INVALID_STATE (1), reserved bits erased. */
export const FTW_STATE_VALID = 0xfe;
export const FTW_ERASED_BYTE = 0xff;
export const FTW_WRITE_HEADER_SIZE = 40;
export const FTW_WRITE_RECORD_SIZE = 40;
const FTW_HEADER_ALLOCATED_BIT = 0x01;
const FTW_COMPLETE_BIT = 0x04;

const FTW_SIGNATURE = guidToBytes(KnownGuid.FTW_WORKING_BLOCK);

/** The CRC edk2 expects for the working-block header at `offset`. */
export function ftwHeaderCrc(bytes: Uint8Array, offset: number): number {
  // A copy, never a view: Buffer#slice shares memory, and the caller's bytes must stay as they are.
  const header = new Uint8Array(bytes.subarray(offset, offset + FTW_HEADER_SIZE));
  header.fill(FTW_ERASED_BYTE, FTW_CRC_OFFSET, FTW_STATE_OFFSET + 1);
  return crc32(header);
}

export interface FtwWorkingBlock {
  /** File offset of the working-block header. */
  readonly offset: number;
  readonly writeQueueSize: number;
  readonly crc: number;
  /** Completed writes found in the queue (the firmware discards them at its next reclaim). */
  readonly completedWrites: number;
  /** A write the firmware would replay at boot. */
  readonly pendingWrite: boolean;
}

/** Looks for the working-block signature at 4-byte steps in [from, to). */
export function findFtwWorkingBlock(bytes: Uint8Array, from: number, to: number): number | undefined {
  for (let offset = from + ((4 - (from % 4)) % 4); offset + FTW_HEADER_SIZE <= to; offset += 4) {
    if (bytes[offset] === FTW_SIGNATURE[0] && guidEquals(bytes, offset, FTW_SIGNATURE)) return offset;
  }
  return undefined;
}

/** Validates the working block at `offset` and walks its write queue; throws FTW_INVALID. */
export function readFtwWorkingBlock(bytes: Uint8Array, offset: number, regionEnd: number): FtwWorkingBlock {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new BootcardError(
      UefiErrorCode.FTW_INVALID,
      `The firmware's fault-tolerant-write working block at 0x${offset.toString(16)} is damaged (${why}). Use an unmodified RPI_EFI.fd, or boot the Pi once so the firmware repairs it.`,
      { offset, why },
    );
  };
  if (!guidEquals(bytes, offset, FTW_SIGNATURE)) fail('signature');
  const crc = dv.getUint32(offset + FTW_CRC_OFFSET, true);
  const expected = ftwHeaderCrc(bytes, offset);
  if (crc !== expected) fail(`CRC32 0x${crc.toString(16)}, expected 0x${expected.toString(16)}`);
  const state = bytes[offset + FTW_STATE_OFFSET]!;
  if (state !== FTW_STATE_VALID) fail(`working block marked ${state & 1 ? 'not valid' : 'invalid'} (state byte 0x${state.toString(16)})`);
  for (let i = 1; i <= 3; i++) if (bytes[offset + FTW_STATE_OFFSET + i] !== FTW_ERASED_BYTE) fail('reserved bytes');
  const writeQueueSize64 = dv.getBigUint64(offset + FTW_WRITE_QUEUE_SIZE_OFFSET, true);
  if (writeQueueSize64 > BigInt(regionEnd - offset - FTW_HEADER_SIZE)) fail(`write queue size 0x${writeQueueSize64.toString(16)} runs past the volume`);
  const writeQueueSize = Number(writeQueueSize64);
  const queueEnd = offset + FTW_HEADER_SIZE + writeQueueSize;

  let at = offset + FTW_HEADER_SIZE;
  let completedWrites = 0;
  let pendingWrite = false;
  while (at + FTW_WRITE_HEADER_SIZE <= queueEnd) {
    const flags = bytes[at]!;
    if ((flags & FTW_COMPLETE_BIT) === 0) {
      const numberOfWrites = dv.getBigUint64(at + 0x18, true);
      const privateDataSize = dv.getBigUint64(at + 0x20, true);
      const total = BigInt(FTW_WRITE_HEADER_SIZE) + numberOfWrites * (BigInt(FTW_WRITE_RECORD_SIZE) + privateDataSize);
      completedWrites++;
      if (total > BigInt(queueEnd - at)) break;
      at += Number(total);
      continue;
    }
    pendingWrite = (flags & FTW_HEADER_ALLOCATED_BIT) === 0;
    break;
  }
  return { offset, writeQueueSize, crc, completedWrites, pendingWrite };
}
