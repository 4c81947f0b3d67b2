/**
 * The flashing station in the wizard: one station per server (it lives in
 * `bootcard serve`, not in one browser tab), started from the Review step's
 * recipe, watched by any number of tabs (a tab that closes cancels only its
 * watch), stopped only by station.stop or by the server stopping.
 */
import { z } from 'zod';
import { channel } from '../define.js';
import { cardRecipeSchema } from './card.js';
import type { StationLogLine, StationSlot, StationSnapshot } from '../../core/station/station-state.js';

export type { StationLogLine, StationSlot, StationSnapshot };

export const stationChannels = {
  'station.start': channel<StationSnapshot>()(
    z
      .object({
        recipe: cardRecipeSchema,
        verify: z.boolean().default(true),
        lock: z.boolean().default(false),
        /** The Review step's plan timestamp, so every card gets the image (and SHA-256) it showed. */
        timestamp: z.number().int().min(0).max(0xffffffff).optional(),
      })
      .strict(),
  ),
  /** Sends the station's state now and on every change; runs until cancelled (or the station stops). Ends with the last state when the server stopped it. */
  'station.watch': channel<{ readonly stopped: true; readonly snapshot?: StationSnapshot }, StationSnapshot>()(z.object({}).strict()),
  /** Cancels the cards being written (logged incomplete) and ends the station; resolves with its last state. */
  'station.stop': channel<StationSnapshot>()(z.object({}).strict()),
};
