/**
 * The real addon, driven through the real CLI in a child process, against the
 * simulated card of tests/sdlock/emulator/sdcard-emu.c (LD_PRELOAD) and the
 * recorded sysfs tree in tests/fixtures/sdlock/sys.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc7Byte, csdFromHex, decodeCsd } from '../../electron/core/sdlock/csd.js';
import { EmulatedCard, ROOT, buildEmulator, describeEmulator, type CardSetup } from './emulator.js';

// A 16 GB SDHC card, as read from a card at RCA 0xaaaa (CRC 0x13), COPY set.
const SDHC = '400e00325b59000076b27f800a404013';
// A 2 GB SDSC card (CSD v1.0).
const SDSC = '002d00325b5a83d5fefbff80168000cf';
const TRANSFER = 4;

const flagsByte = (hex: string) => parseInt(hex.slice(28, 30), 16);
const crcOk = (hex: string) => crc7Byte(csdFromHex(hex).subarray(0, 15)) === parseInt(hex.slice(30, 32), 16);

describeEmulator('SD write-protect against an emulated card', () => {
  let emulator: ReturnType<typeof buildEmulator>;
  const card = (setup: CardSetup) => new EmulatedCard(emulator.shim, emulator.dir, setup);

  beforeAll(() => {
    emulator = buildEmulator();
  });
  afterAll(() => emulator?.cleanup());

  it('status: reads the CSD with CMD7(0), CMD9, CMD7(RCA) and leaves the card selected', async () => {
    const sd = card({ csd: SDHC });
    const run = await sd.sd('status', '/dev/mmcblk0', '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status).toMatchObject({ device: '/dev/mmcblk0', state: 'off', rca: 0xaaaa, mmcDevice: 'mmc0:aaaa', cardType: 'SD' });
    expect(status.csd).toMatchObject({ version: '2.0', capacityBytes: 15_931_539_456, copy: true, permWriteProtect: false, tmpWriteProtect: false, hex: SDHC, crcValid: true });
    // One MMC_IOC_MULTI_CMD batch: no block I/O can reach the card while it is deselected.
    expect(sd.log()).toEqual([
      'MULTI 3',
      'CMD7 arg=0x00000000 flags=0x0 write=0 blksz=0 blocks=0 state=4 -> ok',
      'CMD9 arg=0xaaaa0000 flags=0x7 write=0 blksz=0 blocks=0 state=3 -> ok',
      'CMD7 arg=0xaaaa0000 flags=0x1d write=0 blksz=0 blocks=0 state=3 -> ok',
    ]);
    expect(sd.card()).toEqual({ csd: SDHC, state: TRANSFER });

    const text = await sd.sd('status', '/dev/mmcblk0');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('/dev/mmcblk0: not write-protected');
    expect(text.stdout).toContain('TMP_WRITE_PROTECT=0');
    expect(text.stdout).toContain(SDHC);
  });

  it('lock sets TMP_WRITE_PROTECT with CMD27, verifies by reading back; unlock clears it', async () => {
    const sd = card({ csd: SDHC });
    const lock = await sd.sd('lock', '/dev/mmcblk0');
    expect(lock.stderr).toBe('');
    expect(lock.code).toBe(0);
    expect(lock.stdout).toMatch(/write-protected \(read back and verified\)/);
    const locked = sd.card()!;
    expect(flagsByte(locked.csd)).toBe(0x50); // COPY kept, TMP set
    expect(locked.csd.slice(0, 28)).toBe(SDHC.slice(0, 28));
    expect(crcOk(locked.csd)).toBe(true);
    expect(locked.state).toBe(TRANSFER);
    const program = sd.log().find((l) => l.startsWith('CMD27'))!;
    expect(program).toMatch(/write=1 blksz=16 blocks=1 state=4 -> ok/);
    expect(sd.log().some((l) => l.startsWith('CMD13'))).toBe(true);

    // A new process sees the lock.
    const status = JSON.parse((await sd.sd('status', '/dev/mmcblk0', '--json')).stdout);
    expect(status.state).toBe('temporary');
    expect(status.csd.tmpWriteProtect).toBe(true);

    const again = await sd.sd('lock', '/dev/mmcblk0');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already write-protected; nothing to do');

    const unlock = await sd.sd('unlock', '/dev/mmcblk0', '--json');
    expect(unlock.code).toBe(0);
    expect(JSON.parse(unlock.stdout)).toMatchObject({ state: 'off', previousState: 'temporary', changed: true });
    expect(sd.card()).toEqual({ csd: SDHC, state: TRANSFER });
  });

  it.each(['no-multi', 'multi-noop'] as const)('falls back to one MMC_IOC_CMD per command when the batch ioctl is %s', async (fault) => {
    const sd = card({ csd: SDHC, fault });
    const lock = await sd.sd('lock', '/dev/mmcblk0', '--json');
    expect(lock.stderr).toBe('');
    expect(JSON.parse(lock.stdout)).toMatchObject({ state: 'temporary', changed: true });
    const singles = sd.log().filter((l) => !l.startsWith('MULTI') && !l.startsWith('CMD13'));
    const commands = singles.map((l) => l.replace(/ flags.*state=/, ' state='));
    const read = ['CMD7 arg=0x00000000 state=4 -> ok', 'CMD9 arg=0xaaaa0000 state=3 -> ok', 'CMD7 arg=0xaaaa0000 state=3 -> ok'];
    expect(commands).toEqual([...read, ...read, 'CMD27 arg=0x00000000 state=4 -> ok', ...read]);
    expect(flagsByte(sd.card()!.csd)).toBe(0x50);
  });

  it('works with a card model that does not answer CMD13: the stale ILLEGAL_COMMAND bit is not taken as a refusal', async () => {
    const sd = card({ csd: SDHC, fault: 'no-cmd13' });
    const lock = await sd.sd('lock', '/dev/mmcblk0', '--json');
    expect(lock.stderr).toBe('');
    expect(JSON.parse(lock.stdout)).toMatchObject({ state: 'temporary', changed: true });
    expect(sd.log().find((l) => l.startsWith('CMD13'))).toMatch(/timed out/);
    expect(flagsByte(sd.card()!.csd)).toBe(0x50);
  });

  it('finds the RCA from the device name when sysfs has no rca attribute (SDSC card on mmc1:1234)', async () => {
    const sd = card({ csd: SDSC, device: '/dev/mmcblk1', rca: 0x1234 });
    const lock = await sd.sd('lock', '/dev/mmcblk1', '--json');
    expect(lock.stderr).toBe('');
    const status = JSON.parse(lock.stdout);
    expect(status).toMatchObject({ state: 'temporary', rca: 0x1234, mmcDevice: 'mmc1:1234' });
    expect(status.csd).toMatchObject({ version: '1.0', capacityBytes: 2_059_403_264 });
    expect(sd.log()[2]).toMatch(/^CMD9 arg=0x12340000/);
  });

  it('permlock needs --yes-permanently, then sets PERM_WRITE_PROTECT for good; unlock is refused', async () => {
    const sd = card({ csd: SDHC });
    const unconfirmed = await sd.sd('permlock', '/dev/mmcblk0');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/read-only forever.*--yes-permanently/);
    expect(sd.log()).toEqual([]); // nothing was sent to the card

    const perm = await sd.sd('permlock', '/dev/mmcblk0', '--yes-permanently');
    expect(perm.stderr).toBe('');
    expect(perm.code).toBe(0);
    expect(perm.stdout).toMatch(/PERMANENTLY write-protected; this can never be undone/);
    const locked = sd.card()!;
    expect(flagsByte(locked.csd)).toBe(0x60);
    expect(crcOk(locked.csd)).toBe(true);

    const unlock = await sd.sd('unlock', '/dev/mmcblk0');
    expect(unlock.code).toBe(1);
    expect(unlock.stderr).toMatch(/permanently write-protected.*never be undone/);
    expect(sd.card()!.csd).toBe(locked.csd);
    expect(sd.log().filter((l) => l.startsWith('CMD27'))).toHaveLength(1);

    const status = await sd.sd('status', '/dev/mmcblk0');
    expect(status.stdout).toContain('PERMANENTLY write-protected');
    const lock = await sd.sd('lock', '/dev/mmcblk0');
    expect(lock.stdout).toContain('already permanently write-protected');
  });

  it('the card refuses to clear PERM_WRITE_PROTECT (CSD_OVERWRITE), and the addon reports it', async () => {
    expect(decodeCsd(csdFromHex(SDHC)).permWriteProtect).toBe(false);
    const lockedHex = '400e00325b59000076b27f800a406000'; // PERM set; the emulator adds the CRC
    const sd = card({ csd: lockedHex });
    const cleared = csdFromHex(SDHC); // PERM clear, valid CRC
    const raw = JSON.parse((await sd.script('program-raw.ts', '/dev/mmcblk0', Buffer.from(cleared).toString('hex'))).stdout);
    expect(raw).toMatchObject({ ok: false, code: 'CARD_STATUS', programmed: true });
    expect(raw.cardStatus & (1 << 16)).toBe(1 << 16); // CSD_OVERWRITE
    expect(flagsByte(sd.card()!.csd)).toBe(0x60);
  });

  it('a CRC error on the bus: the card rejects the block, the CSD is unchanged, the user is told', async () => {
    const sd = card({ csd: SDHC, fault: 'crc' });
    const lock = await sd.sd('lock', '/dev/mmcblk0');
    expect(lock.code).toBe(1);
    expect(lock.stderr).toMatch(/refused CMD27 PROGRAM_CSD: a CRC error/);
    expect(sd.card()!.csd).toBe(SDHC);
    expect(sd.log().find((l) => l.startsWith('CMD27'))).toMatch(/Invalid or incomplete multibyte|Illegal byte sequence/);
  });

  it('a card that accepts CMD27 but keeps its old CSD fails the read-back check', async () => {
    const sd = card({ csd: SDHC, fault: 'ignore-csd' });
    const lock = await sd.sd('lock', '/dev/mmcblk0');
    expect(lock.code).toBe(1);
    expect(lock.stderr).toMatch(/reads back a different one/);
  });

  it('a USB card reader (ENOTTY): says such readers cannot pass the command', async () => {
    const sd = card({ csd: SDHC, fault: 'enotty' });
    const run = await sd.sd('status', '/dev/mmcblk0');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not an SD card in a raw MMC\/SD slot.*USB card readers cannot pass/);
    // And a reader that is not an mmc device in sysfs at all.
    const usb = await sd.sd('lock', '/dev/sda');
    expect(usb.code).toBe(1);
    expect(usb.stderr).toMatch(/USB card readers cannot pass/);
    // A mistyped name is not in sysfs either: the message says to check it.
    const typo = await sd.sd('status', '/dev/mmcblk9');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/There is no \/dev\/mmcblk9 on this system: check the name/);
  });

  it('no permission (EACCES on open, EPERM on the ioctl): says to run as root', async () => {
    for (const fault of ['eacces', 'eperm'] as const) {
      const sd = card({ csd: SDHC, fault });
      const run = await sd.sd('lock', '/dev/mmcblk0');
      expect(run.code, fault).toBe(1);
      expect(run.stderr, fault).toMatch(/No permission.*run bootcard as root/i);
      expect(sd.card(), fault).toBeNull(); // the card never saw a command
    }
  });

  it('no card (ENOMEDIUM) and a card that does not answer (ETIMEDOUT, re-selected afterwards)', async () => {
    const none = card({ csd: SDHC, fault: 'nomedium' });
    const missing = await none.sd('status', '/dev/mmcblk0');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/No card found at \/dev\/mmcblk0/);

    const slow = card({ csd: SDHC, fault: 'timeout' });
    const run = await slow.sd('status', '/dev/mmcblk0');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/did not answer in time \(CMD9 SEND_CSD\)/);
    expect(slow.card()!.state).toBe(TRANSFER);
  });

  it('refuses a partition and an eMMC chip before programming anything', async () => {
    const sd = card({ csd: SDHC });
    const part = await sd.sd('lock', '/dev/mmcblk0p1');
    expect(part.code).toBe(1);
    expect(part.stderr).toMatch(/is a partition.*\/dev\/mmcblk0\b/);
    const emmc = card({ csd: 'd00f00320f5903ffffffffff92404011', device: '/dev/mmcblk2', rca: 1 });
    const run = await emmc.sd('lock', '/dev/mmcblk2');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/eMMC\/MMC device.*not an SD memory card/);
    expect(emmc.log().some((l) => l.startsWith('CMD27'))).toBe(false);
  });

  it('refuses to lock a card with a mounted partition (the mounted file system would fail) unless --allow-mounted; unlock still works', async () => {
    const mounts = path.join(emulator.dir, 'mounts');
    writeFileSync(mounts, 'proc /proc proc rw 0 0\n/dev/mmcblk0p1 /media/pi/boot\\040fs vfat rw 0 0\n');
    const sd = card({ csd: SDHC, mounts });
    const lock = await sd.sd('lock', '/dev/mmcblk0');
    expect(lock.code).toBe(1);
    expect(lock.stderr).toMatch(/is mounted \(\/dev\/mmcblk0p1 on \/media\/pi\/boot fs\)\. Unmount it first/);
    expect(sd.log().some((l) => l.startsWith('CMD27'))).toBe(false);
    const perm = await sd.sd('permlock', '/dev/mmcblk0', '--yes-permanently');
    expect(perm.code).toBe(1);
    expect(sd.card()!.csd).toBe(SDHC);
    const forced = await sd.sd('lock', '/dev/mmcblk0', '--allow-mounted', '--json');
    expect(JSON.parse(forced.stdout).state).toBe('temporary');
    expect((await sd.sd('unlock', '/dev/mmcblk0')).code).toBe(0);
  });

  it('runs off the event loop: timers keep firing while a slow card answers', async () => {
    const sd = card({ csd: SDHC, delayMs: 300 });
    const run = await sd.script('event-loop.ts', '/dev/mmcblk0');
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.state).toBe('off');
    expect(result.ms).toBeGreaterThanOrEqual(300); // one 300 ms batch
    // ~30 if nothing blocks; a blocked loop gets at most a tick or two (an interval does not catch up on
    // missed ticks). 5 leaves room for a CI machine busy with the other test files' processes.
    expect(result.ticks).toBeGreaterThanOrEqual(5);
  });
});

describe('without the built addon', () => {
  it('says to run npm install / npm rebuild (a fresh copy of the sources, no native/build)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-noaddon-'));
    try {
      for (const file of ['electron/core/errors.ts', 'electron/core/sdlock/csd.ts', 'electron/core/sdlock/sdlock.io.ts']) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        copyFileSync(path.join(ROOT, file), path.join(dir, file));
      }
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bootcard', type: 'module' }));
      const script = path.join(dir, 'status.ts');
      writeFileSync(
        script,
        "import { getSdLockStatus } from './electron/core/sdlock/sdlock.io.js';\n" +
          "try { await getSdLockStatus('/dev/mmcblk0'); } catch (e) { const { code, message } = e as { code: string; message: string }; console.log(JSON.stringify({ code, message })); }\n",
      );
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, encoding: 'utf8' });
      const result = JSON.parse(run.stdout);
      expect(result.code).toBe('SDLOCK_ADDON_MISSING');
      expect(result.message).toMatch(/Run `npm install` \(or `npm rebuild`\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
