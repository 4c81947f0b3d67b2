/**
 * Card recipes to images, and images to cards: composes the recipe with the
 * card core, then writes through the drive engineer's writeImageToDrives (the
 * privileged writer child re-checks every target right before opening it).
 * The wizard never writes a device any other way, and writes nothing but
 * devices: each target must resolve to a whole disk the drive layer lists
 * (never an image file, even through a link), named once.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { composeRecoveryCard, composeUefiCard } from '../../core/card/index.js';
import { readFirmwareSource } from '../../core/card/firmware-zip.io.js';
import { readRecoveryFiles } from '../../core/card/recovery-files.io.js';
import { DEFAULT_CARD_PARTITION_SIZE } from '../../core/card/size.js';
import { dataBytes, type SparseImage } from '../../core/image/sparse-image.js';
import type { ManifestEntry } from '../../core/manifest/manifest.js';
import { applyUefiSettings, hasUefiSettings, type UefiSettings } from '../../core/uefi/index.js';
import { BootcardError } from '../../core/errors.js';
import { resolveDeviceTargets, resolveTargets } from '../../core/writer/resolve-targets.io.js';
import { writeImageToDrives } from '../../core/writer/writer.io.js';
import type { WriteResult } from '../../core/writer/types.js';
import type { CardPlan, CardResult } from '../channels/card.js';
import type { ParsedRequestOf } from '../contract.js';
import type { Handler } from '../dispatcher.js';
import { locateEepromFirmware } from './firmware-files.js';

type Recipe = ParsedRequestOf<'card.plan'>['recipe'];

export interface CardHandlerOptions {
  readonly cwd: string;
  /** Loop devices may be targets: only for tests (`bootcard serve --include-loop`). */
  readonly includeLoop: boolean;
}

/** SHA-256 of the image's data ranges in offset order: what the writer verifies and reports. */
export function sparseImageSha256(image: SparseImage): string {
  const hash = createHash('sha256');
  for (const r of image.ranges) hash.update(r.data);
  return hash.digest('hex');
}

export async function composeRecipe(recipe: Recipe, cwd: string, timestamp: number, signal?: AbortSignal): Promise<{ image: SparseImage; plan: CardPlan }> {
  if (recipe.kind === 'eeprom-recovery') {
    const firmware = await locateEepromFirmware(recipe.firmwarePath, recipe.board, cwd, signal);
    const files = await readRecoveryFiles({
      pieeprom: firmware.basePath,
      recovery: firmware.recoveryPath,
      ...(firmware.vl805Path ? { vl805: firmware.vl805Path } : {}),
    }, signal ? { signal } : {});
    const card = composeRecoveryCard({ board: recipe.board, ...files, config: recipe.config, timestamp });
    return {
      image: card,
      plan: {
        recipe: 'eeprom-recovery',
        board: recipe.board,
        imageSize: card.size,
        dataBytes: dataBytes(card),
        sha256: sparseImageSha256(card),
        files: card.files.map((f) => ({ name: f.path, size: f.size })),
        config: card.config,
        warnings: card.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message),
        timestamp,
      },
    };
  }
  const source = path.resolve(cwd, recipe.firmwarePath);
  const firmware = await readFirmwareSource(source, { partitionSize: DEFAULT_CARD_PARTITION_SIZE, ...(signal ? { signal } : {}) });
  const settings: UefiSettings = recipe.uefi ?? {};
  const warnings: string[] = [];
  const card = composeUefiCard({
    firmware,
    configTxt: recipe.configTxt,
    ...(hasUefiSettings(settings)
      ? {
          transformRpiEfiFd: (fd: Uint8Array) => {
            const applied = applyUefiSettings(fd, settings);
            warnings.push(...applied.warnings);
            return applied.fd;
          },
        }
      : {}),
  });
  return {
    image: card,
    plan: {
      recipe: 'uefi',
      imageSize: card.size,
      dataBytes: dataBytes(card),
      sha256: sparseImageSha256(card),
      files: card.files.map((f) => ({ name: f.path, size: f.size })),
      config: card.configTxt,
      // The firmware's own warnings, then overlays config.txt loads that the card lacks.
      warnings: [...warnings, ...card.warnings],
      timestamp,
    },
  };
}

export function cardPlanHandler(options: CardHandlerOptions): Handler<'card.plan'> {
  return async ({ recipe }, ctx) => (await composeRecipe(recipe, options.cwd, Math.floor(Date.now() / 1000), ctx.signal)).plan;
}

function cardResult(r: WriteResult): CardResult {
  return {
    device: r.target,
    ok: r.ok,
    verified: r.verified,
    locked: r.lock?.ok === true,
    cardSerial: r.cidSerial ?? null,
    ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : r.lock && !r.lock.ok && r.lock.error ? { error: { code: r.lock.error.code, message: r.lock.error.message } } : {}),
  };
}

export function cardWriteHandler(options: CardHandlerOptions): Handler<'card.write'> {
  return async ({ recipe, targets, verify, lock, timestamp }, ctx) => {
    // Refused before anything is composed or written; the writer gets the resolved /dev nodes, never a link that could change into a file.
    // A card that is no card (removed since it was chosen, a partition, a file) fails alone; only when none is left is the request refused.
    await resolveTargets(targets);
    const checked = await Promise.all(
      targets.map(async (target) => {
        try {
          return { target, device: (await resolveDeviceTargets([target]))[0]!.device };
        } catch (error) {
          if (!BootcardError.is(error)) throw error;
          return { target, error };
        }
      }),
    );
    const devices = checked.flatMap((c) => (c.device ? [c.device] : []));
    if (devices.length === 0) throw checked[0]!.error!;
    const { image, plan } = await composeRecipe(recipe, options.cwd, timestamp ?? Math.floor(Date.now() / 1000), ctx.signal);
    ctx.progress({ type: 'planned', plan });
    const skipped = checked.flatMap((c): WriteResult[] =>
      c.error ? [{ target: c.target, ok: false, kind: 'device', error: c.error.toJSON(), bytesWritten: 0, durationMs: 0, verified: false }] : [],
    );
    for (const r of skipped) ctx.progress({ type: 'card-done', result: cardResult(r) });
    const byDevice = new Map((await writeImageToDrives({
      image,
      targets: devices,
      verify,
      lockAfterVerify: lock,
      includeLoop: options.includeLoop,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress({ type: 'progress', device: p.target, phase: p.phase, bytes: p.bytes, total: p.total, speed: p.speed > 0 ? p.speed : null }),
      // Each card's row turns done or failed as soon as that card is finished, not when the last one is.
      onResult: (r) => ctx.progress({ type: 'card-done', result: cardResult(r) }),
    })).map((r) => [r.target, r] as const));
    const skippedByTarget = new Map(skipped.map((r) => [r.target, r] as const));
    const written = checked.map((c) => (c.device ? byDevice.get(c.device)! : skippedByTarget.get(c.target)!));
    const results = written.map(cardResult);
    const recipeName = recipe.kind === 'eeprom-recovery' ? `eeprom-recovery ${recipe.board}` : 'uefi';
    const time = new Date().toISOString();
    const manifest: ManifestEntry[] = written.map((r, i) => ({
      device: r.target,
      cardSerial: results[i]!.cardSerial,
      recipe: recipeName,
      config: plan.config,
      sha256: r.sha256 ?? plan.sha256,
      time,
      ok: results[i]!.ok,
      error: results[i]!.error?.message ?? null,
    }));
    return { plan, results, manifest };
  };
}
