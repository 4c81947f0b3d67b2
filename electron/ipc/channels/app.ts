import { z } from 'zod';
import { channel } from '../define.js';

export interface AppInfo {
  readonly name: 'bootcard';
  readonly version: string;
  readonly platform: string;
  readonly arch: string;
  /** 'electron' inside the desktop app, 'serve' behind `bootcard serve`. */
  readonly frontEnd: 'electron' | 'serve';
}

export const appChannels = {
  'app.info': channel<AppInfo>()(z.object({}).strict()),
};
