/**
 * `bootcard eeprom read|build|validate|explain|extract`: the bootloader EEPROM
 * image (pieeprom.bin) and its config, byte-identical to rpi-eeprom-config.
 */
import { createHash, createPublicKey, type Hash } from 'node:crypto';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';
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
  validateBootConf,
  rsaPublicKeyToBin,
  getEepromFileAt,
  bootConfCapacity,
  type Board,
  type Diagnostic,
  type Sha256Hex,
  type IncrementalSha256,
  type Sha256Factory,
} from '../../core/eeprom/index.js';
import { pathExists, readBinaryFile, readConfigOrImage, readEepromImageFile, readTextFile, writeFilesAtomically, type OutputFile } from '../../core/eeprom/files.io.js';

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

/** rpi-eeprom-config's pemtobin: an RSA-2048 public key (PEM, PKCS#1 or SPKI) in the bootloader's pubkey.bin format. */
export function pemToPubkeyBin(pem: string, file: string): Uint8Array {
  let jwk: { kty?: string; n?: string; e?: string };
  try {
    jwk = createPublicKey(pem).export({ format: 'jwk' }) as typeof jwk;
  } catch {
    throw new BootcardError(EepromErrorCode.BAD_KEY, `${file} is not an RSA public key in PEM format (e.g. from openssl rsa -in private.pem -pubout).`);
  }
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new BootcardError(EepromErrorCode.BAD_KEY, `${file} is not an RSA public key.`);
  return rsaPublicKeyToBin(new Uint8Array(Buffer.from(jwk.n, 'base64url')), new Uint8Array(Buffer.from(jwk.e, 'base64url')));
}

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
    .option('--timestamp <epoch>', 'update timestamp for the .sig ts line (seconds since 1970; default $SOURCE_DATE_EPOCH, else now)')
    .option('--stamp-image', 'also write the timestamp into the image\'s updatetime section (for flashrom-style direct writes; the image then differs from rpi-eeprom-config\'s)')
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
          throw usageError('--batch does not take --pubkey or --digest: build a base with them first (bootcard eeprom build --base IMAGE --pubkey PEM --out base.bin) and batch from that base.');
        }
        await buildBatch(ctx, options);
        return;
      }
      if (options.out === undefined) throw usageError('build needs --out FILE (or --batch CSV --out-dir DIR).');
      if (options.outDir !== undefined) throw usageError('--out-dir is for --batch.');
      if (options.targetSoc && !options.sig) throw usageError('--target-soc adds a line to the .sig file: add --sig.');
      const set: Record<string, string> = {};
      for (const a of options.set ?? []) {
        const { key, value } = parseAssignment(a);
        set[key] = value;
      }
      const timestamp = options.timestamp !== undefined ? parseTimestamp(options.timestamp) : options.stampImage ? defaultTimestamp(ctx) : undefined;
      const base = await readEepromImageFile(resolve(ctx, options.base));
      const config = options.config !== undefined ? await readTextFile(resolve(ctx, options.config), 'config') : undefined;
      const files: { 'bootconf.sig'?: Uint8Array; 'pubkey.bin'?: Uint8Array } = {};
      if (options.digest !== undefined) files['bootconf.sig'] = await readBinaryFile(resolve(ctx, options.digest), 'signature');
      if (options.pubkey !== undefined) files['pubkey.bin'] = pemToPubkeyBin(await readTextFile(resolve(ctx, options.pubkey), 'public key'), options.pubkey);
      const built = buildPieeprom({
        files,
        base,
        set,
        unset: options.unset ?? [],
        strict: options.strict ?? false,
        ...(config !== undefined ? { config } : {}),
        ...(options.section !== undefined ? { section: options.section } : {}),
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(options.stampImage ? { stampImage: true } : {}),
      });
      const outPath = resolve(ctx, options.out);
      const outputs: OutputFile[] = [{ path: outPath, data: built.image }];
      let sigPath: string | undefined;
      if (options.sig) {
        sigPath = sigPathFor(outPath);
        const sig = makePieepromSig(built.image, timestamp ?? defaultTimestamp(ctx), {
          sha256Hex: sha256HexNode,
          ...(options.targetSoc ? { targetSoc: built.board } : {}),
        });
        outputs.push({ path: sigPath, data: sig });
      }
      await writeFilesAtomically(outputs);
      if (options.json) {
        ctx.printJson({ out: outPath, sig: sigPath ?? null, board: built.board, configBytes: new TextEncoder().encode(built.config).length, freeBytes: built.freeBytes, diagnostics: built.diagnostics });
        return;
      }
      printDiagnostics(ctx, built.diagnostics);
      ctx.print(`Wrote ${outPath} (${BOARD_NAME[built.board]}, config ${new TextEncoder().encode(built.config).length} of ${built.freeBytes} bytes)${sigPath ? ` and ${sigPath}` : ''}.`);
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
      if (options.json) {
        ctx.printJson({ ok: !failed, results });
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
}

async function buildBatch(ctx: CliContext, options: BuildOpts): Promise<void> {
  const timestamp = options.timestamp !== undefined ? parseTimestamp(options.timestamp) : defaultTimestamp(ctx);
  const base = await readEepromImageFile(resolve(ctx, options.base));
  const image = parseEepromImage(base);
  const csv = await readTextFile(resolve(ctx, options.batch!), 'CSV');
  const config = options.config !== undefined ? await readTextFile(resolve(ctx, options.config), 'config') : undefined;
  const plan = planBatch({
    base,
    csv,
    strict: options.strict ?? false,
    ...(config !== undefined ? { config } : {}),
    ...(options.section !== undefined ? { section: options.section } : {}),
  }, image);
  const dir = resolve(ctx, options.outDir!);
  const targets = plan.rows.map((row) => ({ row, bin: path.join(dir, row.name, 'pieeprom.bin'), sig: path.join(dir, row.name, 'pieeprom.sig') }));
  if (!options.force) {
    const existing: string[] = [];
    for (const t of targets) {
      if (await pathExists(t.bin)) existing.push(t.bin);
      if (await pathExists(t.sig)) existing.push(t.sig);
    }
    if (existing.length > 0) {
      throw new BootcardError(EepromErrorCode.BAD_BATCH, `The batch would replace ${existing.length} existing files (e.g. ${existing[0]}); pass --force to replace them. No files were written.`);
    }
  }
  const build = createBatchBuilder(base, image, {
    timestamp,
    stampImage: options.stampImage ?? false,
    sha256: nodeSha256Factory,
    ...(options.targetSoc ? { targetSoc: plan.board } : {}),
  });
  for (const t of targets) {
    const built = build(t.row);
    // built.image is reused by the next row: written out before building it.
    await writeFilesAtomically([{ path: t.bin, data: built.image }, { path: t.sig, data: built.sig }]);
  }
  const warnings = plan.rows.flatMap((r) => r.diagnostics.map((d) => ({ ...d, name: r.name })));
  if (options.json) {
    ctx.printJson({ board: plan.board, outDir: dir, rows: targets.map((t) => ({ name: t.row.name, line: t.row.line, image: t.bin, sig: t.sig })), warnings });
    return;
  }
  for (const r of plan.rows) printDiagnostics(ctx, r.diagnostics, `${r.name}: `);
  ctx.print(`Wrote ${targets.length} ${BOARD_NAME[plan.board]} images with .sig files into ${dir}.`);
}
