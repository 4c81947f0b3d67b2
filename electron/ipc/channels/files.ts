/** Picking files: the desktop app's native dialogs, and serve's chooser limited to the output root and the cache. */
import { z } from 'zod';
import type { ChooserListing, ChooserRoot } from '../../core/files/chooser.js';
import { channel } from '../define.js';
import { filePathSchema } from './common.js';

/** What a picker is for: it sets the dialog's title, filters and whether it takes a folder. */
export const PICK_PURPOSES = ['firmware-eeprom', 'firmware-uefi', 'signing-key', 'os-image', 'output-folder'] as const;
export type PickPurpose = (typeof PICK_PURPOSES)[number];

export interface FilesRootsResult {
  /** The roots that exist, with their real paths. */
  readonly roots: Partial<Record<ChooserRoot, string>>;
}

export const fileChannels = {
  'files.roots': channel<FilesRootsResult>()(z.object({}).strict()),
  'files.list': channel<ChooserListing>()(
    z
      .object({
        root: z.enum(['output', 'cache']),
        /** A folder relative to the root; '' is the root. */
        path: z.union([z.literal(''), filePathSchema]).default(''),
      })
      .strict(),
  ),
  /** The desktop app's native open dialog (refused behind `bootcard serve`, whose page uses files.list). */
  'dialogs.open': channel<{ readonly path: string | null }>()(z.object({ purpose: z.enum(PICK_PURPOSES) }).strict()),
};
