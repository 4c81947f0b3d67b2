// Temporary: channels whose core is still being built by another area. Replaced handler by handler.
import { BootcardError } from '../../core/errors.js';
import type { Channel } from '../contract.js';
import type { Handler } from '../dispatcher.js';

export function pendingHandler<C extends Channel>(channel: C): Handler<C> {
  return async () => {
    throw new BootcardError('SERVE_NOT_READY', `"${channel}" is not available in this build yet.`);
  };
}
