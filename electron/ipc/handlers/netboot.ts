import path from 'node:path';
import { openOutputFolder } from '../../core/files/output-root.io.js';
import { parsePiId } from '../../core/netboot/pi-id.js';
import { buildNetbootTree } from '../../core/netboot/tree.io.js';
import type { Handler } from '../dispatcher.js';

/** An existing folder under the output root, opened component by component without following links (output-root.io.ts). */
async function outputFolderPath(outputRoot: string, requested: string): Promise<string> {
  const folder = await openOutputFolder(outputRoot, requested);
  const found = folder.path;
  await folder.close();
  return found;
}

/**
 * Builds the netboot tree for the wizard. The request comes from a page
 * (maybe a browser behind `bootcard serve`, often run as root), so the tree
 * goes only into existing folders under the output root; the image is only read.
 */
export function netbootTreeHandler(options: { cwd: string; outputRoot: string }): Handler<'netboot.tree'> {
  return async (request, ctx) => {
    const pis = request.pis.map((id) => ({ id: parsePiId(id), ...(request.ssh ? { ssh: true } : {}) }));
    const tftpRoot = await outputFolderPath(options.outputRoot, request.tftpRoot);
    const nfsRoot = request.nfsRoot ? await outputFolderPath(options.outputRoot, request.nfsRoot) : undefined;
    return buildNetbootTree({
      image: path.resolve(options.cwd, request.image),
      tftpRoot,
      ...(nfsRoot ? { nfsRoot } : {}),
      ...(request.server ? { server: request.server } : {}),
      pis,
      onProgress: (text) => ctx.progress({ text }),
      signal: ctx.signal,
    });
  };
}
