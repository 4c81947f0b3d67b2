/** The wizard's remembered settings and named profiles (electron/core/profiles). */
import { z } from 'zod';
import type { Profile, WizardSettings } from '../../core/profiles/profile.js';
import { profileNameSchema, wizardSettingsSchema } from '../../core/profiles/profile.js';
import { channel } from '../define.js';

export interface ProfileSummary {
  readonly name: string;
  readonly savedAt: string;
  readonly recipe: WizardSettings['recipe'];
}

export interface ProfileListResult {
  readonly profiles: readonly ProfileSummary[];
  /** The settings the wizard had when it was last used, to start from. */
  readonly last: WizardSettings | null;
  /** Where they are kept, for the page to say. */
  readonly dir: string;
}

export const profileChannels = {
  'profiles.list': channel<ProfileListResult>()(z.object({}).strict()),
  'profiles.load': channel<Profile>()(z.object({ name: profileNameSchema }).strict()),
  'profiles.save': channel<Profile>()(z.object({ name: profileNameSchema, settings: wizardSettingsSchema }).strict()),
  'profiles.delete': channel<{ readonly deleted: string }>()(z.object({ name: profileNameSchema }).strict()),
  /** Keeps the wizard's current settings as the ones it starts with next time. */
  'profiles.remember': channel<{ readonly remembered: true }>()(z.object({ settings: wizardSettingsSchema }).strict()),
};
