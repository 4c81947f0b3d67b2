/** The wizard's "Prepare the server": the same tree step as `bootcard netboot tree`, for the Pis the station wrote. */
import { z } from 'zod';
import { channel } from '../define.js';
import type { TreeResult as NetbootTreeResult } from '../../core/netboot/tree-result.js';
import { filePathSchema } from './common.js';

export type { PiTreeResult as NetbootTreePiResult, TreeResult as NetbootTreeResult } from '../../core/netboot/tree-result.js';

export interface NetbootTreeProgress {
  readonly text: string;
}

const ipv4 = z.string().max(15).regex(/^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/, 'an IPv4 address such as 10.42.0.211');

export const netbootChannels = {
  'netboot.tree': channel<NetbootTreeResult, NetbootTreeProgress>()(
    z
      .object({
        /** The OS image (.img, .img.xz, ...), read only; relative to where bootcard started. */
        image: filePathSchema,
        /** Existing folders under the output root (bootcard does not create folders for the wizard). */
        tftpRoot: filePathSchema,
        nfsRoot: filePathSchema.optional(),
        server: ipv4.optional(),
        /** MAC addresses, serial numbers or str:NAME, as `--pi` takes them. */
        pis: z.array(z.string().min(1).max(64)).min(1).max(1_000),
        ssh: z.boolean().optional(),
      })
      .strict(),
  ),
};
