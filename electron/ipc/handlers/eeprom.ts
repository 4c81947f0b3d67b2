import { createHash } from 'node:crypto';
import path from 'node:path';
import { writeFilesAtomically } from '../../core/files/atomic-write.io.js';
import { buildPieeprom, explainBootOrder, makePieepromSig, validateBootConf } from '../../core/eeprom/index.js';
import type { Handler } from '../dispatcher.js';
import { locateEepromFirmware } from './firmware-files.js';

export const eepromValidateHandler: Handler<'eeprom.validate'> = async ({ board, config }) => ({
  diagnostics: validateBootConf(config, { board }),
});

export const eepromExplainHandler: Handler<'eeprom.explain'> = async ({ board, bootOrder }) => ({
  sentence: explainBootOrder(bootOrder, board),
});

/** pieeprom.bin + pieeprom.sig (as rpi-eeprom-update -f reads them) into a folder. */
export function eepromBuildHandler(cwd: string): Handler<'eeprom.build'> {
  return async ({ board, firmwarePath, config, outputDir }) => {
    const firmware = await locateEepromFirmware(firmwarePath, board, cwd);
    const timestamp = Math.floor(Date.now() / 1000);
    const built = buildPieeprom({ base: firmware.base, config, timestamp });
    const sig = makePieepromSig(built.image, timestamp);
    const dir = path.resolve(cwd, outputDir);
    const imagePath = path.join(dir, 'pieeprom.bin');
    const sigPath = path.join(dir, 'pieeprom.sig');
    // Both or neither: a pieeprom.bin beside a stale .sig would fail its check on the Pi.
    await writeFilesAtomically([
      { path: imagePath, data: built.image },
      { path: sigPath, data: sig },
    ]);
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
