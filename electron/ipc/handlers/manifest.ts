import path from 'node:path';
import { BootcardError } from '../../core/errors.js';
import { openOutputFolder } from '../../core/files/output-root.io.js';
import { checkOutputFileName, OutputErrorCode } from '../../core/files/output-path.js';
import { formatManifest, manifestSaveProblem } from '../../core/manifest/manifest.js';
import type { Handler } from '../dispatcher.js';

/**
 * Writes the manifest whole or not at all into an existing folder under the
 * output root (see core/files/output-root.io.ts). Only a .csv/.json file; it
 * never replaces anything but an earlier manifest (see manifestSaveProblem),
 * and that only when the request says `replace` (the page asked the user).
 */
export function manifestSaveHandler(outputRoot: string): Handler<'manifest.save'> {
  return async (request) => {
    if (request.path.endsWith('/')) {
      throw new BootcardError(OutputErrorCode.BAD_NAME, `${request.path} names a folder; name the manifest file (e.g. station.${request.format}).`, { path: request.path });
    }
    const folder = await openOutputFolder(outputRoot, path.dirname(request.path));
    try {
      const name = path.basename(request.path);
      checkOutputFileName(name);
      const target = path.join(folder.path, name);
      // The name first: nothing at a wrongly named path is even opened.
      const nameProblem = manifestSaveProblem(target, request.format, null);
      if (nameProblem) throw new BootcardError(nameProblem.code, nameProblem.message, { path: target });
      const problem = manifestSaveProblem(target, request.format, await folder.readHead(name, 256));
      if (problem) throw new BootcardError(problem.code, problem.message, { path: target });
      const text = formatManifest(request.entries, request.format);
      await folder.write([{ name, data: text }], { replace: request.replace ?? false, context: `Cannot save the manifest to ${target}` });
      return { path: target, bytes: Buffer.byteLength(text) };
    } finally {
      await folder.close();
    }
  };
}
