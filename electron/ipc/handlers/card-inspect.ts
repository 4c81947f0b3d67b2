/**
 * card.inspect: what is on a card or card image, read in this process (reading
 * is not writing, so it never goes through the privileged writer). The target
 * rules (a listed whole disk, or a regular image file) are the card core's.
 */
import path from 'node:path';
import { inspectCard } from '../../core/card/inspect.js';
import { openInspectionTarget, type InspectionTarget } from '../../core/card/inspect-target.io.js';
import type { Handler } from '../dispatcher.js';

export interface CardInspectHandlerOptions {
  readonly cwd: string;
  /** Loop devices count as disks: only for tests (`bootcard serve --include-loop`). */
  readonly includeLoop: boolean;
}

export function cardInspectHandler(options: CardInspectHandlerOptions): Handler<'card.inspect'> {
  return async (request) => {
    const target: InspectionTarget = 'device' in request ? { kind: 'device', path: request.device } : { kind: 'image', path: path.resolve(options.cwd, request.image) };
    const reader = await openInspectionTarget(target, { includeLoop: options.includeLoop });
    try {
      return { source: target, inspection: await inspectCard(reader) };
    } finally {
      await reader.close();
    }
  };
}
