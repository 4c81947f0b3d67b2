/**
 * The UEFI firmware card: the pftf/RPi4 firmware (RPI_EFI.fd, start4.elf,
 * fixup4.dat, the bcm2711 device trees, overlays/, firmware/, config.txt) on
 * a FAT32 partition of MBR type 0xEF, config.txt edited, and RPI_EFI.fd
 * optionally rewritten by a hook (the UEFI area stores NVRAM settings in it).
 *
 * The pftf README: the firmware boots reliably from a partition of type 0xEF
 * ("ESP"); 0x0C also works for most cards. Pure: the zip reading and the
 * download are in firmware-zip.io.ts and firmware-download.io.ts.
 */
import { applyConfigTxtEdits, missingOverlays, missingOverlayWarning, type ConfigTxtEdit } from '../configtxt/config-txt.js';
import { BootcardError, inWizardWords } from '../errors.js';
import { composeFat32Image, type Fat32Image } from '../fat32/compose.js';
import { fat32Geometry } from '../fat32/geometry.js';
import { PartitionType } from '../fat32/mbr.js';
import { CardErrorCode } from './errors.js';
import { checkArchivePath, type FirmwareFile } from './firmware-files.js';
import { DEFAULT_CARD_PARTITION_SIZE, formatBytes } from './size.js';

/** Files whose presence says "this is the pftf RPi4 UEFI firmware". */
export const PFTF_REQUIRED_FILES = ['RPI_EFI.fd', 'start4.elf', 'config.txt'] as const;
export const PFTF_RPI_EFI_FD = 'RPI_EFI.fd';
export const PFTF_CONFIG_TXT = 'config.txt';
export const UEFI_CARD_LABEL = 'RPI4-UEFI';

export interface ComposeUefiCardOptions {
  /** The firmware's files, as read from the zip (or a folder). */
  readonly firmware: readonly FirmwareFile[];
  /** Edits applied to the firmware's config.txt, in order. */
  readonly configTxt?: readonly ConfigTxtEdit[];
  /** Partition size in bytes; default 256 MiB. */
  readonly size?: number;
  /** Whole image size (the card's size for `--size whole`); default partition start + size. */
  readonly imageSize?: number;
  /** Rewrites RPI_EFI.fd (e.g. UEFI NVRAM settings); must return the new firmware bytes. */
  readonly transformRpiEfiFd?: (fd: Uint8Array) => Uint8Array;
  /** Unix seconds for the file system; default the newest firmware file's time. */
  readonly timestamp?: number;
}

export interface UefiCard extends Fat32Image {
  /** config.txt as it is on the card. */
  readonly configTxt: string;
  readonly files: readonly { readonly path: string; readonly size: number }[];
  /** config.txt loads overlays the card does not hold (the pftf zip ships only those its own config needs). */
  readonly warnings: readonly string[];
}

function findFile(files: readonly FirmwareFile[], name: string): FirmwareFile | undefined {
  return files.find((f) => f.path.toLowerCase() === name.toLowerCase());
}

/** Throws CARD_NOT_PFTF_FIRMWARE unless every required file is at the top level (names compared as FAT does, ignoring case). */
export function checkPftfFileNames(paths: readonly string[], source = 'The firmware'): void {
  const have = new Set(paths.map((p) => p.toLowerCase()));
  const missing = PFTF_REQUIRED_FILES.filter((name) => !have.has(name.toLowerCase()));
  if (missing.length > 0) {
    throw new BootcardError(
      CardErrorCode.NOT_PFTF_FIRMWARE,
      `${source} is not the Raspberry Pi 4 UEFI firmware: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing at its top level. Download RPi4_UEFI_Firmware_vX.Y.zip from https://github.com/pftf/RPi4/releases (or use --version).`,
      { missing, ...inWizardWords(`${source} is not the Raspberry Pi 4 UEFI firmware: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing at its top level. Click “Download the pftf firmware”, or choose RPi4_UEFI_Firmware_vX.Y.zip from https://github.com/pftf/RPi4/releases.`) },
    );
  }
}

/** Throws CARD_FIRMWARE_TOO_LARGE when `totalBytes` of files cannot fit a FAT32 partition of `partitionSize` bytes. */
export function checkFirmwareFits(totalBytes: number, partitionSize: number, source = 'The firmware'): void {
  const geometry = fat32Geometry(partitionSize);
  if (totalBytes > geometry.clusterCount * geometry.bytesPerCluster) {
    throw new BootcardError(
      CardErrorCode.FIRMWARE_TOO_LARGE,
      `${source} unpacks to ${formatBytes(totalBytes)}, more than the ${formatBytes(partitionSize)} partition holds: choose a larger --size.`,
      { unpackedBytes: totalBytes, partitionSize, ...inWizardWords(`${source} unpacks to ${formatBytes(totalBytes)}, more than the ${formatBytes(partitionSize)} partition the wizard makes: this firmware needs a larger card, which the command line's \`bootcard card uefi\` can make.`) },
    );
  }
}

/**
 * Throws unless the files are the pftf firmware and fit a partition of
 * `partitionSize` bytes: every required file at the top level, safe paths,
 * total size below the partition's capacity.
 */
export function validatePftfFirmware(files: readonly FirmwareFile[], partitionSize: number, source = 'The firmware'): void {
  for (const f of files) checkArchivePath(f.path, source);
  checkPftfFileNames(files.map((f) => f.path), source);
  checkFirmwareFits(files.reduce((sum, f) => sum + f.data.length, 0), partitionSize, source);
}

function configTxtText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new BootcardError(
      CardErrorCode.CONFIG_TXT_NOT_TEXT,
      "The firmware's config.txt is not UTF-8 text, so bootcard cannot edit it without changing other bytes: save it as plain ASCII, or drop the config.txt options.",
    );
  }
}

export function composeUefiCard(options: ComposeUefiCardOptions): UefiCard {
  const size = options.size ?? DEFAULT_CARD_PARTITION_SIZE;
  validatePftfFirmware(options.firmware, size);
  const configFile = findFile(options.firmware, PFTF_CONFIG_TXT)!;
  const edits = options.configTxt ?? [];
  // Unedited, config.txt goes on the card byte for byte; an edit needs it to be text.
  const configTxt = edits.length === 0 ? new TextDecoder().decode(configFile.data) : applyConfigTxtEdits(configTxtText(configFile.data), edits);
  const configData = edits.length === 0 ? configFile.data : new TextEncoder().encode(configTxt);
  const fdFile = findFile(options.firmware, PFTF_RPI_EFI_FD)!;
  let fd = fdFile.data;
  if (options.transformRpiEfiFd) {
    const out: unknown = options.transformRpiEfiFd(fd.slice());
    if (!(out instanceof Uint8Array) || out.length === 0) {
      throw new BootcardError(CardErrorCode.BAD_RPI_EFI_FD, 'Changing RPI_EFI.fd produced no firmware (internal error; please report it).');
    }
    fd = out;
  }
  const files: FirmwareFile[] = options.firmware.map((f) =>
    f === configFile ? { ...f, data: configData } : f === fdFile ? { ...f, data: fd } : f,
  );
  const image = composeFat32Image({
    files: files.map((f) => ({ path: checkArchivePath(f.path, 'The firmware'), data: f.data, ...(f.mtime !== undefined ? { mtime: f.mtime } : {}) })),
    partitionSize: size,
    partitionType: PartitionType.EFI_SYSTEM,
    label: UEFI_CARD_LABEL,
    ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
    ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
  });
  const warnings = missingOverlays(configTxt, files.map((f) => f.path)).map(missingOverlayWarning);
  return { ...image, configTxt, files: files.map((f) => ({ path: f.path, size: f.data.length })), warnings };
}
