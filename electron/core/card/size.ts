/**
 * Partition sizes on the command line and in requests: `256M`, `1G`, `512MiB`,
 * `1048576` (bytes), or `whole` (fill the card: decided when the card is known).
 * Sizes are binary (M = MiB) and rounded down to whole MiB, so the partition
 * ends on an erase-block friendly boundary.
 */
import { BootcardError } from '../errors.js';
import { CardErrorCode } from './errors.js';
import { DEFAULT_PARTITION_OFFSET } from '../fat32/compose.js';

export const MIB = 1024 * 1024;
export const DEFAULT_CARD_PARTITION_SIZE = 256 * MIB;
/** The whole card image at the default partition size: what a card must hold (the wizard's cards list checks it). */
export const DEFAULT_CARD_IMAGE_SIZE = DEFAULT_PARTITION_OFFSET + DEFAULT_CARD_PARTITION_SIZE;
/** The EEPROM bootloader reads a recovery card's FAT partition only below 32 GB. */
export const EEPROM_CARD_MAX_PARTITION_BYTES = 32_000_000_000;

export type CardSize = number | 'whole';

const UNITS: Record<string, number> = { '': 1, B: 1, K: 1024, KB: 1024, KIB: 1024, M: MIB, MB: MIB, MIB: MIB, G: 1024 * MIB, GB: 1024 * MIB, GIB: 1024 * MIB, T: 1024 * 1024 * MIB, TIB: 1024 * 1024 * MIB };

export function parseCardSize(text: string): CardSize {
  const t = text.trim();
  if (t.toLowerCase() === 'whole') return 'whole';
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(t);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) {
    throw new BootcardError(CardErrorCode.BAD_SIZE, `"${text}" is not a size: write e.g. 256M, 1G, or whole (fill the card; needs --to).`, { size: text });
  }
  const bytes = Math.floor((Number(m[1]) * unit) / MIB) * MIB;
  if (bytes < MIB) throw new BootcardError(CardErrorCode.BAD_SIZE, `"${text}" is smaller than 1 MiB.`, { size: text });
  return bytes;
}

/** The partition size that fills a card of `cardBytes` after the partition offset, in whole MiB. */
export function wholeCardPartitionSize(cardBytes: number, partitionOffset: number, maxBytes = Number.MAX_SAFE_INTEGER): number {
  return Math.floor(Math.min(cardBytes - partitionOffset, maxBytes - 1) / MIB) * MIB;
}

/** The shared byte formatter (the drive list and the wizard use the same words). */
export { formatBytes } from '../units.js';
