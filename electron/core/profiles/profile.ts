/**
 * Wizard settings a user keeps: the last recipe and its settings (so the
 * wizard opens where it was left), and named profiles ("rack A netboot") to
 * choose in the wizard or pass to the CLI as `--profile NAME`. Pure: the
 * schema, the name rule and the mapping to CLI options; the store that reads
 * and writes them is store.io.ts.
 *
 * A profile holds settings only, never a secret: no signing-key passphrase,
 * no serve token. What the wizard has not set is simply absent.
 */
import { z } from 'zod';
import { BootcardError } from '../errors.js';

export const ProfileErrorCode = {
  BAD_NAME: 'PROFILE_BAD_NAME',
  NOT_FOUND: 'PROFILE_NOT_FOUND',
  DAMAGED: 'PROFILE_DAMAGED',
  NOT_FOR_COMMAND: 'PROFILE_NOT_FOR_COMMAND',
} as const;

const text = (max: number) => z.string().max(max);

export const uefiFormSettingsSchema = z.object({
  pxeMac: text(64).default(''),
  httpUrl: text(2048).default(''),
  networkOnly: z.boolean().default(false),
  cpuClock: z.enum(['', 'low', 'max', 'custom']).default(''),
  cpuMhz: text(8).default(''),
  fanGpio: z.enum(['', '14', '18', '19']).default(''),
  fanTemp: text(8).default(''),
  assetTag: text(64).default(''),
  presets: z.array(text(64)).max(32).default([]),
}).strict();

/** The wizard's settings, as a profile keeps them (what the steps' fields hold, nothing derived). */
export const wizardSettingsSchema = z.object({
  recipe: z.enum(['eeprom-card', 'uefi-card', 'eeprom-file', 'sdlock']),
  board: z.enum(['2711', '2712']).default('2711'),
  preset: z.string().max(32).default('network'),
  bootOrder: z.array(z.number().int().min(0).max(15)).max(8).default([]),
  tftpIp: text(64).default(''),
  prefixMode: z.enum(['serial', 'string', 'mac']).default('serial'),
  prefixString: text(256).default(''),
  advanced: text(16 * 1024).default(''),
  firmwarePath: text(4096).default(''),
  configTxt: text(16 * 1024).default(''),
  uefiTimeout: text(8).default(''),
  uefiRamLimit: z.boolean().default(true),
  uefiSystemTable: z.enum(['acpi', 'both', 'dt']).default('acpi'),
  uefi: uefiFormSettingsSchema.default(uefiFormSettingsSchema.parse({})),
  outputDir: text(4096).default(''),
  verify: z.boolean().default(true),
  lock: z.boolean().default(false),
}).strict();

export type WizardSettings = z.output<typeof wizardSettingsSchema>;
export type WizardSettingsInput = z.input<typeof wizardSettingsSchema>;

/** A name people type ("rack A netboot"): it is also the file's name, so no slash, no dot first, nothing hidden. */
export const PROFILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 _.,+()-]{0,62}$/;

export const profileNameSchema = z.string().max(63).regex(PROFILE_NAME_PATTERN, 'a profile name: 1 to 63 letters, digits, spaces and _ . , + ( ) -, starting with a letter or digit');

export const profileSchema = z.object({
  name: profileNameSchema,
  /** ISO time it was saved. */
  savedAt: z.string().max(64),
  settings: wizardSettingsSchema,
}).strict();

export type Profile = z.output<typeof profileSchema>;

export function checkProfileName(name: string): string {
  const trimmed = name.trim();
  if (!PROFILE_NAME_PATTERN.test(trimmed) || trimmed.endsWith('.') || trimmed !== name.trim().replace(/\s+/g, ' ')) {
    throw new BootcardError(
      ProfileErrorCode.BAD_NAME,
      `"${name}" is not a profile name: use 1 to 63 letters, digits, single spaces and _ . , + ( ) -, starting with a letter or digit (e.g. "rack A netboot").`,
      { name },
    );
  }
  return trimmed;
}

/** The file a profile lives in, inside the profiles folder. */
export function profileFileName(name: string): string {
  return `${checkProfileName(name)}.json`;
}

/** Parses a stored profile; `file` names it in the error. */
export function parseProfile(json: string, file: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw damaged(file, 'it is not JSON');
  }
  const parsed = profileSchema.safeParse(value);
  if (!parsed.success) throw damaged(file, parsed.error.issues.map((i) => `${i.path.join('.') || '(profile)'}: ${i.message}`).join('; '));
  return parsed.data;
}

function damaged(file: string, why: string): BootcardError {
  return new BootcardError(ProfileErrorCode.DAMAGED, `The profile ${file} cannot be read (${why}). Save it again from the wizard, or delete the file.`, { path: file });
}

/** BOOT_ORDER from the wizard's list, first tried first: [0x2, 0x1, 0xf] is 0xf12. */
function bootOrderHex(modes: readonly number[]): string {
  return `0x${[...modes].reverse().map((m) => m.toString(16)).join('')}`;
}

/** The bootloader settings a profile sets, as KEY=VALUE lines (the wizard's fields, then its advanced lines). */
export function profileBootConfSettings(settings: WizardSettings): string[] {
  const lines: string[] = [];
  if (settings.bootOrder.length > 0) lines.push(`BOOT_ORDER=${bootOrderHex(settings.bootOrder)}`);
  if (settings.bootOrder.includes(0x2)) {
    if (settings.tftpIp !== '') lines.push(`TFTP_IP=${settings.tftpIp}`);
    if (settings.prefixMode !== 'serial') lines.push(`TFTP_PREFIX=${settings.prefixMode === 'string' ? 1 : 2}`);
    if (settings.prefixMode === 'string' && settings.prefixString !== '') lines.push(`TFTP_PREFIX_STR=${settings.prefixString}`);
  }
  for (const line of settings.advanced.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed !== '' && !trimmed.startsWith('#') && trimmed.includes('=')) lines.push(trimmed);
  }
  return lines;
}

/** The commands `--profile` applies to, as their words after `bootcard`. */
export type ProfileCommand = 'card recovery' | 'card uefi' | 'eeprom build';

const RECIPES_FOR: Record<ProfileCommand, readonly WizardSettings['recipe'][]> = {
  'card recovery': ['eeprom-card', 'eeprom-file'],
  'eeprom build': ['eeprom-card', 'eeprom-file'],
  'card uefi': ['uefi-card'],
};

/**
 * The command-line options a profile stands for, for one command: put before
 * the options the user typed, so any of those still wins (a later single
 * option replaces an earlier one; a later --set of a key replaces it).
 */
export function profileOptions(profile: Profile, command: ProfileCommand): string[] {
  const s = profile.settings;
  if (!RECIPES_FOR[command].includes(s.recipe)) {
    throw new BootcardError(
      ProfileErrorCode.NOT_FOR_COMMAND,
      `The profile "${profile.name}" is for ${s.recipe === 'uefi-card' ? 'UEFI cards (bootcard card uefi)' : s.recipe === 'sdlock' ? 'locking cards' : 'bootloader cards and images (bootcard card recovery, bootcard eeprom build)'}, not for bootcard ${command}.`,
      { profile: profile.name, command },
    );
  }
  const out: string[] = [];
  const firmware = s.firmwarePath.trim();
  if (command === 'card uefi') {
    if (firmware !== '') out.push('--firmware', firmware);
    for (const preset of s.uefi.presets) out.push('--config-txt-preset', preset);
    for (const line of s.configTxt.split(/\r?\n/)) if (line.trim() !== '') out.push('--config-txt', line.trim());
    if (!s.uefiRamLimit) out.push('--ram-limit', 'off');
    if (s.uefiSystemTable !== 'acpi') out.push('--system-table', s.uefiSystemTable);
    if (s.uefiTimeout !== '') out.push('--boot-timeout', s.uefiTimeout);
    if (s.uefi.pxeMac.trim() !== '') out.push('--pxe-boot-first', s.uefi.pxeMac.trim());
    if (s.uefi.httpUrl.trim() !== '') out.push('--http-boot-first', s.uefi.httpUrl.trim());
    if (s.uefi.networkOnly) out.push('--network-boot-only');
    if (s.uefi.cpuClock === 'low' || s.uefi.cpuClock === 'max') out.push('--cpu-clock', s.uefi.cpuClock);
    if (s.uefi.cpuClock === 'custom' && s.uefi.cpuMhz.trim() !== '') out.push('--cpu-clock', s.uefi.cpuMhz.trim());
    if (s.uefi.fanGpio !== '') out.push('--fan-gpio', s.uefi.fanGpio);
    if (s.uefi.fanGpio !== '' && s.uefi.fanTemp.trim() !== '') out.push('--fan-temp', s.uefi.fanTemp.trim());
    if (s.uefi.assetTag !== '') out.push('--asset-tag', s.uefi.assetTag);
    return out;
  }
  const isImage = /\.bin$/i.test(firmware);
  if (command === 'card recovery') {
    // The Imager presets differ only in BOOT_ORDER, which the --set below gives exactly; a custom order starts from network-first.
    const preset = ['sd', 'usb', 'network', 'network-first'].includes(s.preset) ? s.preset : 'network-first';
    out.push('--board', s.board, '--preset', preset);
    // A pieeprom .bin: its recovery.bin (and vl805) are the ones beside it, as the wizard finds them.
    if (firmware !== '' && isImage) out.push('--firmware-dir', firmware.replace(/\/[^/]*$/, '') || '/', '--eeprom', firmware);
    else if (firmware !== '') out.push('--firmware-dir', firmware);
  } else if (isImage) {
    out.push('--base', firmware);
  }
  for (const line of profileBootConfSettings(s)) out.push('--set', line);
  return out;
}
