/**
 * Builds a pieeprom.bin from a base image and a config: what
 * `rpi-eeprom-config --config FILE --out OUT BASE` does, plus editing with
 * --set/--unset, validation before anything is produced, and the update
 * timestamp. With the base's own config (or the same file) and no timestamp
 * the result is the base image byte for byte.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { BootcardError } from '../errors.js';
import { EepromDiagnosticCode, EepromErrorCode } from './codes.js';
import { configSections, parseBootConf, removeBootConfValue, serializeBootConf, setBootConfValue } from './config.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import {
  BOOTCONF_SIG,
  BOOTCONF_TXT,
  CACERT_DER,
  PUBKEY_BIN,
  bootConfCapacity,
  getEepromFile,
  parseEepromImage,
  readBuildTimestamp,
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
   * what the .sig's `ts:` line should carry (makePieepromSig). Only
   * `updateTimestamp` writes it into the image.
   */
  readonly timestamp?: number;
  /**
   * What `rpi-eeprom-config --timestamp` does: write this timestamp into the
   * image (updateTimestampPlace says where). rpi-eeprom-update passes it on
   * every update; without it the image keeps the base's bytes there.
   */
  readonly updateTimestamp?: number;
  /** Warnings become errors. */
  readonly strict?: boolean;
  /** Other modifiable files to replace (raw bytes, as rpi-eeprom-config --digest/--pubkey/--cacertder put them). */
  readonly files?: Readonly<Partial<Record<typeof BOOTCONF_SIG | typeof PUBKEY_BIN | typeof CACERT_DER, Uint8Array>>>;
  /**
   * Signs the final config (signed boot): given bootconf.txt's bytes, returns
   * bootconf.sig and pubkey.bin. Called after validation; the caller holds the
   * key (the RSA lives outside this pure module).
   */
  readonly signConfig?: (config: Uint8Array) => ConfigSignature;
  /** The base, already parsed (the batch builder parses it once). */
  readonly parsed?: EepromImage;
}

export interface ConfigSignature {
  /** rpi-eeprom-digest's .sig of bootconf.txt: sha256, ts, rsa2048. */
  readonly bootconfSig: Uint8Array;
  /** The public key in the bootloader's format (rsaPublicKeyToBin). */
  readonly pubkeyBin: Uint8Array;
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
  const notSet: Diagnostic[] = [];
  if (Object.keys(set).length > 0 || unset.length > 0) {
    let model = parseBootConf(config);
    for (const key of unset) {
      const before = model.lines.length;
      model = removeBootConfValue(model, key, options.section ?? '*');
      if (model.lines.length === before) {
        const where = options.section !== undefined ? ` in [${options.section}]` : '';
        notSet.push({ severity: 'warning', key, code: EepromDiagnosticCode.UNSET_NOT_SET, message: `--unset ${key}: the config does not set ${key}${where}, so nothing was removed (check the spelling; keys are case-sensitive).` });
      }
    }
    for (const [key, value] of Object.entries(set)) model = setBootConfValue(model, key, value, options.section ?? 'all');
    config = serializeBootConf(model);
  }
  const freeBytes = bootConfCapacity(image);
  const diagnostics = [...notSet, ...validateBootConf(config, { board: image.board, freeBytes })];
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
  if (options.timestamp !== undefined) checkTimestamp(options.timestamp);
  if (options.updateTimestamp !== undefined) checkTimestamp(options.updateTimestamp);
  assertBuildable(diagnostics, options.strict ?? false);
  const files = { ...options.files };
  const configBytes = textEncoder.encode(config);
  if (options.signConfig) {
    const signed = options.signConfig(configBytes);
    files[BOOTCONF_SIG] = signed.bootconfSig;
    files[PUBKEY_BIN] = signed.pubkeyBin;
  }
  diagnostics.push(...signingDiagnostics(config, options.base, image, files));
  assertBuildable(diagnostics, options.strict ?? false);

  // rpi-eeprom-config's order: timestamp, cacert.der, bootconf.txt, bootconf.sig, pubkey.bin.
  const out = options.base.slice();
  if (options.updateTimestamp !== undefined) setUpdateTimestampInPlace(out, image, options.updateTimestamp);
  if (files[CACERT_DER]) replaceEepromFileInPlace(out, image, CACERT_DER, files[CACERT_DER]);
  replaceEepromFileInPlace(out, image, BOOTCONF_TXT, configBytes);
  if (files[BOOTCONF_SIG]) replaceEepromFileInPlace(out, image, BOOTCONF_SIG, files[BOOTCONF_SIG]);
  if (files[PUBKEY_BIN]) replaceEepromFileInPlace(out, image, PUBKEY_BIN, files[PUBKEY_BIN], { enforceMaxFileSize: false });
  return { image: out, config, board: image.board, diagnostics, freeBytes };
}

/** The first Pi 4 bootloader with HTTP boot (BOOT_ORDER mode 7): 2022-03-10. */
export const HTTP_BOOT_SINCE_2711 = Date.UTC(2022, 2, 10) / 1000;

/** Raspberry Pi's download server, the bootloader's HTTP_HOST default: its own public key verifies it. */
export const DEFAULT_HTTP_HOST = 'fw-download-alias1.raspberrypi.com';

/** The values `key` has in the lines the bootloader reads (not under [none] or [config.txt]). */
function bootloaderValues(config: string, key: string): string[] {
  const model = parseBootConf(config);
  const values: string[] = [];
  for (const section of configSections(model)) {
    if (section.filter === 'none' || section.filter === 'config.txt') continue;
    for (let i = section.start; i < section.end; i++) {
      const line = model.lines[i]!;
      if (line.kind === 'setting' && line.key?.trim() === key) values.push(line.value!.trim());
    }
  }
  return values;
}

/** A pubkey.bin that holds a key: the shipped images have it all zero. */
const holdsKey = (bytes: Uint8Array | undefined) => bytes !== undefined && bytes.some((b) => b !== 0 && b !== 0xff);

function imageFile(base: Uint8Array, image: EepromImage, name: string): Uint8Array | undefined {
  return image.files.some((f) => f.name === name) ? getEepromFile(base, name, image) : undefined;
}

/**
 * What the bootloader will refuse because of keys, certificates or its age: a custom
 * HTTP_HOST with no public key in the image (the bootloader then checks
 * boot.sig against Raspberry Pi's own key, so your boot.img is refused), an
 * HTTP_CACERT_HASH that is not the SHA-256 of the image's cacert.der, and HTTP
 * boot in BOOT_ORDER on a Pi 4 bootloader from before it had it.
 */
export function signingDiagnostics(
  config: string,
  base: Uint8Array,
  image: EepromImage,
  files: Readonly<Partial<Record<string, Uint8Array>>>,
  options: { readonly signed?: boolean } = {},
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hosts = bootloaderValues(config, 'HTTP_HOST').filter((h) => h !== '' && h !== DEFAULT_HTTP_HOST);
  const pubkey = files[PUBKEY_BIN] ?? imageFile(base, image, PUBKEY_BIN);
  if (hosts.length > 0 && !options.signed && !holdsKey(pubkey)) {
    out.push({
      severity: 'warning',
      key: 'HTTP_HOST',
      code: EepromDiagnosticCode.HTTP_HOST_WITHOUT_KEY,
      message: `HTTP_HOST=${hosts[0]} is set but this image has no public key. The bootloader documentation: "All HTTP downloads must be signed. The bootloader includes a public key for the files on the default host ${DEFAULT_HTTP_HOST}. This key will be used to verify the network install image, unless you set HTTP_HOST and include a public key in the EEPROM." Build with --sign-key (or --pubkey) and sign boot.img with the same key.`,
    });
  }
  const httpFirst = bootloaderValues(config, 'BOOT_ORDER').some((v) => /^0x[0-9a-f]*7[0-9a-f]*$/i.test(v));
  const built = image.board === '2711' ? readBuildTimestamp(base) : undefined;
  if (httpFirst && built !== undefined && built < HTTP_BOOT_SINCE_2711) {
    out.push({
      severity: 'warning',
      key: 'BOOT_ORDER',
      code: EepromDiagnosticCode.HTTP_BOOT_NOT_IN_IMAGE,
      message: `BOOT_ORDER has 7 (HTTP boot) but this Pi 4 bootloader was built on ${new Date(built * 1000).toISOString().slice(0, 10)}; HTTP boot needs "a bootloader dated 10th March 2022 or later". Use a newer pieeprom-*.bin.`,
    });
  }
  const hashes = bootloaderValues(config, 'HTTP_CACERT_HASH').filter((h) => /^[0-9a-f]{64}$/i.test(h));
  if (hashes.length > 0) {
    const cacert = files[CACERT_DER] ?? imageFile(base, image, CACERT_DER);
    const actual = cacert && holdsKey(cacert) ? bytesToHex(sha256(cacert)) : undefined;
    const wrong = hashes.find((h) => h.toLowerCase() !== actual);
    if (wrong !== undefined) {
      out.push({
        severity: 'warning',
        key: 'HTTP_CACERT_HASH',
        code: EepromDiagnosticCode.CACERT_HASH_MISMATCH,
        message: actual
          ? `HTTP_CACERT_HASH=${wrong} is not the SHA-256 of the image's cacert.der (${actual}); the bootloader will not trust your server. Give the certificate with --cacert FILE.der, which also sets the hash.`
          : `HTTP_CACERT_HASH is set but the image has no cacert.der; the bootloader will not trust your server. Give the certificate with --cacert FILE.der, which also sets the hash.`,
      });
    }
  }
  return out;
}
