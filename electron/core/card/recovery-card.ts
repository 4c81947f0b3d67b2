/**
 * The EEPROM recovery card: what a Raspberry Pi 4 or 5 flashes its bootloader
 * EEPROM from at power-on. Files at the top of a FAT32 partition (MBR type
 * 0x0C, under 32 GB, as the bootloader requires):
 *
 *   recovery.bin   the loader the boot ROM runs from the card; it flashes
 *   pieeprom.bin   the bootloader image, with the user's config inside
 *   pieeprom.sig   its SHA-256, update timestamp and target SoC
 *   vl805.bin      Pi 4 only: the VL805 USB 3 controller firmware
 *   vl805.sig      its SHA-256
 *
 * As Raspberry Pi Imager's bootloader recovery images are made (rpi-eeprom
 * imager/make-release): pieeprom.bin is `rpi-eeprom-config --config C` with no
 * --timestamp (the image keeps the release's update-timestamp bytes),
 * pieeprom.sig is `rpi-eeprom-digest -c CHIP` (sha256, `ts:`, `target-soc:`),
 * and vl805.sig is the bare `sha256sum`. The presets are Imager's three
 * bootloader cards ("SD card boot", "USB boot", "Network boot"), its
 * 2711-config/ and 2712-config/ boot-conf-*.txt.
 *
 * recovery.bin is checked before anything is composed: a pieeprom image, the
 * other board's loader or an unknown file would leave the Pi unable to flash.
 */
import { BootcardError, inWizardWords } from '../errors.js';
import { buildPieeprom } from '../eeprom/build.js';
import type { Diagnostic } from '../eeprom/diagnostics.js';
import { EepromErrorCode } from '../eeprom/codes.js';
import { IMAGE_SIZE_BY_BOARD, SECTION_MAGIC, SECTION_MAGIC_MASK, parseEepromImage, type Board } from '../eeprom/image.js';
import type { ConfigSignature } from '../eeprom/build.js';
import { makePieepromSig, sha256HexPure } from '../eeprom/sig.js';
import { composeFat32Image, type Fat32Image } from '../fat32/compose.js';
import { PartitionType } from '../fat32/mbr.js';
import { BOOT_PRESET_NAMES, bootPresetHex, isBootPresetName, type BootPresetName } from './boot-presets.js';
import { CardErrorCode } from './errors.js';
import { DEFAULT_CARD_PARTITION_SIZE, EEPROM_CARD_MAX_PARTITION_BYTES } from './size.js';

export const RECOVERY_CARD_LABEL = 'BOOTLOADER';
/** The named boot orders of boot-presets.ts: Imager's three, and network-first. */
export const RECOVERY_PRESETS = BOOT_PRESET_NAMES;
export type RecoveryPreset = BootPresetName;

const IMAGER_CONFIGS = {
  '2711': {
    sd: '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nENABLE_SELF_UPDATE=1\nBOOT_ORDER=0xf41\nNET_INSTALL_AT_POWER_ON=1\n',
    usb: '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nENABLE_SELF_UPDATE=1\nBOOT_ORDER=0xf14\nNET_INSTALL_AT_POWER_ON=1\n\n',
    network: '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nENABLE_SELF_UPDATE=1\nBOOT_ORDER=0xf21\nNET_INSTALL_AT_POWER_ON=1\n\n',
  },
  '2712': {
    sd: '[all]\nBOOT_UART=1\nBOOT_ORDER=0xf461\nNET_INSTALL_AT_POWER_ON=1\n',
    usb: '[all]\nBOOT_UART=1\nBOOT_ORDER=0xf146\nNET_INSTALL_AT_POWER_ON=1\n',
    network: '[all]\nBOOT_UART=1\nBOOT_ORDER=0xf21\nNET_INSTALL_AT_POWER_ON=1\n',
  },
} as const;

/** Raspberry Pi Imager's bootloader configs byte for byte; network-first is Imager's network card with the network tried first. */
export const RECOVERY_PRESET_CONFIGS: Readonly<Record<Board, Readonly<Record<RecoveryPreset, string>>>> = {
  '2711': { ...IMAGER_CONFIGS['2711'], 'network-first': IMAGER_CONFIGS['2711'].network.replace('BOOT_ORDER=0xf21', `BOOT_ORDER=${bootPresetHex('network-first', '2711')}`) },
  '2712': { ...IMAGER_CONFIGS['2712'], 'network-first': IMAGER_CONFIGS['2712'].network.replace('BOOT_ORDER=0xf21', `BOOT_ORDER=${bootPresetHex('network-first', '2712')}`) },
};

export function recoveryPresetConfig(board: Board, preset: string): string {
  if (!isBootPresetName(preset)) {
    throw new BootcardError(CardErrorCode.UNKNOWN_PRESET, `Unknown bootloader preset "${preset}": choose ${BOOT_PRESET_NAMES.join(', ')}.`, { preset });
  }
  return RECOVERY_PRESET_CONFIGS[board][preset as RecoveryPreset];
}

export interface ComposeRecoveryCardOptions {
  readonly board: Board;
  /** The base bootloader image (pieeprom-YYYY-MM-DD.bin). */
  readonly pieeprom: Uint8Array;
  /** recovery.bin for this board. */
  readonly recovery: Uint8Array;
  /** Pi 4 only: the VL805 firmware (vl805-*.bin). */
  readonly vl805?: Uint8Array;
  /** One of Imager's configs; or give `config`. Neither: the base image's own config. */
  readonly preset?: RecoveryPreset;
  /** A bootloader config (bootconf.txt text). */
  readonly config?: string;
  /** KEY=VALUE settings applied on top of the config, in [all]. */
  readonly set?: Readonly<Record<string, string>>;
  /** The pieeprom.sig `ts:` line and the file times (Unix seconds). */
  readonly timestamp: number;
  /** Signed boot: sign the config and embed bootconf.sig + pubkey.bin (see signing.ts configSigner). */
  readonly signConfig?: (config: Uint8Array) => ConfigSignature;
  /** Warnings from the config check become errors. */
  readonly strict?: boolean;
  /** Partition size in bytes; default 256 MiB; must stay under 32 GB. */
  readonly size?: number;
  readonly imageSize?: number;
}

export interface RecoveryCard extends Fat32Image {
  readonly board: Board;
  /** The bootloader config inside pieeprom.bin. */
  readonly config: string;
  readonly diagnostics: readonly Diagnostic[];
  readonly files: readonly { readonly path: string; readonly size: number }[];
}

export function composeRecoveryCard(options: ComposeRecoveryCardOptions): RecoveryCard {
  const size = options.size ?? DEFAULT_CARD_PARTITION_SIZE;
  if (size >= EEPROM_CARD_MAX_PARTITION_BYTES) {
    throw new BootcardError(
      CardErrorCode.PARTITION_TOO_LARGE,
      'The bootloader reads a recovery card only when its FAT partition is under 32 GB: choose a smaller --size (256M is plenty).',
      { size },
    );
  }
  const parsed = parseEepromImage(options.pieeprom);
  if (parsed.board !== options.board) {
    throw new BootcardError(
      CardErrorCode.BOARD_MISMATCH,
      `The bootloader image is for a ${parsed.board === '2711' ? 'Pi 4 (2711)' : 'Pi 5 (2712)'} but --board is ${options.board}: use the image from bootloader-${options.board}.`,
      { imageBoard: parsed.board, board: options.board, ...inWizardWords(`The bootloader image is for a ${parsed.board === '2711' ? 'Pi 4 (2711)' : 'Pi 5 (2712)'} but the board picked in the first step is ${options.board === '2711' ? 'Pi 4 (2711)' : 'Pi 5 (2712)'}: pick the other board, or choose the image from bootloader-${options.board}.`) },
    );
  }
  checkRecoveryLoader(options.recovery, options.board);
  if (options.vl805 && options.board !== '2711') {
    throw new BootcardError(CardErrorCode.VL805_NOT_FOR_BOARD, 'vl805.bin is Pi 4 USB controller firmware; a Pi 5 (2712) card does not take it.');
  }
  const config = options.config ?? (options.preset ? recoveryPresetConfig(options.board, options.preset) : undefined);
  const built = buildPieeprom({
    base: options.pieeprom,
    parsed,
    ...(config !== undefined ? { config } : {}),
    ...(options.set ? { set: options.set } : {}),
    timestamp: options.timestamp,
    strict: options.strict ?? false,
    ...(options.signConfig ? { signConfig: options.signConfig } : {}),
  });
  const encoder = new TextEncoder();
  const files = [
    { path: 'recovery.bin', data: options.recovery },
    { path: 'pieeprom.bin', data: built.image },
    { path: 'pieeprom.sig', data: encoder.encode(makePieepromSig(built.image, options.timestamp, { targetSoc: options.board })) },
  ];
  if (options.vl805) {
    files.push({ path: 'vl805.bin', data: options.vl805 }, { path: 'vl805.sig', data: encoder.encode(`${sha256HexPure(options.vl805)}\n`) });
  }
  const image = composeFat32Image({
    files: files.map((f) => ({ ...f, mtime: options.timestamp })),
    partitionSize: size,
    partitionType: PartitionType.FAT32_LBA,
    label: RECOVERY_CARD_LABEL,
    timestamp: options.timestamp,
    ...(options.imageSize !== undefined ? { imageSize: options.imageSize } : {}),
  });
  return { ...image, board: options.board, config: built.config, diagnostics: built.diagnostics, files: files.map((f) => ({ path: f.path, size: f.data.length })) };
}

const BOARD_NAME: Readonly<Record<Board, string>> = { '2711': 'Pi 4 (2711)', '2712': 'Pi 5 (2712)' };
const latin1 = new TextDecoder('latin1');
/** Strings every recovery loader since 2019 carries: its log prefix and the file it flashes. */
const LOADER_MARKERS = ['RECOVERY', 'pieeprom.bin'];
/** Only the Pi 5 loader talks to the RP1 south bridge. */
const PI5_MARKER = 'RP1';
/** The loaders are about 50-110 KiB; the boot ROM loads them into on-chip memory. */
export const MAX_RECOVERY_LOADER_BYTES = 512 * 1024;

export type RecoveryLoaderKind = { readonly kind: 'loader'; readonly board: Board } | { readonly kind: 'pieeprom'; readonly board: Board } | { readonly kind: 'unknown' };

/** What a file given as recovery.bin is. */
export function identifyRecoveryLoader(bytes: Uint8Array): RecoveryLoaderKind {
  const magic = bytes.length >= 4 ? ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0 : 0;
  const eepromBoard = (Object.keys(IMAGE_SIZE_BY_BOARD) as Board[]).find((b) => IMAGE_SIZE_BY_BOARD[b] === bytes.length);
  if (eepromBoard && ((magic & SECTION_MAGIC_MASK) >>> 0) === SECTION_MAGIC) return { kind: 'pieeprom', board: eepromBoard };
  if (bytes.length > MAX_RECOVERY_LOADER_BYTES) return { kind: 'unknown' };
  const text = latin1.decode(bytes);
  if (!LOADER_MARKERS.every((m) => text.includes(m))) return { kind: 'unknown' };
  return { kind: 'loader', board: text.includes(PI5_MARKER) ? '2712' : '2711' };
}

/** Refuses a recovery.bin that is not the recovery loader for `board`, saying what to use instead. */
export function checkRecoveryLoader(bytes: Uint8Array, board: Board): void {
  const found = identifyRecoveryLoader(bytes);
  const want = `the recovery.bin from rpi-eeprom's firmware-${board}/default (on Raspberry Pi OS /lib/firmware/raspberrypi/bootloader-${board}/default/recovery.bin)`;
  if (found.kind === 'pieeprom') {
    throw new BootcardError(
      EepromErrorCode.BAD_RECOVERY_BIN,
      `The file given as recovery.bin is a ${BOARD_NAME[found.board]} bootloader EEPROM image (pieeprom), not the recovery loader: give it as the EEPROM image (--eeprom), and use ${want}.`,
      { found: 'pieeprom', board, ...inWizardWords(`The file given as recovery.bin is a ${BOARD_NAME[found.board]} bootloader EEPROM image (pieeprom), not the recovery loader: choose the rpi-eeprom folder instead (the wizard finds pieeprom and recovery.bin in it), such as /lib/firmware/raspberrypi/bootloader-${board}/default.`) },
    );
  }
  if (found.kind === 'unknown') {
    throw new BootcardError(
      EepromErrorCode.BAD_RECOVERY_BIN,
      `The file given as recovery.bin is not a Raspberry Pi EEPROM recovery loader (a ${bytes.length}-byte file without the loader's markers); the Pi would not flash from this card. Use ${want}.`,
      { found: 'unknown', board, size: bytes.length },
    );
  }
  if (found.board !== board) {
    throw new BootcardError(
      EepromErrorCode.BAD_RECOVERY_BIN,
      `The recovery.bin given is the ${BOARD_NAME[found.board]} loader, but this card is for a ${BOARD_NAME[board]}: its boot ROM would not run it. Use ${want}.`,
      { found: found.board, board },
    );
  }
}
