/**
 * Cards: what goes on them (a recipe), a plan for the Review step, and the
 * write itself: one progress stream for every card at once, then a result and
 * a manifest row per card.
 */
import { z } from 'zod';
import { channel } from '../define.js';
import { devicePathSchema, filePathSchema } from './common.js';
import { boardSchema, type Board } from './eeprom.js';
import { uefiSettingsSchema } from './uefi.js';
import type { ManifestEntry } from '../../core/manifest/manifest.js';
import type { CardInspection } from '../../core/card/inspect.js';

export type { ManifestEntry, CardInspection };


const configTxtSection = z.string().min(1).max(64).optional();
/** One config.txt change, as the card core's applyConfigTxtEdits takes it. */
export const configTxtEditSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('set'), key: z.string().min(1).max(64), value: z.string().max(256), section: configTxtSection }).strict(),
  z.object({ kind: z.literal('remove'), key: z.string().min(1).max(64), section: configTxtSection }).strict(),
  z.object({ kind: z.literal('dtoverlay'), value: z.string().min(1).max(256), section: configTxtSection }).strict(),
]);

export const cardRecipeSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('eeprom-recovery'),
      board: boardSchema,
      /** pieeprom-*.bin + recovery.bin: a firmware folder, or the pieeprom image beside its recovery.bin. */
      firmwarePath: filePathSchema,
      config: z.string().max(64 * 1024),
    })
    .strict(),
  z
    .object({
      kind: z.literal('uefi'),
      /** The pftf RPi4 UEFI firmware zip or folder. */
      firmwarePath: filePathSchema,
      configTxt: z.array(configTxtEditSchema).max(64).default([]),
      uefi: uefiSettingsSchema.optional(),
    })
    .strict(),
]);
export type CardRecipe = z.input<typeof cardRecipeSchema>;

export interface CardPlan {
  readonly recipe: CardRecipe['kind'];
  readonly board?: Board;
  readonly imageSize: number;
  readonly dataBytes: number;
  readonly sha256: string;
  readonly files: readonly { readonly name: string; readonly size: number }[];
  /** The bootloader config or config.txt that ends up on the card. */
  readonly config: string;
  readonly warnings: readonly string[];
  /**
   * Unix seconds the plan was made at: an EEPROM card's update timestamp (UEFI
   * cards keep the firmware's file times). card.write takes it back to write
   * exactly this plan.
   */
  readonly timestamp: number;
}

export type CardWritePhase = 'write' | 'verify' | 'lock';

export type CardWriteProgress =
  | { readonly type: 'planned'; readonly plan: CardPlan }
  | {
      readonly type: 'progress';
      readonly device: string;
      readonly phase: CardWritePhase;
      readonly bytes: number;
      readonly total: number;
      /** Bytes per second over the last moments, when known. */
      readonly speed: number | null;
    }
  | { readonly type: 'card-done'; readonly result: CardResult };

export interface CardResult {
  readonly device: string;
  readonly ok: boolean;
  readonly verified: boolean;
  readonly locked: boolean;
  /** The SD card's serial (from its CID), when the reader exposes it. */
  readonly cardSerial: string | null;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface CardWriteResult {
  readonly plan: CardPlan;
  readonly results: readonly CardResult[];
  readonly manifest: readonly ManifestEntry[];
}

/** What card.inspect read: the card or image it opened, and what is on it (as `bootcard card inspect --json`). */
export interface CardInspectResult {
  readonly source: { readonly kind: 'device' | 'image'; readonly path: string };
  readonly inspection: CardInspection;
}

/** A whole disk from the drive list, or an image file on the machine running bootcard. */
export const cardInspectRequestSchema = z.union([z.object({ device: devicePathSchema }).strict(), z.object({ image: filePathSchema }).strict()]);

export const cardChannels = {
  'card.plan': channel<CardPlan>()(z.object({ recipe: cardRecipeSchema }).strict()),
  'card.write': channel<CardWriteResult, CardWriteProgress>()(
    z
      .object({
        recipe: cardRecipeSchema,
        targets: z.array(devicePathSchema).min(1).max(64),
        verify: z.boolean().default(true),
        lock: z.boolean().default(false),
        /** The plan's timestamp, so the cards get the image (and SHA-256) the Review step showed; default now. */
        timestamp: z.number().int().min(0).max(0xffffffff).optional(),
      })
      .strict()
      .refine((r) => new Set(r.targets).size === r.targets.length, { message: 'each card may be picked once', path: ['targets'] }),
  ),
  /** Reads a card or card image (never writes): partition table, files, config.txt, bootloader config. */
  'card.inspect': channel<CardInspectResult>()(cardInspectRequestSchema),
};
