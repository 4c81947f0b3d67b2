/**
 * SD write-protect through the privileged child (what a user gets: pkexec, then
 * the child re-checks the card and runs the real addon), against the emulated
 * card preloaded into the child. A fake pkexec that runs its command stands in
 * for polkit (as in tests/writer), so the test takes the user's path as root.
 *
 * The child checks the device node itself (exists, block device, not the
 * system drive), so the test makes a real block device node /dev/mmcblkN
 * (mknod; the emulator answers its open) with a free N, and a copy of the
 * recorded sysfs tree whose card carries that name.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { encodeMessage } from '../../electron/core/writer/protocol.js';
import { runSdLockOperation } from '../../electron/core/writer/sdlock-client.io.js';
import { writerChildEntry } from '../../electron/core/writer/spawn-child.io.js';
import { runBootcard } from '../helpers/cli.js';
import { EmulatedCard, SYSFS, buildEmulator, describeEmulator, emulatorUnavailableReason } from './emulator.js';

// A 16 GB SDHC card, as read from a card at RCA 0xaaaa, COPY set (as in addon.test.ts).
const SDHC = '400e00325b59000076b27f800a404013';
const CARD_DIR = 'devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa';
const flagsByte = (hex: string) => parseInt(hex.slice(28, 30), 16);

const describeRootEmulator: typeof describe = (
  !emulatorUnavailableReason && process.getuid?.() !== 0 ? describe.skip : describeEmulator
) as typeof describe;

function freeCardNumber(from: number): number {
  for (let n = from; n < 1000; n++) if (!existsSync(`/dev/mmcblk${n}`)) return n;
  throw new Error('no free /dev/mmcblkN name');
}

/** The recorded sysfs with the SD card (mmc0:aaaa) named mmcblkN, plus the class/block links drive enumeration reads. */
function sysfsWithCard(dir: string, name: string): { sysfs: string; deviceNumber: string } {
  const sysfs = path.join(dir, 'sys');
  cpSync(SYSFS, sysfs, { recursive: true, verbatimSymlinks: true });
  const blockDir = path.join(sysfs, CARD_DIR, 'block');
  renameSync(path.join(blockDir, 'mmcblk0', 'mmcblk0p1'), path.join(blockDir, 'mmcblk0', `${name}p1`));
  renameSync(path.join(blockDir, 'mmcblk0'), path.join(blockDir, name));
  unlinkSync(path.join(sysfs, 'block', 'mmcblk0'));
  symlinkSync(`../${CARD_DIR}/block/${name}`, path.join(sysfs, 'block', name));
  mkdirSync(path.join(sysfs, 'class', 'block'), { recursive: true });
  symlinkSync(`../../${CARD_DIR}/block/${name}`, path.join(sysfs, 'class', 'block', name));
  return { sysfs, deviceNumber: readFileSync(path.join(blockDir, name, 'dev'), 'utf8').trim() };
}

interface ChildRun {
  readonly code: number | null;
  readonly messages: { type: string; error?: { code: string; message: string } }[];
}

/** The real child process (no pkexec), sent these lines as they are. */
function rawChild(lines: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildRun> {
  const entry = writerChildEntry();
  return new Promise((resolve, reject) => {
    const child = spawn(entry.nodePath, entry.nodeArgs, { env: { ...env, ...entry.env }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, messages: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) }));
    for (const l of lines) child.stdin.write(l);
    child.stdin.end();
  });
}

describeRootEmulator('SD write-protect through the privileged child', () => {
  let emulator: ReturnType<typeof buildEmulator>;
  let device: string;
  let sysfs: string;
  let deviceNumber: string;
  let noMounts: string;
  let noSwaps: string;
  let pkexec: string;
  let pkexecLog: string;

  beforeAll(() => {
    emulator = buildEmulator();
    const n = freeCardNumber(200);
    device = `/dev/mmcblk${n}`;
    ({ sysfs, deviceNumber } = sysfsWithCard(emulator.dir, `mmcblk${n}`));
    // A block device node of that name; the kernel never sees its opens (the emulator answers them).
    execFileSync('mknod', [device, 'b', '179', String(n * 8)]);
    noMounts = path.join(emulator.dir, 'mountinfo');
    writeFileSync(noMounts, '22 1 0:21 / /proc rw,relatime - proc proc rw\n');
    noSwaps = path.join(emulator.dir, 'swaps');
    writeFileSync(noSwaps, 'Filename\tType\tSize\tUsed\tPriority\n');
    ({ pkexec, pkexecLog } = fakePkexec('pkexec'));
  });
  afterAll(() => {
    if (device && existsSync(device)) rmSync(device);
    emulator?.cleanup();
  });

  /** A pkexec for which polkit always says yes: logs its command and runs it. */
  const fakePkexec = (name: string) => {
    const log = path.join(emulator.dir, `${name}.log`);
    const program = path.join(emulator.dir, name);
    writeFileSync(program, `#!/bin/sh\necho "$@" >> '${log}'\nexec "$@"\n`);
    chmodSync(program, 0o755);
    return { pkexec: program, pkexecLog: log };
  };
  const cardWith = () => new EmulatedCard(emulator.shim, emulator.dir, { csd: SDHC, device });
  const envFor = (card: EmulatedCard, mountinfo = noMounts): NodeJS.ProcessEnv => ({
    ...card.env(),
    BOOTCARD_SYSFS: sysfs,
    BOOTCARD_MOUNTINFO: mountinfo,
    BOOTCARD_SWAPS: noSwaps,
  });

  it('status and lock go through pkexec and the child, which changes the card; the next status sees the lock', async ({ expect }) => {
    const card = cardWith();
    const options = { privilege: 'pkexec' as const, pkexec, env: envFor(card) };

    const status = await runSdLockOperation('status', device, options);
    expect(status).toMatchObject({ device, state: 'off', rca: 0xaaaa, mmcDevice: 'mmc0:aaaa', cardType: 'SD' });
    expect(status.csd).toMatchObject({ hex: SDHC, tmpWriteProtect: false });
    expect(card.log().some((l) => l.startsWith('CMD27'))).toBe(false);

    const lock = await runSdLockOperation('lock', device, options);
    expect(lock).toMatchObject({ device, state: 'temporary', previousState: 'off', changed: true });
    expect(lock.csd.tmpWriteProtect).toBe(true);
    // The emulated card holds the new CSD: COPY kept, TMP_WRITE_PROTECT set.
    expect(flagsByte(card.card()!.csd)).toBe(0x50);
    expect(card.log().filter((l) => l.startsWith('CMD27'))).toHaveLength(1);

    expect(await runSdLockOperation('status', device, options)).toMatchObject({ state: 'temporary' });

    // Each call was one pkexec run of the child; no BOOTCARD_* override is ever put on pkexec's command line (this stand-in passes the environment on, the real pkexec does not).
    const runs = readFileSync(pkexecLog, 'utf8').trim().split('\n');
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      expect(run.startsWith('/usr/bin/env '), run).toBe(true);
      expect(run, run).not.toMatch(/BOOTCARD_/);
      expect(run.endsWith('child-main.io.ts'), run).toBe(true);
    }
  });

  it('the child refuses the system drive and a device that is not there, before any card command', async ({ expect }) => {
    const card = cardWith();
    const systemMounts = path.join(emulator.dir, 'mountinfo-system');
    writeFileSync(systemMounts, `22 1 0:21 / /proc rw,relatime - proc proc rw\n29 1 ${deviceNumber} / / rw,relatime - ext4 ${device}p2 rw\n`);
    await expect(runSdLockOperation('lock', device, { privilege: 'direct', env: envFor(card, systemMounts) })).rejects.toMatchObject({
      code: 'DRIVE_SYSTEM',
      message: expect.stringMatching(new RegExp(`${device} is a system drive .*mounted on /`)),
    });
    await expect(runSdLockOperation('status', device, { privilege: 'direct', env: envFor(card, systemMounts) })).rejects.toMatchObject({ code: 'DRIVE_SYSTEM' });

    const missing = `/dev/mmcblk${freeCardNumber(Number(device.slice('/dev/mmcblk'.length)) + 1)}`;
    await expect(runSdLockOperation('lock', missing, { privilege: 'direct', env: envFor(card) })).rejects.toMatchObject({ code: 'DRIVE_VANISHED' });

    expect(card.log()).toEqual([]);
    expect(card.card()).toBeNull();
  });

  it('a malformed sdlock message is refused by the child and nothing reaches the card', async ({ expect }) => {
    const card = cardWith();
    const env = envFor(card);
    const good = { type: 'sdlock', operation: 'lock', device, allowMounted: false };
    const bad = [
      { ...good, device: '/dev/sda' },
      { ...good, device: `${device}p1` },
      { ...good, device: `/dev/../dev/${path.basename(device)}` },
      { ...good, device: path.basename(device) },
      { ...good, operation: 'format' },
      { ...good, allowMounted: 'yes' },
      { ...good, force: true },
      { ...good, confirm: 'yes' },
      { type: 'sdlock', operation: 'lock', device },
    ];
    const runs = await Promise.all(bad.map((message) => rawChild([`${JSON.stringify(message)}\n`], env)));
    for (const [i, run] of runs.entries()) {
      expect(run.messages[0], JSON.stringify(bad[i])).toMatchObject({ type: 'ready' });
      expect(run.messages[1], JSON.stringify(bad[i])).toMatchObject({ type: 'fatal', error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/invalid message/) } });
      expect(run.code).toBe(2);
    }
    // A well-formed permanent lock without its confirmation word is refused too.
    const unconfirmed = await rawChild([encodeMessage({ type: 'sdlock', operation: 'permlock', device, allowMounted: false })], env);
    expect(unconfirmed.messages.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'SDLOCK_CONFIRMATION_REQUIRED' } });
    expect(card.log()).toEqual([]);
    expect(card.card()).toBeNull();
  });

  it('`bootcard sd` run as a user asks pkexec and locks the card through the child; a cancelled prompt leaves it untouched', async ({ expect }) => {
    const card = cardWith();
    const asked = fakePkexec('pkexec-cli');
    const cancelled = path.join(emulator.dir, 'pkexec-cancelled');
    writeFileSync(cancelled, '#!/bin/sh\n# what pkexec does when the user closes the authentication dialog\nexit 126\n');
    chmodSync(cancelled, 0o755);
    const asUser = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      const refused = await runBootcard(['sd', 'lock', device], { env: { ...envFor(card), BOOTCARD_PKEXEC: cancelled } });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/The card was not touched: the password prompt was cancelled.*run again and enter your password/);
      expect(card.card()).toBeNull();

      const lock = await runBootcard(['sd', 'lock', device, '--json'], { env: { ...envFor(card), BOOTCARD_PKEXEC: asked.pkexec } });
      expect(lock.stderr).toBe('');
      expect(lock.code).toBe(0);
      expect(JSON.parse(lock.stdout)).toMatchObject({ device, state: 'temporary', changed: true });
      expect(flagsByte(card.card()!.csd)).toBe(0x50);
      expect(readFileSync(asked.pkexecLog, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      asUser.mockRestore();
    }
  });

  it('as a user, a device that is not a whole /dev/mmcblkN is refused before the password prompt', async ({ expect }) => {
    const card = cardWith();
    const asked = fakePkexec('pkexec-unasked');
    for (const [dev, code] of [
      ['/dev/sda', 'SDLOCK_NOT_MMC'],
      [`${device}p1`, 'SDLOCK_NOT_WHOLE_CARD'],
    ] as const) {
      await expect(runSdLockOperation('lock', dev, { privilege: 'pkexec', pkexec: asked.pkexec, env: envFor(card) })).rejects.toMatchObject({ code });
    }
    expect(existsSync(asked.pkexecLog)).toBe(false);
    expect(card.card()).toBeNull();
  });
});
