/**
 * The firmware volume (FV) that holds edk2's non-volatile variables, and how to
 * find it inside a firmware file.
 *
 * EFI_FIRMWARE_VOLUME_HEADER (PI spec vol. 3, MdePkg PiFirmwareVolume.h), little-endian:
 *   0x00  UINT8    ZeroVector[16]
 *   0x10  EFI_GUID FileSystemGuid     gEfiSystemNvDataFvGuid fff12b8d-7696-4c8b-a985-2747075b4f50 for the NV FV
 *   0x20  UINT64   FvLength           whole volume: variable store + FTW working block + FTW spare
 *   0x28  UINT32   Signature          '_FVH'
 *   0x2C  UINT32   Attributes
 *   0x30  UINT16   HeaderLength       0x48 with one block-map entry and its terminator
 *   0x32  UINT16   Checksum           the UINT16 sum of the HeaderLength bytes is 0
 *   0x34  UINT16   ExtHeaderOffset
 *   0x36  UINT8    Reserved
 *   0x37  UINT8    Revision           2
 *   0x38  EFI_FV_BLOCK_MAP_ENTRY BlockMap[] { UINT32 NumBlocks; UINT32 Length; } ending with { 0, 0 }
 * The variable store header follows at HeaderLength.
 *
 * pftf/RPi4 RPI_EFI.fd (Platform/RaspberryPi/RPi4/RPi4.fdf in edk2-platforms) puts this FV at a fixed
 * offset that depends on the release: a 0x1F0000-byte file (v1.34 to v1.38) at 0x1D0000, a 0x3E0000-byte
 * file (v1.39 and later) at 0x3B0000. Debian's AAVMF_VARS*.fd is the FV alone, at offset 0. The size is
 * only a hint: bootcard always checks the signature, the GUID and the header checksum, and otherwise
 * scans the file at 4 KiB steps for the NV FV. The firmware reformats the whole store if this header is
 * wrong, so bootcard never changes it.
 */
import { BootcardError } from '../errors.js';
import { UefiErrorCode } from './errors.js';
import { guidEquals, guidToBytes, KnownGuid } from './guid.js';

export const FV_SIGNATURE = 0x4856465f; // '_FVH' read as a little-endian UINT32
export const FV_SIGNATURE_OFFSET = 0x28;
export const FV_FILE_SYSTEM_GUID_OFFSET = 0x10;
export const FV_LENGTH_OFFSET = 0x20;
export const FV_HEADER_LENGTH_OFFSET = 0x30;
export const FV_CHECKSUM_OFFSET = 0x32;
export const FV_REVISION_OFFSET = 0x37;
export const FV_BLOCK_MAP_OFFSET = 0x38;
export const FV_REVISION = 2;
/** Smallest legal header: the fixed part plus one block-map entry and the terminator. */
export const FV_MIN_HEADER_LENGTH = 0x48;
/** Step at which to scan a file of unknown layout for the NV FV. */
export const FV_SCAN_STEP = 0x1000;

/** Known pftf/RPi4 layouts: file size -> NV FV offset (from the fixtures' README / RPi4.fdf). */
export const PFTF_LAYOUTS: readonly { readonly fileSize: number; readonly nvOffset: number; readonly name: string; readonly releases: string }[] = [
  { fileSize: 0x1f0000, nvOffset: 0x1d0000, name: 'pftf-rpi4-v1.34', releases: 'pftf v1.34 to v1.38' },
  { fileSize: 0x3e0000, nvOffset: 0x3b0000, name: 'pftf-rpi4-v1.39', releases: 'pftf v1.39 and later' },
];

const NV_FV_GUID = guidToBytes(KnownGuid.SYSTEM_NV_DATA_FV);

export interface NvFirmwareVolume {
  /** File offset of the FV header. */
  readonly offset: number;
  readonly length: number;
  readonly headerLength: number;
  readonly checksum: number;
  readonly blockSize: number;
  readonly numBlocks: number;
  /** Which known layout this is ('pftf-rpi4-v1.34', 'pftf-rpi4-v1.39') or 'generic'. */
  readonly layout: string;
  readonly releases?: string;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True when an FV header with the NV-data GUID and signature starts at `offset` (not yet validated). */
export function looksLikeNvFv(fd: Uint8Array, offset: number): boolean {
  if (offset < 0 || offset + FV_MIN_HEADER_LENGTH > fd.length) return false;
  return view(fd).getUint32(offset + FV_SIGNATURE_OFFSET, true) === FV_SIGNATURE && guidEquals(fd, offset + FV_FILE_SYSTEM_GUID_OFFSET, NV_FV_GUID);
}

/** The UINT16 sum of `length` bytes at `offset` (a valid FV header sums to 0). */
export function fvHeaderSum(fd: Uint8Array, offset: number, length: number): number {
  const dv = view(fd);
  let sum = 0;
  for (let i = 0; i + 1 < length; i += 2) sum = (sum + dv.getUint16(offset + i, true)) & 0xffff;
  return sum;
}

/** Validates the FV header at `offset` as edk2's variable driver does; throws FV_HEADER_INVALID. */
export function readNvFirmwareVolume(fd: Uint8Array, offset: number): NvFirmwareVolume {
  const dv = view(fd);
  const fail = (why: string): never => {
    throw new BootcardError(
      UefiErrorCode.FV_HEADER_INVALID,
      `The NVRAM firmware-volume header at 0x${offset.toString(16)} is damaged (${why}). Use an unmodified RPI_EFI.fd from the pftf/RPi4 release zip.`,
      { offset, why },
    );
  };
  const length64 = dv.getBigUint64(offset + FV_LENGTH_OFFSET, true);
  const headerLength = dv.getUint16(offset + FV_HEADER_LENGTH_OFFSET, true);
  const revision = fd[offset + FV_REVISION_OFFSET]!;
  if (revision !== FV_REVISION) fail(`revision ${revision}, expected ${FV_REVISION}`);
  if (headerLength < FV_MIN_HEADER_LENGTH || headerLength % 2 !== 0 || offset + headerLength > fd.length) fail(`header length 0x${headerLength.toString(16)}`);
  if (length64 <= BigInt(headerLength) || length64 > BigInt(fd.length - offset)) fail(`volume length 0x${length64.toString(16)} does not fit the file`);
  const sum = fvHeaderSum(fd, offset, headerLength);
  if (sum !== 0) fail(`header checksum does not add up (sum 0x${sum.toString(16)})`);
  const numBlocks = dv.getUint32(offset + FV_BLOCK_MAP_OFFSET, true);
  const blockSize = dv.getUint32(offset + FV_BLOCK_MAP_OFFSET + 4, true);
  const length = Number(length64);
  // The block map may describe the whole flash device rather than this volume (AAVMF does), so it is
  // reported, not checked.
  const known = PFTF_LAYOUTS.find((l) => l.fileSize === fd.length && l.nvOffset === offset);
  return {
    offset,
    length,
    headerLength,
    checksum: dv.getUint16(offset + FV_CHECKSUM_OFFSET, true),
    blockSize,
    numBlocks,
    layout: known?.name ?? 'generic',
    ...(known ? { releases: known.releases } : {}),
  };
}

/**
 * Finds and validates the NV firmware volume: first at the offset a known pftf file size implies,
 * then at offset 0, then at every 4 KiB step. Throws NV_REGION_NOT_FOUND or FV_HEADER_INVALID.
 */
export function locateNvFirmwareVolume(fd: Uint8Array): NvFirmwareVolume {
  const candidates: number[] = [];
  const known = PFTF_LAYOUTS.find((l) => l.fileSize === fd.length);
  if (known) candidates.push(known.nvOffset);
  candidates.push(0);
  for (const offset of candidates) {
    if (looksLikeNvFv(fd, offset)) return readNvFirmwareVolume(fd, offset);
  }
  for (let offset = FV_SCAN_STEP; offset + FV_MIN_HEADER_LENGTH <= fd.length; offset += FV_SCAN_STEP) {
    if (looksLikeNvFv(fd, offset)) return readNvFirmwareVolume(fd, offset);
  }
  const hint = known
    ? `A ${known.releases} RPI_EFI.fd keeps it at 0x${known.nvOffset.toString(16)}, but the firmware-volume signature or GUID there is wrong: the file is damaged or not a pftf firmware.`
    : `Expected an RPI_EFI.fd from a pftf/RPi4 release (0x1F0000 or 0x3E0000 bytes) or an edk2 VARS file; this file is ${fd.length} bytes.`;
  throw new BootcardError(UefiErrorCode.NV_REGION_NOT_FOUND, `No UEFI variable store (NV firmware volume) found in this file. ${hint}`, { size: fd.length });
}
