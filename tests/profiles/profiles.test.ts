/**
 * Profiles: the pure schema and its CLI options, the store under
 * $XDG_CONFIG_HOME/bootcard (atomic, 0600, no links followed), and
 * `--profile NAME` on the real CLI building a real EEPROM image.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import { ProfileErrorCode, checkProfileName, profileOptions, wizardSettingsSchema } from '../../electron/core/profiles/profile.js';
import { bootcardConfigDir, profileStore } from '../../electron/core/profiles/store.io.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-profiles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rackA = wizardSettingsSchema.parse({
  recipe: 'eeprom-card',
  board: '2711',
  bootOrder: [0x2, 0x1, 0xf],
  tftpIp: '10.42.0.211',
  prefixMode: 'string',
  prefixString: 'rackA/',
  advanced: 'NET_BOOT_MAX_RETRIES=3',
  firmwarePath: eepromFixture('pieeprom-2711-2026-05-17.bin'),
});

async function refusal(promise: Promise<unknown>): Promise<BootcardError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(BootcardError);
  return error as BootcardError;
}

describe('the profile store', () => {
  it('lives under $XDG_CONFIG_HOME/bootcard/profiles (default ~/.config), ignoring a relative XDG_CONFIG_HOME', () => {
    expect(bootcardConfigDir({ XDG_CONFIG_HOME: '/x/conf', HOME: '/home/me' })).toBe('/x/conf/bootcard');
    expect(bootcardConfigDir({ HOME: '/home/me' })).toBe('/home/me/.config/bootcard');
    expect(bootcardConfigDir({ XDG_CONFIG_HOME: 'relative', HOME: '/home/me' })).toBe('/home/me/.config/bootcard');
  });

  it('saves a named profile as a private file and reads it back; lists it; remembers the last settings apart', async () => {
    const store = profileStore(path.join(dir, 'a', 'bootcard'));
    const saved = await store.save('rack A netboot', rackA);
    const file = path.join(dir, 'a', 'bootcard', 'profiles', 'rack A netboot.json');
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect((await store.load('rack A netboot')).settings).toEqual(rackA);
    expect(saved.name).toBe('rack A netboot');
    expect(await store.list()).toEqual([{ name: 'rack A netboot', savedAt: saved.savedAt, recipe: 'eeprom-card' }]);
    expect(await store.loadLast()).toBeNull();
    await store.saveLast({ ...rackA, board: '2712' });
    expect((await store.loadLast())?.board).toBe('2712');
    // No temporary file is left beside it.
    expect(readFileSync(file, 'utf8')).toContain('"rackA/"');
  });

  it('refuses names that are paths or hidden files, and a profile that is a link or damaged', async () => {
    for (const bad of ['../escape', 'a/b', '.hidden', '', ' ', 'x'.repeat(64), 'end.']) {
      expect(() => checkProfileName(bad), bad).toThrow(/is not a profile name/);
    }
    const root = path.join(dir, 'b', 'bootcard');
    const store = profileStore(root);
    mkdirSync(path.join(root, 'profiles'), { recursive: true });
    writeFileSync(path.join(dir, 'elsewhere.json'), JSON.stringify({ name: 'linked', savedAt: '', settings: rackA }));
    symlinkSync(path.join(dir, 'elsewhere.json'), path.join(root, 'profiles', 'linked.json'));
    expect((await refusal(store.load('linked'))).message).toMatch(/symbolic link/);
    writeFileSync(path.join(root, 'profiles', 'broken.json'), '{"name": "broken"');
    const broken = await refusal(store.load('broken'));
    expect(broken.code).toBe(ProfileErrorCode.DAMAGED);
    expect(broken.message).toContain('broken.json cannot be read (it is not JSON)');
    expect((await refusal(store.load('missing'))).code).toBe(ProfileErrorCode.NOT_FOUND);
    // The damaged and linked ones do not hide a good one from the list.
    await store.save('good', rackA);
    expect((await store.list()).map((p) => p.name)).toEqual(['good']);
  });
});

describe('a profile as CLI options', () => {
  it('card recovery and eeprom build get the board, firmware and bootloader settings; card uefi refuses an EEPROM profile', () => {
    const profile = { name: 'rack A netboot', savedAt: '', settings: rackA };
    const bin = rackA.firmwarePath;
    expect(profileOptions(profile, 'card recovery')).toEqual([
      '--board', '2711', '--preset', 'network', '--firmware-dir', path.dirname(bin), '--eeprom', bin,
      '--set', 'BOOT_ORDER=0xf12', '--set', 'TFTP_IP=10.42.0.211', '--set', 'TFTP_PREFIX=1', '--set', 'TFTP_PREFIX_STR=rackA/', '--set', 'NET_BOOT_MAX_RETRIES=3',
    ]);
    expect(profileOptions(profile, 'eeprom build').slice(0, 2)).toEqual(['--base', bin]);
    expect(() => profileOptions(profile, 'card uefi')).toThrow(/is for bootloader cards and images/);
  });
});

describeShared('bootcard eeprom build --profile NAME', () => {
  it('builds the image the profile describes; an option typed after it wins; a missing profile is an error naming it', async () => {
    const config = path.join(dir, 'cli-config');
    const env = { ...process.env, XDG_CONFIG_HOME: config };
    await profileStore(path.join(config, 'bootcard')).save('rack A netboot', rackA);
    const out = path.join(dir, 'rackA.bin');
    const built = await runBootcard(['eeprom', 'build', '--profile', 'rack A netboot', '--set', 'TFTP_IP=10.42.0.9', '--out', out], { env });
    expect(built.stderr).toBe(built.code === 0 ? built.stderr : '');
    expect(built.code).toBe(0);
    const read = await runBootcard(['eeprom', 'read', out, '--json'], { env });
    const stored = (JSON.parse(read.stdout) as { config: string }).config;
    expect(stored).toMatch(/^BOOT_ORDER=0xf12$/m);
    expect(stored).toMatch(/^TFTP_PREFIX_STR=rackA\/$/m);
    expect(stored).toMatch(/^NET_BOOT_MAX_RETRIES=3$/m);
    expect(stored).toMatch(/^TFTP_IP=10\.42\.0\.9$/m);
    expect(stored).not.toMatch(/TFTP_IP=10\.42\.0\.211/);

    const missing = await runBootcard(['eeprom', 'build', '--profile', 'rack B', '--out', path.join(dir, 'b.bin')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('There is no profile "rack B"');
    expect(existsSync(path.join(dir, 'b.bin'))).toBe(false);
    const help = await runBootcard(['eeprom', 'build', '--help'], { env });
    expect(help.stdout).toContain('--profile <name>');
  });

  it('card recovery --profile makes the recovery card the wizard would, for the profile’s board and settings', async () => {
    const config = path.join(dir, 'cli-config-card');
    const env = { ...process.env, XDG_CONFIG_HOME: config };
    await profileStore(path.join(config, 'bootcard')).save('rack A netboot', rackA);
    const out = path.join(dir, 'rackA-card.img');
    const made = await runBootcard(['card', 'recovery', '--profile', 'rack A netboot', '--out', out], { env });
    expect(made.code, made.stderr).toBe(0);
    const inspected = await runBootcard(['card', 'inspect', out, '--json'], { env });
    const card = JSON.parse(inspected.stdout) as { bootloader?: { board: string; config: string } };
    expect(card.bootloader?.board).toBe('2711');
    expect(card.bootloader?.config).toMatch(/^BOOT_ORDER=0xf12$/m);
    expect(card.bootloader?.config).toMatch(/^TFTP_IP=10\.42\.0\.211$/m);
    // A profile for another kind of card is refused, naming it.
    const uefi = await runBootcard(['card', 'uefi', '--profile', 'rack A netboot', '--out', path.join(dir, 'u.img')], { env });
    expect(uefi.code).toBe(1);
    expect(uefi.stderr).toContain('The profile "rack A netboot" is for bootloader cards and images');
  });
});
