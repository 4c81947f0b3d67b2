/**
 * `bootcard eeprom read|build|validate|explain|extract|sign|verify|boot-image`:
 * the bootloader EEPROM image (pieeprom.bin) and its config, byte-identical to
 * rpi-eeprom-config; signed configs and .sig files as rpi-eeprom-digest makes
 * them; the boot.img of HTTP boot.
 */
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';
import { assertOutputFile, assertOutputFolder, prepareOutputFolder } from '../outputs.js';
import { BootcardError } from '../../core/errors.js';
import {
  EepromErrorCode,
  createBatchBuilder,
  buildPieeprom,
  checkTimestamp,
  explainBootOrder,
  explainConfig,
  formatDiagnostic,
  formatExplanation,
  hasErrors,
  makePieepromSig,
  parseAssignment,
  parseBootOrder,
  parseEepromImage,
  planBatch,
  readBootConf,
  readBootConfBytes,
  readUpdateTimestamp,
  validateBootConf,
  getEepromFileAt,
  bootConfCapacity,
  type Board,
  type Diagnostic,
  type Sha256Hex,
  type IncrementalSha256,
  type Sha256Factory,
} from '../../core/eeprom/index.js';
import { pathExists, readBinaryFile, readConfigOrImage, readEepromImageFile, readTextFile, writeFilesAtomically, type OutputFile } from '../../core/eeprom/files.io.js';
import { writeBatchAtomically, type BatchTarget } from '../../core/eeprom/batch-write.io.js';
import { composeBootImage, bootImageWarnings } from '../../core/eeprom/boot-image.js';
import { readBootFolder, readImageBootPartition } from '../../core/eeprom/boot-image.io.js';
import { CACERT_DER } from '../../core/eeprom/image.js';
import { configSigner, loadSigningKey, loadVerifyKey, makeSignedSig, pubkeyBinFor, verifySignedSig } from '../../core/eeprom/signing.io.js';
import type { KeyObject } from 'node:crypto';

const BOARDS: readonly Board[] = ['2711', '2712'];
const BOARD_NAME: Record<Board, string> = { '2711': 'Pi 4 (BCM2711)', '2712': 'Pi 5 (BCM2712)' };

/** Node's SHA-256 (native, ~10x the pure one) for the CLI's .sig files. */
export const sha256HexNode: Sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');

function wrapNodeHash(h: Hash): IncrementalSha256 {
  return {
    update(data) {
      h.update(data);
      return this;
    },
    clone: () => wrapNodeHash(h.copy()),
    digestHex: () => h.digest('hex'),
  };
}
/** The same for the batch builder, which forks the hash of the unchanged prefix per row. */
export const nodeSha256Factory: Sha256Factory = () => wrapNodeHash(createHash('sha256'));

const collect = (value: string, previous: string[] = []) => [...previous, value];

function boardOption(): Option {
  return new Option('--board <board>', 'the board: 2711 (Pi 4 family) or 2712 (Pi 5 family)').choices(['2711', '2712']);
}

function resolve(ctx: CliContext, file: string): string {
  return path.resolve(ctx.io.cwd, file);
}

function parseTimestamp(text: string): number {
  if (!/^\d+$/.test(text.trim())) {
    throw new BootcardError(EepromErrorCode.BAD_TIMESTAMP, `--timestamp wants whole seconds since 1970 (e.g. $(date +%s)); got "${text}".`);
  }
  return checkTimestamp(Number(text.trim()));
}

/** rpi-eeprom-config's pemtobin: an RSA-2048 key (PEM: public, or private whose public half is used) as the bootloader's pubkey.bin. */
export function pemToPubkeyBin(pem: string, file: string): Uint8Array {
  return pubkeyBinFor(loadVerifyKey(pem, file));
}

/** Reads a private signing key; the passphrase, if any, is the first line of `passphraseFile`. */
async function readSigningKey(ctx: CliContext, keyFile: string, passphraseFile?: string): Promise<KeyObject> {
  const pem = await readTextFile(resolve(ctx, keyFile), 'private key');
  const passphrase = passphraseFile !== undefined ? (await readTextFile(resolve(ctx, passphraseFile), 'passphrase file')).split(/\r?\n/)[0] : undefined;
  return loadSigningKey(pem, keyFile, passphrase);
}

/** Files that get signed (bootconf.txt, pieeprom.bin, boot.img) are read whole; a boot.img is at most a few hundred MiB. */
const MAX_SIGNED_FILE_BYTES = 1024 * 1024 * 1024;

/** The .sig beside an image: pieeprom.bin -> pieeprom.sig; other names get .sig appended. */
export function sigPathFor(imagePath: string): string {
  return /\.(bin|upd)$/i.test(imagePath) ? imagePath.replace(/\.(bin|upd)$/i, '.sig') : `${imagePath}.sig`;
}

/** rpi-eeprom-digest's default: $SOURCE_DATE_EPOCH, else now. */
function defaultTimestamp(ctx: CliContext): number {
  const env = ctx.io.env.SOURCE_DATE_EPOCH;
  if (env !== undefined && env !== '') return parseTimestamp(env);
  return Math.floor(Date.now() / 1000);
}

function printDiagnostics(ctx: CliContext, diagnostics: readonly Diagnostic[], prefix = ''): void {
  for (const d of diagnostics) {
    if (d.severity === 'warning') ctx.warn(`${prefix}${formatDiagnostic(d).replace(/^warning: /, '')}`);
    else ctx.info(`${prefix}${formatDiagnostic(d)}`);
  }
}

interface BuildOpts {
  base: string;
  config?: string;
  digest?: string;
  pubkey?: string;
  set?: string[];
  unset?: string[];
  section?: string;
  timestamp?: string;
  stampImage?: boolean;
  signKey?: string;
  passphraseFile?: string;
  cacert?: string;
  sig?: boolean;
  targetSoc?: boolean;
  strict?: boolean;
  out?: string;
  batch?: string;
  outDir?: string;
  force?: boolean;
  json?: boolean;
}

export function registerEepromCommands(program: Command, ctx: CliContext): void {
  const eeprom = program
    .command('eeprom')
    .description('read, check, explain and build Raspberry Pi 4/5 bootloader EEPROM images (pieeprom.bin)');

  eeprom
    .command('read')
    .description('print the bootloader config (bootconf.txt) of an EEPROM image exactly as stored (like `rpi-eeprom-config IMAGE`)')
    .argument('<image>', 'a pieeprom.bin (512 KiB Pi 4 or 2 MiB Pi 5 image)')
    .option('--json', 'print JSON: board, config, free bytes, files')
    .action(async (imageArg: string, options: { json?: boolean }) => {
      const bytes = await readEepromImageFile(resolve(ctx, imageArg));
      const image = parseEepromImage(bytes);
      if (options.json) {
        ctx.printJson({
          board: image.board,
          config: readBootConf(bytes, image),
          configBytes: readBootConfBytes(bytes, image).length,
          freeBytes: bootConfCapacity(image),
          // Where rpi-eeprom-config --timestamp put one; null when none is set.
          updateTimestamp: readUpdateTimestamp(bytes, image) ?? null,
          files: image.files,
        });
        return;
      }
      ctx.write(readBootConf(bytes, image));
    });

  eeprom
    .command('build')
    .description('write a new EEPROM image with a changed bootloader config (byte-identical to rpi-eeprom-config); nothing is written on any error')
    .requiredOption('--base <image>', 'the pieeprom.bin to start from')
    .option('--config <file>', 'a bootconf.txt replacing the base image\'s config (--set applies on top)')
    .option('--set <KEY=VALUE>', 'set a key (repeatable)', collect)
    .option('--unset <KEY>', 'remove a key (repeatable)', collect)
    .option('--section <filter>', 'the [section] --set/--unset work in (default: the lines for every board; e.g. gpio8=0)')
    .option('--digest <file>', 'also replace bootconf.sig with this file (from rpi-eeprom-digest -k, for signed boot), like rpi-eeprom-config --digest')
    .option('--pubkey <pem>', 'also replace pubkey.bin with this RSA-2048 public key (PEM), like rpi-eeprom-config --pubkey')
    .option('--timestamp <epoch>', 'the update timestamp, as rpi-eeprom-config --timestamp: written into the image (seconds since 1970) and into the .sig ts line')
    .option('--stamp-image', 'write the update timestamp into the image: --timestamp\'s, else $SOURCE_DATE_EPOCH or now (older spelling; --timestamp alone now does it)')
    .option('--sign-key <pem>', 'signed boot: sign the config with this RSA-2048 private key and embed bootconf.sig and pubkey.bin (like rpi-eeprom-digest -k + rpi-eeprom-config --digest --pubkey)')
    .option('--passphrase-file <file>', 'with --sign-key: the key\'s passphrase (first line of this file)')
    .option('--cacert <der>', 'HTTPS to your own server: embed this DER CA certificate as cacert.der and set HTTP_CACERT_HASH to its SHA-256 (like rpi-eeprom-config --cacertder)')
    .option('--sig', 'also write the matching .sig (sha256 + ts) beside the output')
    .option('--target-soc', 'add the target-soc line to the .sig (newer rpi-eeprom-digest -c)')
    .option('--strict', 'treat warnings as errors')
    .option('--out <file>', 'the image to write')
    .option('--batch <csv>', 'one image per row of a CSV: header name,KEY1,KEY2,... (needs --out-dir)')
    .option('--out-dir <dir>', 'with --batch: writes DIR/<name>/pieeprom.bin and pieeprom.sig per row')
    .option('--force', 'with --batch: replace existing outputs')
    .option('--json', 'print JSON')
    .action(async (options: BuildOpts) => {
      if (options.batch !== undefined) {
        if (options.out !== undefined) throw usageError('--batch writes into --out-dir; do not give --out.');
        if (options.outDir === undefined) throw usageError('--batch needs --out-dir DIR.');
        if ((options.set?.length ?? 0) > 0 || (options.unset?.length ?? 0) > 0) throw usageError('--batch takes its keys from the CSV; put common keys in --config.');
        if (options.pubkey !== undefined || options.digest !== undefined) {
          throw usageError('--batch does not take --pubkey or --digest (one signature cannot fit every row): give --sign-key KEY.pem and every row is signed.');
        }
        if (options.cacert !== undefined) throw usageError('--batch does not take --cacert: build a base with it first (bootcard eeprom build --base IMAGE --cacert FILE.der --out base.bin) and batch from that base.');
        await buildBatch(ctx, options);
        return;
      }
      if (options.out === undefined) throw usageError('build needs --out FILE (or --batch CSV --out-dir DIR).');
      if (options.outDir !== undefined) throw usageError('--out-dir is for --batch.');
      if (options.targetSoc && !options.sig) throw usageError('--target-soc adds a line to the .sig file: add --sig.');
      if (options.signKey !== undefined && (options.pubkey !== undefined || options.digest !== undefined)) {
        throw usageError('--sign-key makes bootconf.sig and pubkey.bin itself: do not also give --digest or --pubkey.');
      }
      if (options.passphraseFile !== undefined && options.signKey === undefined) throw usageError('--passphrase-file is for --sign-key.');
      const set: Record<string, string> = {};
      for (const a of options.set ?? []) {
        const { key, value } = parseAssignment(a);
        set[key] = value;
      }
      // rpi-eeprom-config --timestamp: the image carries it; the .sig's ts is the same time.
      const updateTimestamp = options.timestamp !== undefined ? parseTimestamp(options.timestamp) : options.stampImage ? defaultTimestamp(ctx) : undefined;
      const timestamp = updateTimestamp ?? defaultTimestamp(ctx);
      const base = await readEepromImageFile(resolve(ctx, options.base));
      const config = options.config !== undefined ? await readTextFile(resolve(ctx, options.config), 'config') : undefined;
      const files: { 'bootconf.sig'?: Uint8Array; 'pubkey.bin'?: Uint8Array; 'cacert.der'?: Uint8Array } = {};
      if (options.digest !== undefined) files['bootconf.sig'] = await readBinaryFile(resolve(ctx, options.digest), 'signature');
      if (options.pubkey !== undefined) files['pubkey.bin'] = pemToPubkeyBin(await readTextFile(resolve(ctx, options.pubkey), 'public key'), options.pubkey);
      if (options.cacert !== undefined) {
        const der = await readBinaryFile(resolve(ctx, options.cacert), 'CA certificate');
        files[CACERT_DER] = der;
        set.HTTP_CACERT_HASH = createHash('sha256').update(der).digest('hex');
      }
      const key = options.signKey !== undefined ? await readSigningKey(ctx, options.signKey, options.passphraseFile) : undefined;
      const built = buildPieeprom({
        files,
        base,
        set,
        unset: options.unset ?? [],
        strict: options.strict ?? false,
        timestamp,
        ...(config !== undefined ? { config } : {}),
        ...(options.section !== undefined ? { section: options.section } : {}),
        ...(updateTimestamp !== undefined ? { updateTimestamp } : {}),
        ...(key ? { signConfig: configSigner(key, timestamp) } : {}),
      });
      const outPath = resolve(ctx, options.out);
      await assertOutputFile(outPath, '--out', options.out);
      const outputs: OutputFile[] = [{ path: outPath, data: built.image }];
      let sigPath: string | undefined;
      if (options.sig) {
        sigPath = sigPathFor(outPath);
        const sig = makePieepromSig(built.image, timestamp, {
          sha256Hex: sha256HexNode,
          ...(options.targetSoc ? { targetSoc: built.board } : {}),
        });
        outputs.push({ path: sigPath, data: sig });
      }
      await writeFilesAtomically(outputs);
      if (options.json) {
        ctx.printJson({ out: outPath, sig: sigPath ?? null, board: built.board, configBytes: new TextEncoder().encode(built.config).length, freeBytes: built.freeBytes, signed: key !== undefined, updateTimestamp: updateTimestamp ?? null, diagnostics: built.diagnostics });
        return;
      }
      printDiagnostics(ctx, built.diagnostics);
      ctx.print(`Wrote ${outPath} (${BOARD_NAME[built.board]}, config ${new TextEncoder().encode(built.config).length} of ${built.freeBytes} bytes${key ? ', config signed, pubkey.bin embedded' : ''}${updateTimestamp !== undefined ? `, update timestamp ${updateTimestamp}` : ''})${sigPath ? ` and ${sigPath}` : ''}.`);
    });

  eeprom
    .command('validate')
    .description('check a bootloader config (or the config inside an image) before it goes on a Pi; exit 1 on errors')
    .argument('<file>', 'a bootconf.txt, or a pieeprom.bin')
    .addOption(boardOption())
    .option('--image <image>', 'also check the config fits the free space of this pieeprom.bin')
    .option('--strict', 'treat warnings as errors')
    .option('--json', 'print JSON')
    .action(async (fileArg: string, options: { board?: Board; image?: string; strict?: boolean; json?: boolean }) => {
      const input = await readConfigOrImage(resolve(ctx, fileArg));
      let text: string;
      let boards: readonly Board[] = options.board ? [options.board] : BOARDS;
      let freeBytes: number | undefined;
      if (input.kind === 'image') {
        const image = parseEepromImage(input.bytes);
        text = readBootConf(input.bytes, image);
        if (options.board && options.board !== image.board) throw usageError(`${fileArg} is a ${BOARD_NAME[image.board]} image, not ${options.board}.`);
        boards = [image.board];
        freeBytes = bootConfCapacity(image);
      } else {
        text = input.text;
      }
      if (options.image !== undefined) {
        const bytes = await readEepromImageFile(resolve(ctx, options.image));
        const image = parseEepromImage(bytes);
        if (options.board && options.board !== image.board) throw usageError(`${options.image} is a ${BOARD_NAME[image.board]} image, not ${options.board}.`);
        boards = [image.board];
        freeBytes = bootConfCapacity(image);
      }
      const results = boards.map((board) => ({ board, diagnostics: validateBootConf(text, { board, ...(freeBytes !== undefined ? { freeBytes } : {}) }) }));
      const failed = results.some((r) => hasErrors(r.diagnostics) || (options.strict && r.diagnostics.length > 0));
      // A failure under --json is the error object alone (its details carry the results).
      if (options.json) {
        if (!failed) ctx.printJson({ ok: true, results });
      } else {
        const same = results.length === 2 && JSON.stringify(results[0]!.diagnostics) === JSON.stringify(results[1]!.diagnostics);
        for (const r of same ? results.slice(0, 1) : results) {
          printDiagnostics(ctx, r.diagnostics, results.length > 1 && !same ? `${BOARD_NAME[r.board]}: ` : '');
        }
        const boardsText = same || results.length === 1 ? results.map((r) => BOARD_NAME[r.board]).join(' and ') : 'both boards';
        if (!failed) ctx.print(`OK: the config is valid for the ${boardsText}${freeBytes !== undefined ? ` and fits (${new TextEncoder().encode(text).length} of ${freeBytes} bytes)` : ''}.`);
      }
      if (failed) {
        const errors = results.flatMap((r) => r.diagnostics.filter((d) => d.severity === 'error' || options.strict));
        throw new BootcardError(EepromErrorCode.INVALID_CONFIG, `The config has ${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}${options.board || input.kind === 'image' || options.image ? '' : ' (checked for both Pi 4 and Pi 5; pass --board to check one)'}.`, { results });
      }
    });

  eeprom
    .command('explain')
    .description('say in words what a config, an image\'s config, or a BOOT_ORDER value does')
    .argument('[file]', 'a bootconf.txt or a pieeprom.bin')
    .option('--boot-order <hex>', 'explain this BOOT_ORDER value, e.g. 0xf142')
    .addOption(boardOption())
    .option('--json', 'print JSON')
    .action(async (fileArg: string | undefined, options: { bootOrder?: string; board?: Board; json?: boolean }) => {
      if ((fileArg === undefined) === (options.bootOrder === undefined)) throw usageError('give a FILE or --boot-order HEX (one of them).');
      if (options.bootOrder !== undefined) {
        const board = options.board ?? '2711';
        const order = parseBootOrder(options.bootOrder, board);
        const errors = order.diagnostics.filter((d) => d.severity === 'error');
        if (errors.length > 0) {
          if (!options.json) printDiagnostics(ctx, order.diagnostics.filter((d) => d.severity === 'warning'));
          throw new BootcardError(EepromErrorCode.BAD_BOOT_ORDER, errors.map((d) => d.message).join(' '), { board, value: order.hex, diagnostics: order.diagnostics });
        }
        if (options.json) {
          ctx.printJson({ board, value: order.hex, explanation: explainBootOrder(options.bootOrder, board), steps: order.steps, ending: order.ending, diagnostics: order.diagnostics });
          return;
        }
        ctx.print(explainBootOrder(options.bootOrder, board));
        printDiagnostics(ctx, order.diagnostics);
        return;
      }
      const input = await readConfigOrImage(resolve(ctx, fileArg!));
      let text: string;
      let board: Board = options.board ?? '2711';
      if (input.kind === 'image') {
        const image = parseEepromImage(input.bytes);
        text = readBootConf(input.bytes, image);
        board = image.board;
      } else {
        text = input.text;
      }
      const explanation = explainConfig(text, board);
      if (options.json) ctx.printJson(explanation);
      else ctx.print(formatExplanation(explanation));
    });

  eeprom
    .command('extract')
    .description('write every modifiable file of an image (bootconf.txt, bootconf.sig, pubkey.bin, ...) into a folder')
    .argument('<image>', 'a pieeprom.bin')
    .requiredOption('--out-dir <dir>', 'the folder to write into')
    .option('--force', 'replace existing files')
    .option('--json', 'print JSON')
    .action(async (imageArg: string, options: { outDir: string; force?: boolean; json?: boolean }) => {
      const bytes = await readEepromImageFile(resolve(ctx, imageArg));
      const image = parseEepromImage(bytes);
      const dir = resolve(ctx, options.outDir);
      await prepareOutputFolder(dir, '--out-dir', options.outDir);
      const used = new Map<string, number>();
      const files: OutputFile[] = [];
      for (const entry of image.files) {
        const safe = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(entry.name) ? entry.name : `file-0x${entry.offset.toString(16)}`;
        const n = (used.get(safe) ?? 0) + 1;
        used.set(safe, n);
        // The Pi 5 image has two updatetime files: the second is named updatetime.2.
        const name = n === 1 ? safe : `${safe}.${n}`;
        files.push({ path: path.join(dir, name), data: getEepromFileAt(bytes, entry) });
      }
      if (!options.force) {
        const existing: string[] = [];
        for (const f of files) if (await pathExists(f.path)) existing.push(f.path);
        if (existing.length > 0) throw new BootcardError(EepromErrorCode.OUTPUT_EXISTS, `These files already exist; pass --force to replace them: ${existing.join(', ')}`);
      }
      await writeFilesAtomically(files);
      if (options.json) ctx.printJson({ board: image.board, files: files.map((f) => ({ path: f.path, bytes: f.data.length })) });
      else for (const f of files) ctx.print(`${f.path} (${f.data.length} bytes)`);
    });

  eeprom
    .command('sign')
    .description('write a signed .sig for a file, byte-identical to rpi-eeprom-digest -k KEY -i FILE -o SIG (sha256, ts, target-soc, rsa2048)')
    .argument('<file>', 'the file to sign: a bootconf.txt, a boot.img, a pieeprom.bin')
    .requiredOption('--key <pem>', 'the RSA-2048 private key (PEM)')
    .option('--passphrase-file <file>', 'the key\'s passphrase (first line of this file)')
    .option('--timestamp <epoch>', 'the ts line (seconds since 1970; default $SOURCE_DATE_EPOCH, else now)')
    .addOption(new Option('--target-soc <soc>', 'add target-soc: 2711 or 2712 (rpi-eeprom-digest -c)').choices(['2711', '2712']))
    .requiredOption('--out <sig>', 'the .sig to write')
    .option('--json', 'print JSON')
    .action(async (fileArg: string, options: { key: string; passphraseFile?: string; timestamp?: string; targetSoc?: Board; out: string; json?: boolean }) => {
      const timestamp = options.timestamp !== undefined ? parseTimestamp(options.timestamp) : defaultTimestamp(ctx);
      const key = await readSigningKey(ctx, options.key, options.passphraseFile);
      const data = await readBinaryFile(resolve(ctx, fileArg), 'file to sign', MAX_SIGNED_FILE_BYTES);
      const sig = makeSignedSig(data, key, { timestamp, ...(options.targetSoc ? { targetSoc: options.targetSoc } : {}) });
      const out = resolve(ctx, options.out);
      await assertOutputFile(out, '--out', options.out, 'pieeprom.sig');
      await writeFilesAtomically([{ path: out, data: sig }]);
      if (options.json) ctx.printJson({ file: resolve(ctx, fileArg), sig: out, ts: timestamp, targetSoc: options.targetSoc ?? null });
      else ctx.print(`Wrote ${out} (RSA-2048 signature of ${fileArg}, ts ${timestamp}).`);
    });

  eeprom
    .command('verify')
    .description('check a signed .sig against its file and a public key (like rpi-eeprom-digest -k PUBLIC -i FILE -v SIG); exit 0 when it verifies, 1 when not')
    .argument('<file>', 'the signed file')
    .requiredOption('--sig <sig>', 'its .sig')
    .requiredOption('--key <pem>', 'the RSA-2048 public key (PEM)')
    .option('--json', 'print JSON')
    .action(async (fileArg: string, options: { sig: string; key: string; json?: boolean }) => {
      const key = loadVerifyKey(await readTextFile(resolve(ctx, options.key), 'public key'), options.key);
      const data = await readBinaryFile(resolve(ctx, fileArg), 'signed file', MAX_SIGNED_FILE_BYTES);
      const sigText = await readTextFile(resolve(ctx, options.sig), 'signature');
      const verified = verifySignedSig(data, sigText, key, { file: fileArg, sig: options.sig });
      if (options.json) ctx.printJson({ ok: true, file: resolve(ctx, fileArg), sig: resolve(ctx, options.sig), ...verified });
      else ctx.print(`OK: ${options.sig} is a valid RSA-2048 signature of ${fileArg}${verified.ts !== undefined ? ` (ts ${verified.ts})` : ''}.`);
    });

  eeprom
    .command('boot-image')
    .description('make the boot.img (and boot.sig) that HTTP boot (BOOT_ORDER mode 7) and network install download: a FAT image of a boot folder, composed without mount or mkfs')
    .option('--boot-dir <dir>', 'a folder with the boot files (config.txt, kernel, .dtb files, overlays/)')
    .option('--image <os.img>', 'or an OS image: its boot (first FAT32) partition')
    .requiredOption('--out <boot.img>', 'the boot.img to write; boot.sig goes beside it')
    .option('--sign-key <pem>', 'sign boot.sig with this RSA-2048 private key (needed for your own HTTP_HOST: put the public key in the EEPROM with eeprom build --sign-key or --pubkey)')
    .option('--passphrase-file <file>', 'with --sign-key: the key\'s passphrase (first line of this file)')
    .option('--timestamp <epoch>', 'file times and the boot.sig ts line (seconds since 1970; default $SOURCE_DATE_EPOCH, else now)')
    .option('--json', 'print JSON')
    .action(async (options: { bootDir?: string; image?: string; out: string; signKey?: string; passphraseFile?: string; timestamp?: string; json?: boolean }) => {
      if ((options.bootDir === undefined) === (options.image === undefined)) throw usageError('give --boot-dir DIR or --image OS.img (one of them).');
      if (options.passphraseFile !== undefined && options.signKey === undefined) throw usageError('--passphrase-file is for --sign-key.');
      const timestamp = options.timestamp !== undefined ? parseTimestamp(options.timestamp) : defaultTimestamp(ctx);
      const key = options.signKey !== undefined ? await readSigningKey(ctx, options.signKey, options.passphraseFile) : undefined;
      const files = options.bootDir !== undefined ? await readBootFolder(resolve(ctx, options.bootDir)) : await readImageBootPartition(resolve(ctx, options.image!));
      const bootImage = composeBootImage({ files, timestamp });
      const sig = key ? makeSignedSig(bootImage.bytes, key, { timestamp }) : makePieepromSig(bootImage.bytes, timestamp, { sha256Hex: sha256HexNode });
      const out = resolve(ctx, options.out);
      await assertOutputFile(out, '--out', options.out, 'boot.img');
      const sigPath = path.join(path.dirname(out), 'boot.sig');
      await writeFilesAtomically([{ path: out, data: bootImage.bytes }, { path: sigPath, data: sig }]);
      const warnings = bootImageWarnings(files.filter((f) => !f.directory).map((f) => f.path), bootImage.contentBytes);
      if (options.json) {
        ctx.printJson({ out, sig: sigPath, bytes: bootImage.bytes.length, files: bootImage.fileCount, contentBytes: bootImage.contentBytes, signed: key !== undefined, warnings });
        return;
      }
      for (const w of warnings) ctx.warn(w);
      if (!key) ctx.warn('boot.sig is not signed (no --sign-key): "All HTTP downloads must be signed", so a Pi takes this boot.img only where its bootloader does not check signatures; sign it with the key whose public half is in your EEPROM.');
      ctx.print(`Wrote ${out} (${bootImage.fileCount} files, ${Math.ceil(bootImage.bytes.length / 1048576)} MiB FAT32) and ${sigPath}${key ? ' (signed)' : ''}.`);
    });
}

async function buildBatch(ctx: CliContext, options: BuildOpts): Promise<void> {
  const updateTimestamp = options.timestamp !== undefined ? parseTimestamp(options.timestamp) : options.stampImage ? defaultTimestamp(ctx) : undefined;
  const timestamp = updateTimestamp ?? defaultTimestamp(ctx);
  const base = await readEepromImageFile(resolve(ctx, options.base));
  const image = parseEepromImage(base);
  const csv = await readTextFile(resolve(ctx, options.batch!), 'CSV');
  const config = options.config !== undefined ? await readTextFile(resolve(ctx, options.config), 'config') : undefined;
  const key = options.signKey !== undefined ? await readSigningKey(ctx, options.signKey, options.passphraseFile) : undefined;
  const plan = planBatch({
    base,
    csv,
    strict: options.strict ?? false,
    signed: key !== undefined,
    ...(config !== undefined ? { config } : {}),
    ...(options.section !== undefined ? { section: options.section } : {}),
  }, image);
  const dir = resolve(ctx, options.outDir!);
  // The batch writer makes the folder itself (and removes it again when the batch fails), so only the folder above it is checked here.
  if (await pathExists(dir)) await assertOutputFolder(dir, '--out-dir', options.outDir);
  else await assertOutputFolder(path.dirname(dir), '--out-dir', options.outDir);
  const rows = plan.rows.map((row) => ({ row, bin: path.join(dir, row.name, 'pieeprom.bin'), sig: path.join(dir, row.name, 'pieeprom.sig') }));
  if (!options.force) {
    const existing: string[] = [];
    for (const t of rows) {
      if (await pathExists(t.bin)) existing.push(t.bin);
      if (await pathExists(t.sig)) existing.push(t.sig);
    }
    if (existing.length > 0) {
      throw new BootcardError(EepromErrorCode.BAD_BATCH, `The batch would replace ${existing.length} existing files (e.g. ${existing[0]}); pass --force to replace them. No files were written.`);
    }
  }
  const build = createBatchBuilder(base, image, {
    timestamp,
    sha256: nodeSha256Factory,
    ...(updateTimestamp !== undefined ? { updateTimestamp } : {}),
    ...(options.targetSoc ? { targetSoc: plan.board } : {}),
    ...(key ? { sign: { pubkeyBin: pubkeyBinFor(key), bootconfSig: (c: Uint8Array) => new TextEncoder().encode(makeSignedSig(c, key, { timestamp })) } } : {}),
  });
  // The .sig is 64 hex + "\nts: N\n" (+ target-soc): under 128 bytes.
  const targets: BatchTarget[] = rows.flatMap((t) => [{ path: t.bin, size: base.length }, { path: t.sig, size: 128 }]);
  let current: ReturnType<typeof build> | undefined;
  // Rows are built in order, image then .sig; built.image is reused by the next row, and each file is written before the next is asked for.
  await writeBatchAtomically(dir, targets, (i) => {
    if (i % 2 === 0) {
      current = build(rows[i / 2]!.row);
      return current.image;
    }
    return current!.sig;
  });
  const warnings = plan.rows.flatMap((r) => r.diagnostics.map((d) => ({ ...d, name: r.name })));
  if (options.json) {
    ctx.printJson({ board: plan.board, outDir: dir, signed: key !== undefined, updateTimestamp: updateTimestamp ?? null, rows: rows.map((t) => ({ name: t.row.name, line: t.row.line, image: t.bin, sig: t.sig })), warnings });
    return;
  }
  for (const r of plan.rows) printDiagnostics(ctx, r.diagnostics, `${r.name}: `);
  ctx.print(`Wrote ${rows.length} ${BOARD_NAME[plan.board]} images${key ? ' (each config signed)' : ''} with .sig files into ${dir}.`);
}
