/**
 * Builds a pieeprom.bin from a base image and a config: what
 * `rpi-eeprom-config --config FILE --out OUT BASE` does, plus editing with
 * --set/--unset, validation before anything is produced, and the update
 * timestamp. With the base's own config (or the same file) and no timestamp
 * the result is the base image byte for byte.
 */
import { BootcardError } from '../errors.js';
import { EepromDiagnosticCode, EepromErrorCode } from './codes.js';
import { parseBootConf, removeBootConfValue, serializeBootConf, setBootConfValue } from './config.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import {
  BOOTCONF_SIG,
  BOOTCONF_TXT,
  PUBKEY_BIN,
  bootConfCapacity,
  hasUpdateTimestamp,
  parseEepromImage,
  readBootConf,
  replaceEepromFileInPlace,
  setUpdateTimestampInPlace,
  type Board,
  type EepromImage,
} from './image.js';
import { checkTimestamp } from './sig.js';
import { validateBootConf } from './validate.js';

export interface BuildPieepromOptions {
  readonly base: Uint8Array;
  /** Replaces the base's config; without it the base's own config is edited. */
  readonly config?: string;
  /** Applied on top, in order. */
  readonly set?: Readonly<Record<string, string>>;
  readonly unset?: readonly string[];
  /** The section --set/--unset work in: 'all' (default; lines for every board) or a filter such as 'gpio8=0'. */
  readonly section?: string;
  /**
   * The update timestamp of this build (seconds since 1970): checked here, and
   * what the .sig's `ts:` line should carry (makePieepromSig). The image itself
   * is unchanged unless `stampImage` is set, so the output stays
   * rpi-eeprom-config's bytes; recovery.bin and the bootloader's self-update
   * take the timestamp from the .sig.
   */
  readonly timestamp?: number;
  /**
   * Also write `timestamp` into the image's `updatetime` file (for images
   * written straight to the flash, e.g. with flashrom, where no .sig is read).
   * The encoding (little-endian ts, then ~ts) is inferred from the images'
   * unset value 00000000 ffffffff, not from a published source.
   */
  readonly stampImage?: boolean;
  /** Warnings become errors. */
  readonly strict?: boolean;
  /** Other modifiable files to replace (raw bytes, as rpi-eeprom-config --digest/--pubkey put them). */
  readonly files?: Readonly<Partial<Record<typeof BOOTCONF_SIG | typeof PUBKEY_BIN, Uint8Array>>>;
  /** The base, already parsed (the batch builder parses it once). */
  readonly parsed?: EepromImage;
}

export interface BuildPieepromResult {
  readonly image: Uint8Array;
  readonly config: string;
  readonly board: Board;
  readonly diagnostics: Diagnostic[];
  /** Bytes the base had for bootconf.txt. */
  readonly freeBytes: number;
}

const textEncoder = new TextEncoder();

/** The config text the build would use, and its diagnostics; throws nothing about validity. */
export function resolveBootConf(options: Omit<BuildPieepromOptions, 'timestamp' | 'files'>, image: EepromImage): { config: string; diagnostics: Diagnostic[]; freeBytes: number } {
  let config = options.config ?? readBootConf(options.base, image);
  const set = options.set ?? {};
  const unset = options.unset ?? [];
  if (Object.keys(set).length > 0 || unset.length > 0) {
    let model = parseBootConf(config);
    for (const key of unset) model = removeBootConfValue(model, key, options.section ?? '*');
    for (const [key, value] of Object.entries(set)) model = setBootConfValue(model, key, value, options.section ?? 'all');
    config = serializeBootConf(model);
  }
  const freeBytes = bootConfCapacity(image);
  const diagnostics = validateBootConf(config, { board: image.board, freeBytes });
  return { config, diagnostics, freeBytes };
}

/** Throws the BootcardError a failed validation means, or returns. */
export function assertBuildable(diagnostics: readonly Diagnostic[], strict: boolean, what = 'The bootloader config'): void {
  const blocking = diagnostics.filter((d) => d.severity === 'error' || strict);
  if (blocking.length === 0) return;
  const code = blocking.some((d) => d.code === EepromDiagnosticCode.TOO_LARGE)
    ? EepromErrorCode.CONFIG_TOO_LARGE
    : blocking.some((d) => d.code === EepromDiagnosticCode.NO_SPACE)
      ? EepromErrorCode.NO_SPACE
      : EepromErrorCode.INVALID_CONFIG;
  const count = blocking.length === 1 ? '1 problem' : `${blocking.length} problems`;
  const strictNote = strict && blocking.some((d) => d.severity === 'warning') ? ' (--strict: warnings count)' : '';
  throw new BootcardError(
    code,
    `${what} has ${count}${strictNote}; nothing was written:\n${blocking.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`,
    { diagnostics: blocking.map((d) => ({ ...d })) },
  );
}

export function buildPieeprom(options: BuildPieepromOptions): BuildPieepromResult {
  const image = options.parsed ?? parseEepromImage(options.base);
  const { config, diagnostics, freeBytes } = resolveBootConf(options, image);
  if (options.stampImage && options.timestamp === undefined) {
    throw new BootcardError(EepromErrorCode.BAD_TIMESTAMP, 'Stamping the image needs a timestamp (seconds since 1970).');
  }
  if (options.timestamp !== undefined) checkTimestamp(options.timestamp);
  if (options.stampImage) {
    if (!hasUpdateTimestamp(image)) {
      diagnostics.push({
        severity: 'warning',
        code: EepromErrorCode.FILE_NOT_IN_IMAGE,
        message: 'This image has no updatetime section (images before 2021); the timestamp goes only into the .sig.',
      });
    }
  }
  assertBuildable(diagnostics, options.strict ?? false);

  const out = options.base.slice();
  replaceEepromFileInPlace(out, image, BOOTCONF_TXT, textEncoder.encode(config));
  const files = options.files ?? {};
  if (files[BOOTCONF_SIG]) replaceEepromFileInPlace(out, image, BOOTCONF_SIG, files[BOOTCONF_SIG]);
  if (files[PUBKEY_BIN]) replaceEepromFileInPlace(out, image, PUBKEY_BIN, files[PUBKEY_BIN], { enforceMaxFileSize: false });
  if (options.stampImage && options.timestamp !== undefined && hasUpdateTimestamp(image)) setUpdateTimestampInPlace(out, image, options.timestamp);
  return { image: out, config, board: image.board, diagnostics, freeBytes };
}
