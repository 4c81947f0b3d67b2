/**
 * EEPROM bootloader config channels: live validation of a boot.conf (the same
 * validator the CLI runs), the BOOT_ORDER sentence, and building pieeprom.bin
 * + pieeprom.sig files for rpi-eeprom-update.
 */
import { z } from 'zod';
import { channel } from '../define.js';
import { filePathSchema } from './common.js';

export const boardSchema = z.enum(['2711', '2712']);
export type Board = z.infer<typeof boardSchema>;

/** One finding of the boot.conf validator (the core's Diagnostic, as it crosses the wire). */
export interface ConfigDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly line?: number;
  readonly key?: string;
  readonly code: string;
  readonly message: string;
}

export interface EepromValidateResult {
  readonly diagnostics: readonly ConfigDiagnostic[];
}

export interface EepromExplainResult {
  /** "1. network (TFTP) 2. USB mass storage 3. SD card 4. restart" */
  readonly sentence: string;
}

export interface EepromBuildResult {
  readonly board: Board;
  readonly imagePath: string;
  readonly sigPath: string;
  readonly sha256: string;
  readonly size: number;
  readonly config: string;
  readonly diagnostics: readonly ConfigDiagnostic[];
  /** The config was signed (bootconf.sig and pubkey.bin embedded, signed boot). */
  readonly signed?: boolean;
}

/** A boot.conf is at most a few KiB; the cap keeps a request small. */
const configText = z.string().max(64 * 1024);

export const eepromChannels = {
  'eeprom.validate': channel<EepromValidateResult>()(z.object({ board: boardSchema, config: configText }).strict()),
  'eeprom.explain': channel<EepromExplainResult>()(
    z.object({ board: boardSchema, bootOrder: z.string().max(10).regex(/^0x[0-9a-fA-F]{1,8}$/, 'a hex value such as 0xf241') }).strict(),
  ),
  'eeprom.build': channel<EepromBuildResult>()(
    z
      .object({
        board: boardSchema,
        /** A pieeprom-*.bin, or a firmware folder holding one for the board. */
        firmwarePath: filePathSchema,
        config: configText,
        /** The folder pieeprom.bin and pieeprom.sig are written to: an existing one under the output root. */
        outputDir: filePathSchema,
        /** Replace pieeprom.bin/.sig already there (OUTPUT_EXISTS otherwise): set only after the user said so. */
        replace: z.boolean().optional(),
        /** Signed boot: an RSA-2048 private key (PEM) on the machine bootcard runs on; the config is signed with it. */
        signKeyPath: filePathSchema.optional(),
        /** The key's passphrase, if it has one. */
        signKeyPassphrase: z.string().max(1024).optional(),
      })
      .strict(),
  ),
};
