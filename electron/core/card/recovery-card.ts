/**
 * The EEPROM recovery card: what a Raspberry Pi 4 or 5 flashes its bootloader
 * EEPROM from at power-on. Files at the top of a FAT32 partition (MBR type
 * 0x0C, under 32 GB, as the bootloader requires):
 *
 *   recovery.bin   the loader the boot ROM runs from the card; it flashes
 *   pieeprom.bin   the bootloader image, with the user's config inside
 *   pieeprom.sig   its SHA-256 and update timestamp (rpi-eeprom-digest format)
 *   vl805.bin      Pi 4 only: the VL805 USB 3 controller firmware
 *   vl805.sig      its SHA-256 and timestamp, same format
 *
 * The presets are Raspberry Pi Imager's three bootloader cards ("SD card boot",
 * "USB boot", "Network boot"), its 2711-config/ and 2712-config/ boot-conf-*.txt.
 */
import { BootcardError } from '../errors.js';
import { buildPieeprom } from '../eeprom/build.js';
import type { Diagnostic } from '../eeprom/diagnostics.js';
import { parseEepromImage, type Board } from '../eeprom/image.js';
import { makePieepromSig } from '../eeprom/sig.js';
import { composeFat32Image, type Fat32Image } from '../fat32/compose.js';
import { PartitionType } from '../fat32/mbr.js';
import { CardErrorCode } from './errors.js';
import { DEFAULT_CARD_PARTITION_SIZE, EEPROM_CARD_MAX_PARTITION_BYTES } from './size.js';

export const RECOVERY_CARD_LABEL = 'BOOTLOADER';
export const RECOVERY_PRESETS = ['sd', 'usb', 'network'] as const;
export type RecoveryPreset = (typeof RECOVERY_PRESETS)[number];

/** Raspberry Pi Imager's bootloader configs, byte for byte. */
export const RECOVERY_PRESET_CONFIGS: Readonly<Record<Board, Readonly<Record<RecoveryPreset, string>>>> = {
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
};

export function recoveryPresetConfig(board: Board, preset: string): string {
  if (!(RECOVERY_PRESETS as readonly string[]).includes(preset)) {
    throw new BootcardError(CardErrorCode.UNKNOWN_PRESET, `Unknown bootloader preset "${preset}": choose sd, usb or network.`, { preset });
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
  /** Update timestamp for pieeprom.bin and the .sig files, and the file times (Unix seconds). */
  readonly timestamp: number;
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
      { imageBoard: parsed.board, board: options.board },
    );
  }
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
  });
  const encoder = new TextEncoder();
  const files = [
    { path: 'recovery.bin', data: options.recovery },
    { path: 'pieeprom.bin', data: built.image },
    { path: 'pieeprom.sig', data: encoder.encode(makePieepromSig(built.image, options.timestamp)) },
  ];
  if (options.vl805) {
    files.push({ path: 'vl805.bin', data: options.vl805 }, { path: 'vl805.sig', data: encoder.encode(makePieepromSig(options.vl805, options.timestamp)) });
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
