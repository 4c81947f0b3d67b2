/** As an ordinary user, a file bootcard may not read or write is named with what to do, never "let bootcard ask for privileges" (these commands never ask). */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { eepromFixture, hasShared, uefiFixture } from '../helpers/shared.js';
import { startCli } from '../writer/cli-process.js';

const NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];

async function asNobody(args: readonly string[]) {
  return startCli(args, { prefix: NOBODY, env: { ...process.env, HOME: os.tmpdir() } }).exited;
}

// Root and loop devices are needed to act as another user on real files and a real block device.
describeLoop('permission messages for an ordinary user', () => {
  let dir: string;
  let loop: LoopDevice | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-perm-'));
    chmodSync(dir, 0o755);
    mkdirSync(path.join(dir, 'private'), { mode: 0o700 });
  });
  afterAll(() => {
    loop?.detach();
    rmSync(dir, { recursive: true, force: true });
  });

  const noPrivilegeTalk = (stderr: string) => {
    expect(stderr).not.toMatch(/Run as root|let bootcard ask/);
  };

  it.runIf(hasShared)('eeprom build: an unreadable --base and an unwritable output folder are each named', async () => {
    const hidden = path.join(dir, 'private', 'base.bin');
    copyFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin'), hidden);
    const read = await asNobody(['eeprom', 'build', '--base', hidden, '--out', path.join(os.tmpdir(), 'never.bin')]);
    expect(read.code).toBe(1);
    expect(read.stderr).toContain(`your user may not open ${hidden}`);
    expect(read.stderr).toContain('ls -ld');
    noPrivilegeTalk(read.stderr);
    const write = await asNobody(['eeprom', 'build', '--base', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--out', path.join(dir, 'x.bin')]);
    expect(write.code).toBe(1);
    expect(write.stderr).toContain(`Your user may not write into the folder ${dir} (--out ${path.join(dir, 'x.bin')})`);
    noPrivilegeTalk(write.stderr);
  });

  it.runIf(hasShared)('uefi vars set FILE in a folder the user cannot write: the folder is named', async () => {
    const fd = path.join(dir, 'RPI_EFI.fd');
    copyFileSync(uefiFixture('rpi-efi-v1.34-layout.fd'), fd);
    chmodSync(fd, 0o644);
    const run = await asNobody(['uefi', 'vars', 'set', fd, '--boot-timeout', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Your user may not write into the folder ${dir}`);
    noPrivilegeTalk(run.stderr);
  });

  it('card inspect of a card device the user cannot read: names the device and says how to get read access', async () => {
    loop = attachLoop(8 * 1024 * 1024, dir);
    const run = await asNobody(['card', 'inspect', loop.device]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`your user may not open ${loop.device}`);
    expect(run.stderr).toMatch(/add your user to the group that owns it .* or run this command with sudo/);
    noPrivilegeTalk(run.stderr);
  });
});
