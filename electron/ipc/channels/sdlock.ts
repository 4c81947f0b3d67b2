/** SD card write-protect (the CSD's temporary write-protect bit): status, lock, unlock. */
import { z } from 'zod';
import { channel } from '../define.js';
import { devicePathSchema } from './common.js';

export interface SdLockView {
  readonly device: string;
  readonly state: 'off' | 'temporary' | 'permanent';
}

const device = devicePathSchema;

export const sdlockChannels = {
  'sdlock.status': channel<SdLockView>()(z.object({ device }).strict()),
  'sdlock.lock': channel<SdLockView>()(z.object({ device }).strict()),
  'sdlock.unlock': channel<SdLockView>()(z.object({ device }).strict()),
};
