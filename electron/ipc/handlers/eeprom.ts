import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toBootcardError } from '../../core/errors.js';
import { buildPieeprom, explainBootOrder, makePieepromSig, validateBootConf } from '../../core/eeprom/index.js';
import type { Handler } from '../dispatcher.js';
import { locateEepromFirmware } from './firmware-files.js';

export const eepromValidateHandler: Handler<'eeprom.validate'> = async ({ board, config }) => ({
  diagnostics: validateBootConf(config, { board }),
});

export const eepromExplainHandler: Handler<'eeprom.explain'> = async ({ board, bootOrder }) => ({
  sentence: explainBootOrder(bootOrder, board),
});

/** Writes a file whole or not at all. */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, data, { flag: 'wx' });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw toBootcardError(error, `Cannot write ${file}`);
  }
}

/** pieeprom.bin + pieeprom.sig (as rpi-eeprom-update -f reads them) into a folder. */
export function eepromBuildHandler(cwd: string): Handler<'eeprom.build'> {
  return async ({ board, firmwarePath, config, outputDir }) => {
    const firmware = await locateEepromFirmware(firmwarePath, board, cwd);
    const timestamp = Math.floor(Date.now() / 1000);
    const built = buildPieeprom({ base: firmware.base, config, timestamp });
    const sig = makePieepromSig(built.image, timestamp);
    const dir = path.resolve(cwd, outputDir);
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw toBootcardError(error, `Cannot create ${dir}`);
    });
    const imagePath = path.join(dir, 'pieeprom.bin');
    const sigPath = path.join(dir, 'pieeprom.sig');
    await writeAtomically(imagePath, built.image);
    await writeAtomically(sigPath, sig);
    return {
      board: built.board,
      imagePath,
      sigPath,
      sha256: createHash('sha256').update(built.image).digest('hex'),
      size: built.image.length,
      config: built.config,
      diagnostics: built.diagnostics,
    };
  };
}
