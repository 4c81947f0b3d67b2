/** UEFI settings written into RPI_EFI.fd on the card, so no Pi needs a keyboard. */
import { z } from 'zod';
import { channel } from '../define.js';
import { filePathSchema } from './common.js';

export const uefiSettingsSchema = z
  .object({
    ramLimit3GB: z.boolean().optional(),
    systemTable: z.enum(['acpi', 'both', 'dt']).optional(),
    bootTimeoutSeconds: z.number().int().min(0).max(65535).optional(),
    httpBootFirstUrl: z.string().url().max(2048).optional(),
    /** The core checks the form (aa:bb:cc:dd:ee:ff, unicast) and says where to find a Pi's MAC. */
    pxeBootFirstMac: z.string().min(1).max(64).optional(),
    networkBootOnly: z.boolean().optional(),
    cpuClock: z.union([z.enum(['low', 'default', 'max']), z.number().int().min(100).max(2200)]).optional(),
    /** 0 (no fan) or 14, 18, 19: the core refuses the others, naming them. */
    fanGpio: z.number().int().min(0).max(63).optional(),
    fanTempCelsius: z.number().int().min(50).max(80).optional(),
    assetTag: z.string().max(32).optional(),
  })
  .strict();
export type UefiSettingsRequest = z.infer<typeof uefiSettingsSchema>;

export interface UefiSettingsPreview {
  readonly warnings: readonly string[];
  readonly variables: readonly { readonly name: string; readonly value: string }[];
}

export const uefiChannels = {
  /** Applies the settings to the firmware's RPI_EFI.fd in memory and lists the result (nothing is written). */
  'uefi.preview': channel<UefiSettingsPreview>()(z.object({ firmwarePath: filePathSchema, settings: uefiSettingsSchema }).strict()),
};
