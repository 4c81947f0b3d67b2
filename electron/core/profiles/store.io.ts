/**
 * Where profiles live: $XDG_CONFIG_HOME/bootcard/profiles/NAME.json (default
 * ~/.config), and the wizard's last settings in $XDG_CONFIG_HOME/bootcard/last.json.
 * Written atomically (a crash never leaves half a profile) and mode 0600: they
 * are this user's. Read without following a link, and only a regular file of
 * a sane size.
 */
import { constants } from 'node:fs';
import { open, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import { writeFileAtomically } from '../files/atomic-write.io.js';
import { ProfileErrorCode, checkProfileName, parseProfile, profileFileName, wizardSettingsSchema, type Profile, type WizardSettings, type WizardSettingsInput } from './profile.js';

const MAX_PROFILE_BYTES = 256 * 1024;

/** $XDG_CONFIG_HOME/bootcard, or ~/.config/bootcard (a relative XDG_CONFIG_HOME is ignored, as the spec says). */
export function bootcardConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'bootcard');
}

export interface ProfileStore {
  readonly dir: string;
  list(): Promise<{ name: string; savedAt: string; recipe: WizardSettings['recipe'] }[]>;
  load(name: string): Promise<Profile>;
  save(name: string, settings: WizardSettingsInput): Promise<Profile>;
  remove(name: string): Promise<void>;
  loadLast(): Promise<WizardSettings | null>;
  saveLast(settings: WizardSettingsInput): Promise<void>;
}

/** The contents of a regular file, not through a link; null when it does not exist. */
async function readOwnFile(file: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new BootcardError(ProfileErrorCode.DAMAGED, `${file} is a symbolic link; bootcard reads only the file itself.`, { path: file });
    throw toBootcardError(error, `Could not read ${file}`);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile() || info.size > MAX_PROFILE_BYTES) {
      throw new BootcardError(ProfileErrorCode.DAMAGED, `${file} is not a profile (${info.isFile() ? 'too large' : 'not a regular file'}); delete it.`, { path: file });
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export function profileStore(dir: string = bootcardConfigDir()): ProfileStore {
  const profilesDir = path.join(dir, 'profiles');
  const fileOf = (name: string) => path.join(profilesDir, profileFileName(name));
  const lastFile = path.join(dir, 'last.json');
  const store: ProfileStore = {
    dir: profilesDir,
    async list() {
      const names = await readdir(profilesDir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [] as string[];
        throw toBootcardError(error, `Could not list the profiles in ${profilesDir}`);
      });
      const out: { name: string; savedAt: string; recipe: WizardSettings['recipe'] }[] = [];
      for (const file of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
        // One damaged file does not hide the others.
        const profile = await store.load(file.slice(0, -'.json'.length)).catch(() => null);
        if (profile) out.push({ name: profile.name, savedAt: profile.savedAt, recipe: profile.settings.recipe });
      }
      return out;
    },
    async load(name) {
      const file = fileOf(name);
      const text = await readOwnFile(file);
      if (text === null) {
        throw new BootcardError(ProfileErrorCode.NOT_FOUND, `There is no profile "${name}" (in ${profilesDir}). Save one from the wizard first.`, { name, dir: profilesDir });
      }
      return parseProfile(text, file);
    },
    async save(name, settings) {
      const profile: Profile = { name: checkProfileName(name), savedAt: new Date().toISOString(), settings: wizardSettingsSchema.parse(settings) };
      await writeFileAtomically(fileOf(name), `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600, context: `Could not save the profile "${profile.name}"` });
      return profile;
    },
    async remove(name) {
      await rm(fileOf(name), { force: true });
    },
    async loadLast() {
      const text = await readOwnFile(lastFile).catch(() => null);
      if (text === null) return null;
      try {
        const parsed = wizardSettingsSchema.safeParse(JSON.parse(text));
        // Settings from an older or damaged file are forgotten, not an error: the wizard starts fresh.
        return parsed.success ? parsed.data : null;
      } catch {
        return null;
      }
    },
    async saveLast(settings) {
      await writeFileAtomically(lastFile, `${JSON.stringify(wizardSettingsSchema.parse(settings))}\n`, { mode: 0o600, context: 'Could not remember the wizard settings' });
    },
  };
  return store;
}
