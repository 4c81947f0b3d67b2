import { driveConstraints } from '../../core/drives/constraints.js';
import { listDrives, watchDrives } from '../../core/drives/enumerate.io.js';
import type { Drive } from '../../core/drives/types.js';
import type { DriveView } from '../channels/drives.js';
import type { Handler } from '../dispatcher.js';

export interface DriveHandlerOptions {
  /** Loop devices are offered only when the server was started for tests. */
  readonly includeLoop: boolean;
}

export function driveView(drive: Drive, imageSize: number, options: DriveHandlerOptions): DriveView {
  return {
    device: drive.device,
    description: drive.description,
    size: drive.size,
    isCard: drive.isCard,
    isRemovable: drive.isRemovable,
    isSystem: drive.isSystem,
    isReadOnly: drive.isReadOnly,
    mountpoints: drive.mountpoints,
    problems: driveConstraints(drive, { size: imageSize }, { includeLoop: options.includeLoop }).map((c) => ({
      code: c.code,
      // The wizard has no --include-loop / --allow-non-card flags to suggest.
      message: c.message.replace(/;? ?pass --[a-z-]+ (?:if you really mean )?to write (?:to )?it\.?/, '.'),
    })),
    hiddenByDefault: drive.isSystem,
  };
}

export function driveListHandler(options: DriveHandlerOptions): Handler<'drives.list'> {
  return async (request) => {
    const drives = await listDrives({ includeLoop: options.includeLoop });
    return { drives: drives.map((d) => driveView(d, request.imageSize ?? 0, options)) };
  };
}

/** Sends the whole list whenever a drive comes, goes or changes; ends when the front end cancels. */
export function driveWatchHandler(options: DriveHandlerOptions): Handler<'drives.watch'> {
  return (request, ctx) =>
    new Promise((resolve) => {
      const known = new Map<string, Drive>();
      let timer: NodeJS.Timeout | undefined;
      const send = () => {
        timer = undefined;
        ctx.progress({ type: 'drives', drives: [...known.values()].map((d) => driveView(d, request.imageSize ?? 0, options)) });
      };
      const stop = watchDrives(
        (event) => {
          if (event.type === 'detach') known.delete(event.device);
          else known.set(event.drive.device, event.drive);
          // One update per burst of events (the first scan attaches every drive at once).
          timer ??= setTimeout(send, 50);
        },
        { includeLoop: options.includeLoop },
      );
      ctx.signal.addEventListener(
        'abort',
        () => {
          stop();
          if (timer) clearTimeout(timer);
          resolve({ stopped: true });
        },
        { once: true },
      );
    });
}
