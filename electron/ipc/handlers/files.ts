import { BootcardError } from '../../core/errors.js';
import { chooserRoots, listChooserFolder, type ChooserRoot } from '../../core/files/file-chooser.io.js';
import type { PickPurpose } from '../channels/files.js';
import type { Handler, Handlers } from '../dispatcher.js';

export const DialogErrorCode = {
  UNAVAILABLE: 'DIALOG_UNAVAILABLE',
} as const;

/** The part of Electron's OpenDialogOptions bootcard uses (electron/main passes dialog.showOpenDialog). */
export interface OpenDialogSpec {
  readonly title: string;
  readonly buttonLabel: string;
  readonly properties: ('openFile' | 'openDirectory' | 'createDirectory' | 'dontAddToRecent')[];
  readonly filters?: { name: string; extensions: string[] }[];
}

export type ShowOpenDialog = (spec: OpenDialogSpec) => Promise<{ readonly canceled: boolean; readonly filePaths: readonly string[] }>;

/** Each picker's dialog: a folder or a file, and the files worth showing. */
export function dialogSpecFor(purpose: PickPurpose): OpenDialogSpec {
  switch (purpose) {
    case 'firmware-eeprom':
      // Linux dialogs take a folder or a file, not both: the folder is the usual answer (a .bin can still be typed).
      return { title: 'Choose the rpi-eeprom firmware folder', buttonLabel: 'Use this folder', properties: ['openDirectory', 'dontAddToRecent'] };
    case 'firmware-uefi':
      return { title: 'Choose the pftf UEFI firmware zip', buttonLabel: 'Use', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'UEFI firmware zip', extensions: ['zip'] }, { name: 'All files', extensions: ['*'] }] };
    case 'signing-key':
      return { title: 'Choose the RSA-2048 private key', buttonLabel: 'Use this key', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'PEM key', extensions: ['pem', 'key'] }, { name: 'All files', extensions: ['*'] }] };
    case 'os-image':
      return { title: 'Choose the Raspberry Pi OS image', buttonLabel: 'Use this image', properties: ['openFile', 'dontAddToRecent'], filters: [{ name: 'Disk images', extensions: ['img', 'xz', 'zst', 'bz2', 'zip'] }, { name: 'All files', extensions: ['*'] }] };
    case 'output-folder':
      return { title: 'Choose the folder to save into', buttonLabel: 'Save here', properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'] };
  }
}

/** dialogs.open: the native dialog in the desktop app; behind serve (no `show`), refused so the page uses its chooser. */
export function dialogOpenHandler(show?: ShowOpenDialog): Handler<'dialogs.open'> {
  return async (request) => {
    if (!show) {
      throw new BootcardError(DialogErrorCode.UNAVAILABLE, 'There is no native file dialog in a browser; use Browse to pick from the station’s output and cache folders.');
    }
    const result = await show(dialogSpecFor(request.purpose));
    return { path: result.canceled ? null : (result.filePaths[0] ?? null) };
  };
}

/** files.roots and files.list over the output root and bootcard's cache. */
export function fileListHandlers(roots: Readonly<Record<ChooserRoot, string>>): Pick<Handlers, 'files.roots' | 'files.list'> {
  return {
    'files.roots': async () => ({ roots: chooserRoots(roots) }),
    'files.list': (request) => listChooserFolder(chooserRoots(roots), request.root, request.path),
  };
}
