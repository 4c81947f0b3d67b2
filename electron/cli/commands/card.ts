/**
 * `bootcard card uefi|recovery|inspect`: compose the UEFI firmware card or an
 * EEPROM recovery card as an image file (written atomically, with holes), and
 * show what is on a card or image. `card uefi --batch pis.csv` makes one card
 * per Pi (its MAC first in the boot order).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { composeRecoveryCard, recoveryPresetConfig, RECOVERY_PRESETS, type RecoveryPreset } from '../../core/card/recovery-card.js';
import { BOOT_PRESETS, bootPreset, bootPresetHex, bootPresetWords, isBootPresetName } from '../../core/card/boot-presets.js';
import { composeUefiCard } from '../../core/card/uefi-card.js';
import { fetchPftfFirmware, PFTF_DEFAULT_VERSION, type DownloadProgress } from '../../core/card/firmware-download.io.js';
import { readFirmwareSource } from '../../core/card/firmware-zip.io.js';
import { readRecoveryFiles, resolveRecoveryFiles } from '../../core/card/recovery-files.io.js';
import { configSigner, loadSigningKey } from '../../core/eeprom/signing.io.js';
import { formatInspection, inspectCard } from '../../core/card/inspect.js';
import {
  DEFAULT_CARD_PARTITION_SIZE,
  EEPROM_CARD_MAX_PARTITION_BYTES,
  formatBytes,
  parseCardSize,
  wholeCardPartitionSize,
  type CardSize,
} from '../../core/card/size.js';
import { CONFIG_TXT_PRESETS, configTxtPreset, parseConfigTxtArgument, type ConfigTxtEdit } from '../../core/configtxt/config-txt.js';
import { parseAssignment } from '../../core/eeprom/config.js';
import { readTextFile } from '../../core/eeprom/files.io.js';
import { openByteReader } from '../../core/fat32/byte-reader.io.js';
import type { Fat32Image } from '../../core/fat32/compose.js';
import { dataBytes } from '../../core/image/sparse-image.js';
import { saveSparseImage } from '../../core/image/sparse-image.io.js';
import { describeTarget, enumerationPaths } from '../../core/drives/enumerate.io.js';
import { DEFAULT_PARTITION_OFFSET } from '../../core/fat32/compose.js';
import type { FirmwareFile } from '../../core/card/firmware-files.js';
import { BootcardError, toBootcardError } from '../../core/errors.js';
import { UefiErrorCode } from '../../core/uefi/errors.js';
import { parseFleetCsv, type FleetRow } from '../../core/uefi/fleet-csv.js';
import { applyUefiSettings, type UefiSettings } from '../../core/uefi/settings.js';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';
import { assertOutputFile, prepareOutputFolder } from '../outputs.js';
import { addUefiSettingsOptions, UEFI_SETTING_COLUMNS, uefiOptionsFromColumns, uefiSettingsFromOptions, type UefiSettingsOptions } from '../uefi-options.js';
import { addWriteTargetOptions, writeToTargets, type WriteTargetOptions } from '../write-targets.js';
import { addStationOptions, checkStationOptions, runStation, type StationCliOptions } from '../station.js';
import type { StationRow } from '../../core/station/station-state.js';
import { planBatch } from '../../core/eeprom/batch.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface OutputOptions extends WriteTargetOptions, StationCliOptions {
  readonly out?: string;
  readonly size?: string;
  readonly json?: boolean;
}

interface Layout {
  /** Partition size in bytes. */
  readonly size: number;
  /** Whole image size when it must match a card (`--size whole`). */
  readonly imageSize?: number;
}

/**
 * The partition size from --size. `whole` fills the card, so it needs the
 * cards (--to): the partition fills the smallest of them, up to `maxBytes`.
 */
async function layout(options: OutputOptions, ctx: CliContext, maxBytes?: number): Promise<Layout> {
  const size: CardSize = options.size === undefined ? DEFAULT_CARD_PARTITION_SIZE : parseCardSize(options.size);
  if (size !== 'whole') return { size };
  const targets = options.to ?? [];
  if (targets.length === 0) {
    throw usageError('--size whole fills a card, so it needs --to DEVICE; for an image file give a size such as 256M or 1G.');
  }
  let smallest = Number.POSITIVE_INFINITY;
  for (const target of targets) {
    const found = await describeTarget(path.resolve(ctx.io.cwd, target), { paths: enumerationPaths(ctx.io.env) });
    if (found.kind !== 'drive') throw usageError(`--size whole needs cards to fill; ${target} is not a disk. Give a size such as 256M.`);
    smallest = Math.min(smallest, found.drive.size);
  }
  const imageSize = Math.floor(smallest / 512) * 512;
  return { size: wholeCardPartitionSize(imageSize, DEFAULT_PARTITION_OFFSET, maxBytes), imageSize };
}

function requireDestination(options: OutputOptions): void {
  checkStationOptions(options);
  if (!options.out && !(options.to ?? []).length && !options.station) throw usageError('Say where the card goes: --out FILE (an image file), --to DEVICE (write cards) or --station (write every card put in).');
}

/** Saves the image (--out) and writes the cards (--to). */
async function deliver(image: Fat32Image, options: OutputOptions, ctx: CliContext): Promise<void> {
  if (options.out) await saveSparseImage(image, path.resolve(ctx.io.cwd, options.out));
  if ((options.to ?? []).length) await writeToTargets(image, options, ctx);
  if (options.station) await runStation({ size: image.size, imageFor: () => image }, `this card (${formatBytes(image.size)})`, options, ctx);
}

function sourceDateEpoch(ctx: CliContext): number | undefined {
  const text = ctx.io.env.SOURCE_DATE_EPOCH;
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw usageError(`SOURCE_DATE_EPOCH must be whole seconds since 1970, got "${text}".`);
  return Number(text);
}

/**
 * Saves and writes the card, then says what was made. With --to the writer
 * owns stdout (its per-card results, or their JSON with --json), so the card
 * summary goes to stderr.
 */
async function report(image: Fat32Image, result: object, text: string, options: OutputOptions, ctx: CliContext): Promise<void> {
  const writing = (options.to ?? []).length > 0 || options.station === true;
  if (writing && !options.json) ctx.info(text);
  await deliver(image, options, ctx);
  if (writing) return;
  if (options.json) ctx.printJson(result);
  else ctx.print(`Wrote ${options.out}.\n${text}`);
}

function summary(image: Fat32Image, out: string | null) {
  return {
    out,
    imageSize: image.size,
    dataBytes: dataBytes(image),
    partition: { offset: image.fat.partitionOffset, size: image.fat.partitionSize, type: `0x${image.fat.partitionType.toString(16).padStart(2, '0')}` },
    volumeId: image.fat.volumeId.toString(16).toUpperCase().padStart(8, '0'),
    label: image.fat.label,
  };
}

function progressPrinter(ctx: CliContext, what: string): (p: DownloadProgress) => void {
  let lastStep = -1;
  return (p) => {
    const step = p.total ? Math.floor((p.bytes / p.total) * 10) : Math.floor(p.bytes / (1024 * 1024));
    if (step === lastStep) return;
    lastStep = step;
    ctx.info(p.total ? `${what}: ${formatBytes(p.bytes)} of ${formatBytes(p.total)}` : `${what}: ${formatBytes(p.bytes)}`);
  };
}

interface UefiCommandOptions extends OutputOptions, UefiSettingsOptions {
  readonly firmware?: string;
  readonly firmwareVersion?: string;
  readonly version?: string;
  readonly configTxtPreset?: string[];
  readonly configTxt?: string[];
  readonly dtoverlay?: string[];
  readonly cacheDir?: string;
  readonly refresh?: boolean;
  readonly batch?: string;
  readonly outDir?: string;
}

interface BatchCard {
  readonly row: FleetRow;
  readonly settings: UefiSettings;
  /** What applying the settings to the firmware warned about. */
  readonly warnings: readonly string[];
}

/**
 * Reads the batch file and turns every row into its card's settings (the row's cells over the command
 * line's options, the row's MAC as --pxe-boot-first) and applies them to the firmware in memory, so
 * that a bad row anywhere stops the batch before the first card is written.
 */
async function checkBatch(options: UefiCommandOptions, firmware: readonly FirmwareFile[], ctx: CliContext): Promise<BatchCard[]> {
  const file = path.resolve(ctx.io.cwd, options.batch!);
  const text = await readTextFile(file, 'batch file');
  const rows = parseFleetCsv(text, UEFI_SETTING_COLUMNS, path.basename(file));
  const fd = firmware.find((f) => f.path.toLowerCase() === 'rpi_efi.fd')?.data;
  return rows.map((row) => {
    try {
      const settings = uefiSettingsFromOptions({ ...options, ...uefiOptionsFromColumns(row.values), pxeBootFirst: row.mac })!;
      return { row, settings, warnings: fd ? applyUefiSettings(fd, settings).warnings : [] };
    } catch (error) {
      const e = toBootcardError(error);
      throw new BootcardError(UefiErrorCode.BAD_BATCH_FILE, `${path.basename(file)} line ${row.line} (${row.name}): ${e.message}`, { line: row.line, name: row.name, code: e.code });
    }
  });
}

function registerUefi(card: Command, ctx: CliContext): void {
  const cmd = card
    .command('uefi')
    .description('compose the Raspberry Pi 4 UEFI firmware card (pftf/RPi4) as an image file')
    .option('--firmware <zip|dir>', 'the pftf firmware zip (RPi4_UEFI_Firmware_vX.Y.zip) or its unpacked folder')
    // The program's options are positional (program.ts), so this --version is the firmware's, not bootcard's.
    .option('--version <version>', `download this pftf release into the cache (default ${PFTF_DEFAULT_VERSION} when --firmware is not given)`)
    .option('--firmware-version <version>', 'the same as --version')
    .option('--cache-dir <dir>', 'download cache (default $XDG_CACHE_HOME/bootcard or ~/.cache/bootcard)')
    .option('--refresh', 'download the firmware again even when it is cached (replaces the cached zip)')
    .option('--config-txt-preset <name>', `config.txt preset, repeatable: ${Object.keys(CONFIG_TXT_PRESETS).join(', ')}`, collect)
    .option('--config-txt <KEY=VALUE>', 'set a config.txt line ([SECTION]KEY=VALUE for a section, KEY= to remove), repeatable', collect)
    .option('--dtoverlay <name>', 'add a dtoverlay= line to config.txt, repeatable', collect)
    .option('--out <file>', 'write the card image to this file')
    .option('--batch <csv>', 'one card per Pi: a CSV file with the columns name, mac and any UEFI setting by its option name (asset-tag, boot-timeout, ...)')
    .option('--out-dir <dir>', 'with --batch: write DIR/<name>.img for each row')
    .option('--size <size>', 'FAT partition size, e.g. 256M (default) or 1G; whole fills the card (with --to)')
    .option('--json', 'print the result as JSON');
  addUefiSettingsOptions(cmd);
  addStationOptions(addWriteTargetOptions(cmd));
  cmd.action(async (options: UefiCommandOptions) => {
    const firmwareVersion = options.version ?? options.firmwareVersion;
    if (options.firmware && firmwareVersion) throw usageError('Give either --firmware FILE or --version VERSION, not both.');
    if (options.batch) {
      if (options.out) throw usageError('--batch writes one card per row: give --out-dir DIR (DIR/<name>.img) and/or --to DEV ..., not --out.');
      if (options.pxeBootFirst) throw usageError("--batch takes each Pi's MAC from its mac column; drop --pxe-boot-first.");
      checkStationOptions(options);
      if (!options.outDir && !(options.to ?? []).length && !options.station) throw usageError('Say where the cards go: --out-dir DIR (one image per row) and/or --to DEV ... (the first card gets the first row, and so on).');
    } else {
      if (options.outDir) throw usageError('--out-dir is for --batch; for one card give --out FILE.');
      requireDestination(options);
      if (options.out) await assertOutputFile(path.resolve(ctx.io.cwd, options.out), '--out', options.out, 'card.img');
    }
    const { size, imageSize } = await layout(options, ctx);
    const edits: ConfigTxtEdit[] = [
      ...(options.configTxtPreset ?? []).flatMap((name) => [...configTxtPreset(name)]),
      ...(options.configTxt ?? []).map(parseConfigTxtArgument),
      ...(options.dtoverlay ?? []).map((value): ConfigTxtEdit => ({ kind: 'dtoverlay', value })),
    ];
    const settings = options.batch ? undefined : uefiSettingsFromOptions(options);
    if (options.refresh && options.firmware) throw usageError('--refresh downloads the firmware again; it is for --version (or the default download), not --firmware FILE.');
    let source = options.firmware ? path.resolve(ctx.io.cwd, options.firmware) : undefined;
    let download: Awaited<ReturnType<typeof fetchPftfFirmware<FirmwareFile[]>>> | undefined;
    let firmware: readonly FirmwareFile[];
    if (!source) {
      // The fetch opens the zip itself, so a damaged cached copy is replaced and a cut-short download never cached.
      download = await fetchPftfFirmware({
        version: firmwareVersion ?? PFTF_DEFAULT_VERSION,
        env: ctx.io.env,
        ...(options.cacheDir ? { cacheDir: path.resolve(ctx.io.cwd, options.cacheDir) } : {}),
        ...(options.refresh ? { refresh: true } : {}),
        open: (zip) => readFirmwareSource(zip, { partitionSize: size }),
        onWarning: (w) => ctx.warn(w),
        onProgress: progressPrinter(ctx, 'Downloading the UEFI firmware'),
      });
      if (!options.json) ctx.info(`${download.cached ? 'Using the cached' : 'Downloaded'} ${download.path} (SHA-256 ${download.sha256})`);
      source = download.path;
      firmware = download.opened;
    } else {
      firmware = await readFirmwareSource(source, { partitionSize: size });
    }
    const timestamp = sourceDateEpoch(ctx);
    const firmwareInfo = download ? { version: download.version, path: download.path, sha256: download.sha256, cached: download.cached } : { path: source };
    const compose = (cardSettings: UefiSettings | undefined, warnings: string[]) =>
      composeUefiCard({
        firmware,
        configTxt: edits,
        size,
        ...(imageSize !== undefined ? { imageSize } : {}),
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(cardSettings
          ? {
              transformRpiEfiFd: (fd: Uint8Array) => {
                const result = applyUefiSettings(fd, cardSettings);
                warnings.push(...result.warnings);
                return result.fd;
              },
            }
          : {}),
      });
    if (options.batch && options.station) {
      if (options.outDir) throw usageError('--station writes the cards; drop --out-dir (make the image files in a run of their own).');
      const cards = await checkBatch(options, firmware, ctx);
      const first = compose(cards[0]!.settings, []);
      const rows: StationRow[] = cards.map((c, index) => ({ index, name: c.row.name, line: c.row.line, detail: `MAC ${c.settings.pxeBootFirstMac}` }));
      await runStation({ size: first.size, rows, imageFor: (row) => compose(cards[row!.index]!.settings, []) }, `a UEFI card per Pi from ${options.batch}`, options, ctx);
      return;
    }
    if (options.batch) {
      await runBatch(await checkBatch(options, firmware, ctx), compose, firmwareInfo, options, ctx);
      return;
    }
    const warnings: string[] = [];
    const image = compose(settings, warnings);
    warnings.push(...image.warnings);
    for (const w of warnings) ctx.warn(w);
    const result = {
      ...summary(image, options.out ?? null),
      firmware: firmwareInfo,
      files: image.files,
      configTxt: image.configTxt,
      uefiSettings: settings ?? null,
      warnings,
    };
    const text = [
      `UEFI firmware card: ${formatBytes(image.size)}, ${image.files.length} files, partition type 0xef, ${formatBytes(dataBytes(image))} of data.`,
      'config.txt on the card:',
      image.configTxt.replace(/\n$/, '').split('\n').map((l) => `  ${l}`).join('\n'),
    ].join('\n');
    await report(image, result, text, options, ctx);
  });
}

/**
 * Makes the checked cards: DIR/<name>.img for every row (--out-dir), and with --to the first card gets
 * the first row, the second the second, one after another.
 */
async function runBatch(
  cards: readonly BatchCard[],
  compose: (settings: UefiSettings, warnings: string[]) => ReturnType<typeof composeUefiCard>,
  firmware: object,
  options: UefiCommandOptions,
  ctx: CliContext,
): Promise<void> {
  const targets = options.to ?? [];
  if (targets.length > cards.length) throw usageError(`${targets.length} cards (--to) but ${cards.length} Pis in ${options.batch}: each card gets one row, so give at most ${cards.length} --to.`);
  const outDir = options.outDir ? path.resolve(ctx.io.cwd, options.outDir) : undefined;
  if (outDir) await prepareOutputFolder(outDir, '--out-dir', options.outDir);
  // A warning every row has is said once; the others name their Pi.
  const common = cards[0]!.warnings.filter((w) => cards.every((c) => c.warnings.includes(w)));
  for (const w of common) ctx.warn(w);
  for (const card of cards) for (const w of card.warnings.filter((x) => !common.includes(x))) ctx.warn(`${card.row.name} (line ${card.row.line}): ${w}`);
  const results: object[] = [];
  for (const [index, card] of cards.entries()) {
    const image = compose(card.settings, []);
    // Every card has the same config.txt, so its missing overlays are said once.
    if (index === 0) for (const w of image.warnings) ctx.warn(w);
    const out = outDir ? path.join(outDir, `${card.row.name}.img`) : null;
    if (out) await saveSparseImage(image, out);
    const target = targets[index];
    if (target !== undefined) {
      ctx.info(`${card.row.name} (MAC ${card.settings.pxeBootFirstMac}) goes on ${target}:`);
      await writeToTargets(image, { ...options, to: [target] }, ctx);
    }
    results.push({ name: card.row.name, line: card.row.line, mac: card.settings.pxeBootFirstMac, out, to: target ?? null, uefiSettings: card.settings, warnings: card.warnings });
    if (!options.json) ctx.info(`${card.row.name}: ${[out, target].filter(Boolean).join(' and ')} (PXE first for ${card.settings.pxeBootFirstMac})`);
  }
  const left = cards.slice(targets.length).map((c) => c.row.name);
  if (targets.length && !outDir && left.length) ctx.warn(`not written (more Pis than --to cards): ${left.join(', ')}`);
  // With --to the writer owns stdout (each card's result, as JSON with --json), as for one card.
  if (options.json && targets.length === 0) ctx.printJson({ batch: options.batch, firmware, cards: results });
  else if (outDir && !options.json) ctx.print(`Wrote ${cards.length} card images to ${outDir}.`);
}

interface RecoveryCommandOptions extends OutputOptions {
  readonly board?: string;
  readonly preset?: string;
  readonly config?: string;
  readonly set?: string[];
  readonly firmwareDir?: string;
  readonly eeprom?: string;
  readonly recovery?: string;
  readonly vl805?: string;
  readonly timestamp?: string;
  readonly strict?: boolean;
  readonly signKey?: string;
  readonly batch?: string;
}

/** --set KEY=VALUE, read as `bootcard eeprom build --set` reads it. */
function parseSet(values: readonly string[]): Record<string, string> {
  const set: Record<string, string> = {};
  for (const v of values) {
    const { key, value } = parseAssignment(v);
    set[key] = value;
  }
  return set;
}

function registerRecovery(card: Command, ctx: CliContext): void {
  const cmd = card
    .command('recovery')
    .description('compose an EEPROM recovery card (the Pi flashes its bootloader from it at power-on) as an image file')
    .option('--board <2711|2712>', 'the board: 2711 (Pi 4, Pi 400, CM4) or 2712 (Pi 5, Pi 500, CM5)')
    .option('--preset <name>', `a named boot order: ${RECOVERY_PRESETS.join(', ')} (each listed below with its order)`)
    .option('--config <file>', 'a bootloader config file (bootconf.txt) instead of a preset')
    .option('--set <KEY=VALUE>', 'set a bootloader setting on top of the config, repeatable (e.g. BOOT_ORDER=0xf21)', collect)
    .option('--firmware-dir <dir>', 'an rpi-eeprom folder, e.g. /lib/firmware/raspberrypi/bootloader-2711/default: takes the newest pieeprom-*.bin, recovery.bin and (Pi 4) vl805-*.bin')
    .option('--eeprom <file>', 'the base pieeprom-*.bin (overrides --firmware-dir)')
    .option('--recovery <file>', 'recovery.bin (overrides --firmware-dir)')
    .option('--vl805 <file>', 'Pi 4 only: vl805-*.bin (overrides --firmware-dir)')
    .option('--timestamp <seconds>', 'the pieeprom.sig ts line and the file times (default $SOURCE_DATE_EPOCH, else now); pieeprom.bin keeps the release\'s bytes, as on Imager\'s cards')
    .option('--strict', 'treat config warnings as errors')
    .option('--sign-key <pem>', 'signed boot: sign the card\'s bootloader config with this RSA-2048 private key and embed bootconf.sig and pubkey.bin (as eeprom build --sign-key)')
    .option('--out <file>', 'write the card image to this file')
    .option('--size <size>', 'FAT partition size, e.g. 256M (default); under 32 GB; whole fills the card up to that (with --to)')
    .option('--batch <csv>', 'with --station: one card per Pi, a CSV with the header name,KEY1,KEY2,... (bootloader settings per Pi, as eeprom build --batch)')
    .option('--json', 'print the result as JSON');
  addStationOptions(addWriteTargetOptions(cmd));
  cmd.addHelpText('after', presetHelp());
  cmd.action(async (options: RecoveryCommandOptions) => {
      if (options.board !== '2711' && options.board !== '2712') throw usageError('Choose the board: --board 2711 (Pi 4) or --board 2712 (Pi 5).');
      const board = options.board;
      if (options.preset && options.config) throw usageError('Give either --preset or --config, not both.');
      if (!options.preset && !options.config) throw usageError(`Choose the bootloader config: --preset ${RECOVERY_PRESETS.join('|')} or --config FILE.`);
      if (options.preset && !(RECOVERY_PRESETS as readonly string[]).includes(options.preset)) {
        throw usageError(`Unknown --preset "${options.preset}": choose ${RECOVERY_PRESETS.join(', ')}.`);
      }
      if (!options.firmwareDir && !(options.eeprom && options.recovery)) {
        throw usageError('Say where the bootloader files are: --firmware-dir DIR, or --eeprom FILE --recovery FILE [--vl805 FILE].');
      }
      if (options.vl805 && board === '2712') throw usageError('--vl805 is for a Pi 4 (2711); a Pi 5 has no VL805 USB controller.');
      requireDestination(options);
      if (options.out) await assertOutputFile(path.resolve(ctx.io.cwd, options.out), '--out', options.out, 'card.img');
      const { size, imageSize } = await layout(options, ctx, EEPROM_CARD_MAX_PARTITION_BYTES);
      let timestamp: number;
      if (options.timestamp !== undefined) {
        if (!/^\d+$/.test(options.timestamp)) throw usageError(`--timestamp expects whole seconds since 1970, got "${options.timestamp}".`);
        timestamp = Number(options.timestamp);
      } else timestamp = sourceDateEpoch(ctx) ?? Math.floor(Date.now() / 1000);
      // UTF-8 or refused, as for `eeprom build --config`: the text goes into the image as is.
      const config = options.config ? await readTextFile(path.resolve(ctx.io.cwd, options.config), 'config') : undefined;
      const resolve = (file: string) => path.resolve(ctx.io.cwd, file);
      const paths = await resolveRecoveryFiles(board, {
        ...(options.firmwareDir ? { firmwareDir: resolve(options.firmwareDir) } : {}),
        ...(options.eeprom ? { eeprom: resolve(options.eeprom) } : {}),
        ...(options.recovery ? { recovery: resolve(options.recovery) } : {}),
        ...(options.vl805 ? { vl805: resolve(options.vl805) } : {}),
      });
      const bytes = await readRecoveryFiles(paths);
      const signKey = options.signKey ? loadSigningKey(await readTextFile(resolve(options.signKey), 'private key'), options.signKey) : undefined;
      if (options.batch) {
        if (!options.station || options.out || (options.to ?? []).length) throw usageError('card recovery --batch makes one card per Pi with --station (each card put in gets the next row); drop --out and --to.');
        if (options.set?.length) throw usageError('--batch takes the per-Pi keys from the CSV; put common keys in --config.');
        const csv = await readTextFile(resolve(options.batch), 'batch file');
        const plan = planBatch({ base: bytes.pieeprom, csv, config: config ?? recoveryPresetConfig(board, options.preset!), strict: options.strict ?? false, signed: signKey !== undefined });
        const composeRow = (rowConfig: string) =>
          composeRecoveryCard({
            ...(signKey ? { signConfig: configSigner(signKey, timestamp) } : {}),
            board,
            pieeprom: bytes.pieeprom,
            recovery: bytes.recovery,
            ...(bytes.vl805 ? { vl805: bytes.vl805 } : {}),
            config: rowConfig,
            timestamp,
            strict: options.strict ?? false,
            size,
          });
        // Every row is composed once now, so a row that cannot make a card stops the station before it starts.
        const sizes = plan.rows.map((r) => composeRow(r.config).size);
        const rows: StationRow[] = plan.rows.map((r, index) => ({ index, name: r.name, line: r.line }));
        await runStation({ size: Math.max(...sizes), rows, imageFor: (row) => composeRow(plan.rows[row!.index]!.config) }, `an EEPROM recovery card per Pi from ${options.batch}`, options, ctx);
        return;
      }
      const image = composeRecoveryCard({
        ...(signKey ? { signConfig: configSigner(signKey, timestamp) } : {}),
        board,
        pieeprom: bytes.pieeprom,
        recovery: bytes.recovery,
        ...(bytes.vl805 ? { vl805: bytes.vl805 } : {}),
        ...(options.preset ? { preset: options.preset as RecoveryPreset } : {}),
        ...(config !== undefined ? { config } : {}),
        ...(options.set?.length ? { set: parseSet(options.set) } : {}),
        timestamp,
        strict: options.strict ?? false,
        size,
        ...(imageSize !== undefined ? { imageSize } : {}),
      });
      for (const d of image.diagnostics) ctx.warn(`${d.line ? `line ${d.line}: ` : ''}${d.message}`);
      const preset = options.preset && isBootPresetName(options.preset) ? { name: options.preset, origin: bootPreset(options.preset).origin, bootOrder: bootPresetHex(options.preset, board), words: bootPresetWords(options.preset, board) } : null;
      const result = { ...summary(image, options.out ?? null), board, timestamp, sources: paths, files: image.files, config: image.config, preset };
      const text = [
        `EEPROM recovery card for a ${board === '2711' ? 'Pi 4 (2711)' : 'Pi 5 (2712)'}: ${image.files.map((f) => f.path).join(', ')}.`,
        ...(preset ? [`Preset ${preset.name} (${preset.origin}): ${preset.words}.`] : []),
        `From ${paths.pieeprom}; bootloader config:`,
        image.config.replace(/\n+$/, '').split('\n').map((l) => `  ${l}`).join('\n'),
      ].join('\n');
      await report(image, result, text, options, ctx);
    });
}

/** The presets with their orders in words, per board where they differ (the wizard shows the same). */
function presetHelp(): string {
  const lines = ['', 'Presets (--preset NAME), first boot mode tried first:'];
  for (const p of BOOT_PRESETS) {
    const pi4 = bootPresetWords(p.name, '2711');
    const pi5 = bootPresetWords(p.name, '2712');
    lines.push(`  ${p.name.padEnd(14)} ${p.title}, ${p.origin}`);
    if (pi4 === pi5) lines.push(`  ${''.padEnd(14)} ${pi4}`);
    else lines.push(`  ${''.padEnd(14)} Pi 4: ${pi4}`, `  ${''.padEnd(14)} Pi 5: ${pi5}`);
  }
  return lines.join('\n');
}

function registerInspect(card: Command, ctx: CliContext): void {
  card
    .command('inspect')
    .description('show the partition table, files, config.txt and bootloader config of a card or card image')
    .argument('<image|device>', 'an image file or a block device such as /dev/mmcblk0 (read only)')
    .option('--json', 'print JSON')
    .action(async (target: string, options: { json?: boolean }) => {
      const reader = await openByteReader(path.resolve(ctx.io.cwd, target));
      try {
        const inspection = await inspectCard(reader);
        if (options.json) ctx.printJson(inspection);
        else ctx.print(formatInspection(inspection));
      } finally {
        await reader.close();
      }
    });
}

export function registerCardCommands(program: Command, ctx: CliContext): void {
  const card = program.command('card').description('compose UEFI firmware and EEPROM recovery cards; inspect cards');
  registerUefi(card, ctx);
  registerRecovery(card, ctx);
  registerInspect(card, ctx);
}
