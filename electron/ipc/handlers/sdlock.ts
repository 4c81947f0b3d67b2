import type { SdLockStatus } from '../../core/sdlock/sdlock.io.js';
import { runSdLockOperation } from '../../core/writer/sdlock-client.io.js';
import type { SdLockView } from '../channels/sdlock.js';
import type { Handler } from '../dispatcher.js';

const view = (s: SdLockStatus): SdLockView => ({ device: s.device, state: s.state });

// As a user, each call goes through the privileged child (pkexec asks for the password); as root, straight to the card.
export const sdlockStatusHandler: Handler<'sdlock.status'> = async ({ device }) => view(await runSdLockOperation('status', device));
export const sdlockLockHandler: Handler<'sdlock.lock'> = async ({ device }) => view(await runSdLockOperation('lock', device));
export const sdlockUnlockHandler: Handler<'sdlock.unlock'> = async ({ device }) => view(await runSdLockOperation('unlock', device));
