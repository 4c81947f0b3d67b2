import { createHash } from 'node:crypto';
import { writeOutputFiles } from '../../core/files/output-root.io.js';
import { buildPieeprom, explainBootOrder, makePieepromSig, validateBootConf } from '../../core/eeprom/index.js';
import type { Handler } from '../dispatcher.js';
import { locateEepromFirmware } from './firmware-files.js';
import path from 'node:path';
import { readTextFile } from '../../core/eeprom/files.io.js';
import { configSigner, loadSigningKey } from '../../core/eeprom/signing.io.js';

export const eepromValidateHandler: Handler<'eeprom.validate'> = async ({ board, config }) => ({
  diagnostics: validateBootConf(config, { board }),
});

export const eepromExplainHandler: Handler<'eeprom.explain'> = async ({ board, bootOrder }) => ({
  sentence: explainBootOrder(bootOrder, board),
});

/**
 * pieeprom.bin + pieeprom.sig (as rpi-eeprom-update -f reads them) into an
 * existing folder under the output root (see core/files/output-root.io.ts);
 * files already there are replaced only when the request says `replace`.
 */
export function eepromBuildHandler(options: { cwd: string; outputRoot: string }): Handler<'eeprom.build'> {
  const { cwd, outputRoot } = options;
  return async ({ board, firmwarePath, config, outputDir, replace, signKeyPath, signKeyPassphrase }) => {
    const firmware = await locateEepromFirmware(firmwarePath, board, cwd);
    const timestamp = Math.floor(Date.now() / 1000);
    // The key is read into memory for this build only; no message quotes it.
    const key = signKeyPath ? loadSigningKey(await readTextFile(path.resolve(cwd, signKeyPath), 'private key'), signKeyPath, signKeyPassphrase) : undefined;
    const built = buildPieeprom({ base: firmware.base, config, timestamp, ...(key ? { signConfig: configSigner(key, timestamp) } : {}) });
    const sig = makePieepromSig(built.image, timestamp);
    // Both or neither: a pieeprom.bin beside a stale .sig would fail its check on the Pi.
    const [imagePath, sigPath] = await writeOutputFiles(
      outputRoot,
      outputDir,
      [
        { name: 'pieeprom.bin', data: built.image },
        { name: 'pieeprom.sig', data: sig },
      ],
      { replace: replace ?? false },
    );
    return {
      board: built.board,
      imagePath: imagePath!,
      sigPath: sigPath!,
      sha256: createHash('sha256').update(built.image).digest('hex'),
      size: built.image.length,
      config: built.config,
      diagnostics: built.diagnostics,
      signed: key !== undefined,
    };
  };
}
