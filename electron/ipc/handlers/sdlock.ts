import { getSdLockStatus, lockSdCard, unlockSdCard, type SdLockStatus } from '../../core/sdlock/sdlock.io.js';
import type { SdLockView } from '../channels/sdlock.js';
import type { Handler } from '../dispatcher.js';

const view = (s: SdLockStatus): SdLockView => ({ device: s.device, state: s.state });

export const sdlockStatusHandler: Handler<'sdlock.status'> = async ({ device }) => view(await getSdLockStatus(device));
export const sdlockLockHandler: Handler<'sdlock.lock'> = async ({ device }) => view(await lockSdCard(device));
export const sdlockUnlockHandler: Handler<'sdlock.unlock'> = async ({ device }) => view(await unlockSdCard(device));
