/** Saving the Done step's manifest (JSON or CSV) where the operator says. */
import { z } from 'zod';
import { channel } from '../define.js';
import { filePathSchema } from './common.js';

export const manifestEntrySchema = z
  .object({
    device: z.string().max(256),
    cardSerial: z.string().max(64).nullable(),
    recipe: z.string().max(64),
    config: z.string().max(64 * 1024),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    time: z.string().max(64),
    ok: z.boolean(),
    error: z.string().max(4096).nullable(),
  })
  .strict();

export interface ManifestSaveResult {
  readonly path: string;
  readonly bytes: number;
}

export const manifestChannels = {
  'manifest.save': channel<ManifestSaveResult>()(
    z
      .object({
        path: filePathSchema,
        format: z.enum(['json', 'csv']),
        entries: z.array(manifestEntrySchema).min(1).max(10_000),
      })
      .strict(),
  ),
};
