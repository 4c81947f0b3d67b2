/** Saving the Done step's manifest (JSON or CSV) where the operator says. */
import { z } from 'zod';
import { channel } from '../define.js';
import { filePathSchema, withJsonByteCap } from './common.js';

/** The manifest rows of one save, as JSON: well below serve's 1 MiB message cap with the path and envelope around them. */
export const MANIFEST_ENTRIES_MAX_BYTES = 768 * 1024;

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
        /** One write's rows (card.write takes at most 64 cards); 10,000 rows of 64 KiB configs could never cross a 1 MiB message. */
        entries: withJsonByteCap(z.array(manifestEntrySchema).min(1).max(1_000), MANIFEST_ENTRIES_MAX_BYTES, 'The manifest'),
        /** Replace an earlier manifest of that name (OUTPUT_EXISTS otherwise): set only after the user said so. */
        replace: z.boolean().optional(),
      })
      .strict(),
  ),
};
