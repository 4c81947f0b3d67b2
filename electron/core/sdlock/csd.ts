/**
 * The SD card's CSD register (Card-Specific Data) and its write-protect bits.
 * Pure: bytes in, bytes out. Follows the SD Association's Physical Layer
 * Simplified Specification, section 5.3 "CSD Register" and 4.5 "Cyclic
 * Redundancy Code".
 *
 * ## The register
 *
 * 128 bits, sent most significant bit first; here 16 bytes, byte 0 holding
 * bits 127..120 and byte 15 bits 7..0. Bit n lives in byte 15 - (n >> 3),
 * at bit position n & 7.
 *
 *   bits     field                byte/mask       notes
 *   127:126  CSD_STRUCTURE        0  / 0xC0       0 = v1.0 (SDSC), 1 = v2.0 (SDHC/SDXC), 2 = v3.0 (SDUC)
 *   83:80    READ_BL_LEN          5  / 0x0F       v1.0 capacity
 *   73:62    C_SIZE (v1.0)        6..8            capacity = (C_SIZE+1) * 2^(C_SIZE_MULT+2) * 2^READ_BL_LEN
 *   49:47    C_SIZE_MULT (v1.0)   9..10
 *   69:48    C_SIZE (v2.0)        7..9            capacity = (C_SIZE+1) * 512 KiB
 *   75:48    C_SIZE (v3.0)        6..9            capacity = (C_SIZE+1) * 512 KiB
 *   15       FILE_FORMAT_GRP      14 / 0x80       programmable
 *   14       COPY                 14 / 0x40       programmable, one-time (cannot be cleared)
 *   13       PERM_WRITE_PROTECT   14 / 0x20       programmable, one-time: the card is read-only forever
 *   12       TMP_WRITE_PROTECT    14 / 0x10       programmable, reversible
 *   11:10    FILE_FORMAT          14 / 0x0C       programmable
 *   7:1      CRC                  15 / 0xFE       CRC7 of bytes 0..14
 *   0        always 1             15 / 0x01
 *
 * Only byte 14's programmable bits and the CRC may differ between the CSD read
 * from a card and the one written back; the card refuses (CSD_OVERWRITE) a
 * change to a read-only field or an attempt to clear PERM_WRITE_PROTECT or COPY.
 *
 * ## CRC7
 *
 * Generator x^7 + x^3 + 1 (0x09), initial value 0, over the bytes MSB first.
 * A command frame or register carries it as (crc7 << 1) | 1: CMD0 with
 * argument 0 (bytes 40 00 00 00 00) ends in 0x95.
 *
 * ## The command sequence (Linux MMC_IOC_CMD, <linux/mmc/ioctl.h>)
 *
 * The card sits in the transfer state while the kernel uses it. CMD9 is
 * answered only in stand-by, CMD27 only in transfer, so native/src/mmc_card.cc
 * sends the following (the first three as one MMC_IOC_MULTI_CMD batch, so no
 * block I/O reaches the deselected card; one MMC_IOC_CMD each where the batch
 * ioctl is unavailable):
 *
 *   CMD7  SELECT/DESELECT_CARD  arg 0          no response     transfer -> stand-by
 *   CMD9  SEND_CSD              arg RCA << 16  R2 (136 bits)   response[0] = bits 127..96 ... response[3] = bits 31..0;
 *                                                              hosts drop the CRC byte (the kernel's sysfs `csd` ends in 00)
 *   CMD7  SELECT/DESELECT_CARD  arg RCA << 16  R1b             stand-by -> transfer
 *   CMD27 PROGRAM_CSD           arg 0          R1, write       one 16-byte data block: the new CSD with its CRC7 byte
 *   CMD13 SEND_STATUS           arg RCA << 16  R1              until the card leaves the programming state; reports CSD_OVERWRITE
 *   then CMD7/CMD9/CMD7 again to read the CSD back.
 *
 * The RCA comes from sysfs: <sysfs>/bus/mmc/devices/mmc0:aaaa/block/mmcblk0,
 * its `rca` attribute or the hex after the colon.
 */
import { BootcardError } from '../errors.js';

export const CSD_BYTES = 16;
/** Byte 14 holds the programmable flags. */
export const CSD_FLAGS_BYTE = 14;
export const CSD_FILE_FORMAT_GRP = 0x80;
export const CSD_COPY = 0x40;
export const CSD_PERM_WRITE_PROTECT = 0x20;
export const CSD_TMP_WRITE_PROTECT = 0x10;
export const CSD_FILE_FORMAT_MASK = 0x0c;
/** Byte 15: CRC7 in bits 7..1, bit 0 always 1. */
export const CSD_CRC_BYTE = 15;
export const CRC7_POLYNOMIAL = 0x09;

export const SdLockErrorCode = {
  /** The CSD is not 16 bytes. */
  BAD_CSD: 'SDLOCK_BAD_CSD',
  /** PERM_WRITE_PROTECT is set: nothing can clear it. */
  PERMANENTLY_LOCKED: 'SDLOCK_PERMANENTLY_LOCKED',
  /** A permanent lock was asked for without the explicit confirmation. */
  CONFIRMATION_REQUIRED: 'SDLOCK_CONFIRMATION_REQUIRED',
  /** native/build/Release/sdlock.node is missing or does not load. */
  ADDON_MISSING: 'SDLOCK_ADDON_MISSING',
  PERMISSION_DENIED: 'SDLOCK_PERMISSION_DENIED',
  /** Not an SD card on a raw MMC/SD host: a USB reader, a disk, a file. */
  NOT_MMC: 'SDLOCK_NOT_MMC',
  /** An eMMC chip or SDIO device rather than an SD memory card. */
  NOT_SD_CARD: 'SDLOCK_NOT_SD_CARD',
  /** A partition (mmcblk0p1) instead of the whole card. */
  NOT_WHOLE_CARD: 'SDLOCK_NOT_WHOLE_CARD',
  NO_CARD: 'SDLOCK_NO_CARD',
  TIMEOUT: 'SDLOCK_TIMEOUT',
  /** The card answered with an error or the transfer failed its CRC. */
  CARD_REFUSED: 'SDLOCK_CARD_REFUSED',
  /** The CSD read back after programming is not the one written. */
  READBACK_MISMATCH: 'SDLOCK_READBACK_MISMATCH',
  /** The card's CSD changed between reading it and programming it. */
  CARD_CHANGED: 'SDLOCK_CARD_CHANGED',
  /** A partition of the card is mounted: locking would break the mounted file system. */
  MOUNTED: 'SDLOCK_MOUNTED',
  IO_ERROR: 'SDLOCK_IO_ERROR',
} as const;

export type SdLockState = 'off' | 'temporary' | 'permanent';

export interface DecodedCsd {
  /** CSD_STRUCTURE: 0, 1 or 2 (3 is reserved). */
  readonly structure: number;
  readonly version: '1.0' | '2.0' | '3.0' | 'reserved';
  readonly cSize: number;
  /** User-area capacity in bytes; 0 for a reserved structure. */
  readonly capacityBytes: number;
  readonly copy: boolean;
  readonly permWriteProtect: boolean;
  readonly tmpWriteProtect: boolean;
  readonly fileFormatGroup: boolean;
  readonly fileFormat: number;
  /** CRC7 of bytes 0..14. */
  readonly crc7: number;
  /** Whether byte 15 carries that CRC (false when a host dropped it, e.g. `...00` from sysfs). */
  readonly crcValid: boolean;
  /** The 16 bytes, lower-case hex. */
  readonly hex: string;
}

/** CRC7 (x^7 + x^3 + 1) of the bytes, MSB first; 7 bits, without the end bit. */
export function crc7(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      const feedback = ((crc >> 6) & 1) ^ ((byte >> bit) & 1);
      crc = (crc << 1) & 0x7f;
      if (feedback) crc ^= CRC7_POLYNOMIAL;
    }
  }
  return crc;
}

/** The byte that ends a command frame or register: CRC7 and the end bit. */
export function crc7Byte(bytes: Uint8Array): number {
  return ((crc7(bytes) << 1) | 1) & 0xff;
}

function checkLength(csd: Uint8Array): void {
  if (csd.length !== CSD_BYTES) {
    throw new BootcardError(SdLockErrorCode.BAD_CSD, `A CSD register is ${CSD_BYTES} bytes; got ${csd.length}.`, { length: csd.length });
  }
}

/** A copy of the CSD with byte 15 set to its CRC7 and end bit. */
export function withCsdCrc(csd: Uint8Array): Uint8Array {
  checkLength(csd);
  const out = Uint8Array.from(csd);
  out[CSD_CRC_BYTE] = crc7Byte(out.subarray(0, CSD_CRC_BYTE));
  return out;
}

/** Bits hi..lo (inclusive) of the 128-bit register. */
function bits(csd: Uint8Array, hi: number, lo: number): number {
  let value = 0;
  for (let n = hi; n >= lo; n--) {
    const byte = csd[15 - (n >> 3)]!;
    value = value * 2 + ((byte >> (n & 7)) & 1);
  }
  return value;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Parses 32 hex digits (as the kernel's sysfs `csd` attribute prints them). */
export function csdFromHex(hex: string): Uint8Array {
  const clean = hex.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{32}$/.test(clean)) {
    throw new BootcardError(SdLockErrorCode.BAD_CSD, `A CSD is 32 hex digits; got "${hex.trim()}".`);
  }
  return Uint8Array.from(clean.match(/../g)!, (pair) => parseInt(pair, 16));
}

export function decodeCsd(csd: Uint8Array): DecodedCsd {
  checkLength(csd);
  const structure = bits(csd, 127, 126);
  let version: DecodedCsd['version'] = 'reserved';
  let cSize = 0;
  let capacityBytes = 0;
  if (structure === 0) {
    version = '1.0';
    cSize = bits(csd, 73, 62);
    const mult = bits(csd, 49, 47);
    const readBlLen = bits(csd, 83, 80);
    capacityBytes = (cSize + 1) * 2 ** (mult + 2) * 2 ** readBlLen;
  } else if (structure === 1) {
    version = '2.0';
    cSize = bits(csd, 69, 48);
    capacityBytes = (cSize + 1) * 512 * 1024;
  } else if (structure === 2) {
    version = '3.0';
    cSize = bits(csd, 75, 48);
    capacityBytes = (cSize + 1) * 512 * 1024;
  }
  const flags = csd[CSD_FLAGS_BYTE]!;
  const crc = crc7(csd.subarray(0, CSD_CRC_BYTE));
  return {
    structure,
    version,
    cSize,
    capacityBytes,
    copy: (flags & CSD_COPY) !== 0,
    permWriteProtect: (flags & CSD_PERM_WRITE_PROTECT) !== 0,
    tmpWriteProtect: (flags & CSD_TMP_WRITE_PROTECT) !== 0,
    fileFormatGroup: (flags & CSD_FILE_FORMAT_GRP) !== 0,
    fileFormat: (flags & CSD_FILE_FORMAT_MASK) >> 2,
    crc7: crc,
    crcValid: csd[CSD_CRC_BYTE] === (((crc << 1) | 1) & 0xff),
    hex: toHex(csd),
  };
}

/** PERM_WRITE_PROTECT wins over TMP_WRITE_PROTECT. */
export function writeProtectState(csd: Uint8Array): SdLockState {
  checkLength(csd);
  const flags = csd[CSD_FLAGS_BYTE]!;
  if (flags & CSD_PERM_WRITE_PROTECT) return 'permanent';
  if (flags & CSD_TMP_WRITE_PROTECT) return 'temporary';
  return 'off';
}

/**
 * The CSD to program for the wanted state, with its CRC7: 'temporary' sets
 * TMP_WRITE_PROTECT, 'off' clears it, 'permanent' sets PERM_WRITE_PROTECT
 * (leaving TMP as it is). Every other bit stays. A permanently locked card can
 * only stay permanent: asking for anything else throws PERMANENTLY_LOCKED.
 */
export function withWriteProtect(csd: Uint8Array, state: SdLockState): Uint8Array {
  checkLength(csd);
  const out = Uint8Array.from(csd);
  const flags = out[CSD_FLAGS_BYTE]!;
  if (flags & CSD_PERM_WRITE_PROTECT && state !== 'permanent') {
    throw new BootcardError(
      SdLockErrorCode.PERMANENTLY_LOCKED,
      'This card is permanently write-protected (PERM_WRITE_PROTECT is set in its CSD). That can never be undone: no command can unlock it.',
      { state },
    );
  }
  if (state === 'off') out[CSD_FLAGS_BYTE] = flags & ~CSD_TMP_WRITE_PROTECT;
  else if (state === 'temporary') out[CSD_FLAGS_BYTE] = flags | CSD_TMP_WRITE_PROTECT;
  else out[CSD_FLAGS_BYTE] = flags | CSD_PERM_WRITE_PROTECT;
  return withCsdCrc(out);
}

/** The names of the error bits set in an R1 card status, for messages. */
export function cardStatusErrors(status: number): string[] {
  const names: Array<[number, string]> = [
    [31, 'OUT_OF_RANGE'],
    [30, 'ADDRESS_ERROR'],
    [29, 'BLOCK_LEN_ERROR'],
    [28, 'ERASE_SEQ_ERROR'],
    [27, 'ERASE_PARAM'],
    [26, 'WP_VIOLATION'],
    [25, 'CARD_IS_LOCKED'],
    [24, 'LOCK_UNLOCK_FAILED'],
    [23, 'COM_CRC_ERROR'],
    [22, 'ILLEGAL_COMMAND'],
    [21, 'CARD_ECC_FAILED'],
    [20, 'CC_ERROR'],
    [19, 'ERROR'],
    [16, 'CSD_OVERWRITE'],
    [15, 'WP_ERASE_SKIP'],
    [3, 'AKE_SEQ_ERROR'],
  ];
  return names.filter(([bit]) => ((status >>> bit) & 1) === 1).map(([, name]) => name);
}
