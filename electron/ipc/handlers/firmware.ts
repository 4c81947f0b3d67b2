import path from 'node:path';
import { validatePftfFirmware } from '../../core/card/index.js';
import { fetchPftfFirmware } from '../../core/card/firmware-download.io.js';
import { readFirmwareSource } from '../../core/card/firmware-zip.io.js';
import { DEFAULT_CARD_PARTITION_SIZE } from '../../core/card/size.js';
import { BootcardError } from '../../core/errors.js';
import { previewUefiSettings } from '../../core/uefi/index.js';
import type { Handler } from '../dispatcher.js';
import { locateEepromFirmware, WizardErrorCode } from './firmware-files.js';

export function firmwareLocateHandler(cwd: string): Handler<'firmware.locate'> {
  return async (request, ctx) => {
    if (request.kind === 'uefi') {
      const source = path.resolve(cwd, request.path);
      const files = await readFirmwareSource(source, { partitionSize: DEFAULT_CARD_PARTITION_SIZE, signal: ctx.signal });
      validatePftfFirmware(files, DEFAULT_CARD_PARTITION_SIZE, path.basename(source));
      const configTxt = files.find((f) => f.path.toLowerCase() === 'config.txt');
      return { kind: 'uefi', path: source, fileCount: files.length, configTxt: configTxt ? new TextDecoder().decode(configTxt.data) : '' };
    }
    const found = await locateEepromFirmware(request.path, request.board, cwd, ctx.signal);
    return { kind: 'eeprom', board: found.board, basePath: found.basePath, recoveryPath: found.recoveryPath, currentConfig: found.currentConfig };
  };
}

export const firmwareDownloadHandler: Handler<'firmware.download'> = async (request, ctx) => {
  const fetched = await fetchPftfFirmware({
    ...(request.version ? { version: request.version } : {}),
    signal: ctx.signal,
    // Opened before it is cached (and a cached zip that no longer opens is downloaded again), as for card uefi.
    open: async (zip) => {
      await readFirmwareSource(zip, { partitionSize: DEFAULT_CARD_PARTITION_SIZE, signal: ctx.signal });
    },
    onProgress: (p) => ctx.progress({ type: 'download', received: p.bytes, total: p.total }),
  });
  return { path: fetched.path, version: fetched.version, sha256: fetched.sha256, cached: fetched.cached };
};

export function uefiPreviewHandler(cwd: string): Handler<'uefi.preview'> {
  return async ({ firmwarePath, settings }, ctx) => {
    const files = await readFirmwareSource(path.resolve(cwd, firmwarePath), { partitionSize: DEFAULT_CARD_PARTITION_SIZE, signal: ctx.signal });
    const fd = files.find((f) => f.path.toLowerCase() === 'rpi_efi.fd');
    if (!fd) throw new BootcardError(WizardErrorCode.FIRMWARE_NOT_FOUND, `${firmwarePath} has no RPI_EFI.fd: it is not the pftf UEFI firmware.`);
    return previewUefiSettings(fd.data, settings);
  };
}
