/**
 * `bootcard netboot tree` on a real (small) Raspberry Pi OS-shaped image,
 * compressed: the per-Pi TFTP folders, the shared boot files, cmdline.txt,
 * and the NFS roots with owners, modes, links, device nodes and capabilities,
 * checked with the system's own tools (getcap, getfattr, stat).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePiId } from '../../electron/core/netboot/pi-id.js';
import { buildNetbootTree } from '../../electron/core/netboot/tree.io.js';
import { runBootcard } from '../helpers/cli.js';
import { BOOT_FILES, bootFileBytes, buildOsImage, IMAGE_CONFIG_TXT, toolsMissing, type BuiltImage } from './os-image.js';

const missing = toolsMissing();
if (missing) console.warn(`[skip] netboot tree tests: ${missing}.`);
const describeTools = missing ? describe.skip : describe;

/** Byte comparison without vitest's element-by-element deep equality (slow on 300 KB). */
const sameBytes = (file: string, name: string) => readFileSync(file).equals(bootFileBytes(name));

const MAC = 'dc-a6-32-01-36-c2';
const SERIAL = '9ffefdef';
const SERVER = '10.42.0.211';

describeTools('bootcard netboot tree', () => {
  let dir: string;
  let image: BuiltImage;
  let tftp: string;
  let nfs: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bootcard-netboot-tree-'));
    image = buildOsImage(dir);
    tftp = path.join(dir, 'srv', 'tftp');
    nfs = path.join(dir, 'srv', 'nfs');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds a MAC and a serial folder and their NFS roots from an .xz image', async () => {
    writeFileSync(path.join(dir, 'pis.csv'), `id,hostname,ssh,user\nDC:A6:32:01:36:C2,rack1-pi1,yes,pi:$6$rounds=5000$salt$hash0123456789\n${SERIAL},rack1-pi2,,\n`);
    const run = await runBootcard(['netboot', 'tree', '--image', image.xz, '--tftp-root', tftp, '--nfs-root', nfs, '--server', SERVER, '--pis', path.join(dir, 'pis.csv')]);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${MAC}/  (MAC, TFTP_PREFIX=2)`);
    expect(run.stdout).toContain(`${SERIAL}/  (serial, TFTP_PREFIX=0)`);
    expect(readdirSync(tftp).filter((n) => !n.startsWith('.')).sort()).toEqual(['9ffefdef', 'bootcode.bin', 'dc-a6-32-01-36-c2']);
  });

  it('every boot file is in each Pi folder, byte for byte, as a hard link to one shared copy', () => {
    for (const name of Object.keys(BOOT_FILES)) {
      const a = path.join(tftp, MAC, name);
      const b = path.join(tftp, SERIAL, name);
      expect(sameBytes(a, name)).toBe(true);
      expect(statSync(a).ino).toBe(statSync(b).ino);
      expect(statSync(a).mode & 0o777).toBe(0o644);
    }
    expect(statSync(path.join(tftp, 'bootcode.bin')).ino).toBe(statSync(path.join(tftp, MAC, 'bootcode.bin')).ino);
    // One boot partition's worth of data, however many Pis.
    const du = (p: string) => Number(execFileSync('du', ['-s', '--block-size=1', p], { encoding: 'utf8' }).split('\t')[0]);
    const bootBytes = Object.values(BOOT_FILES).reduce((a, b) => a + b, 0);
    expect(du(tftp)).toBeLessThan(bootBytes * 1.5);
  });

  it('cmdline.txt keeps the image\'s arguments and names each Pi\'s own NFS root; config.txt is the image\'s', () => {
    for (const folder of [MAC, SERIAL]) {
      expect(readFileSync(path.join(tftp, folder, 'cmdline.txt'), 'utf8')).toBe(
        `console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=${SERVER}:${nfs}/${folder},vers=4.1,proto=tcp rw ip=dhcp rootwait fsck.repair=yes quiet splash\n`,
      );
      expect(readFileSync(path.join(tftp, folder, 'config.txt'), 'utf8')).toBe(IMAGE_CONFIG_TXT);
    }
    expect(statSync(path.join(tftp, MAC, 'cmdline.txt')).ino).not.toBe(statSync(path.join(tftp, SERIAL, 'cmdline.txt')).ino);
  });

  it('first-boot options are per Pi: ssh and the user for one, nothing for the other', () => {
    expect(existsSync(path.join(tftp, MAC, 'ssh'))).toBe(true);
    expect(readFileSync(path.join(tftp, MAC, 'userconf.txt'), 'utf8')).toBe('pi:$6$rounds=5000$salt$hash0123456789\n');
    expect(existsSync(path.join(tftp, SERIAL, 'ssh'))).toBe(false);
    expect(existsSync(path.join(tftp, SERIAL, 'userconf.txt'))).toBe(false);
    expect(readFileSync(path.join(nfs, MAC, 'etc/hostname'), 'utf8')).toBe('rack1-pi1\n');
    expect(readFileSync(path.join(nfs, MAC, 'etc/hosts'), 'utf8')).toMatch(/^127\.0\.1\.1\track1-pi1$/m);
    expect(readFileSync(path.join(nfs, MAC, 'etc/hosts'), 'utf8')).not.toContain('raspberrypi');
  });

  it('the NFS roots keep owners, modes, set-uid, links, device nodes and file capabilities', () => {
    for (const folder of [MAC, SERIAL]) {
      const root = path.join(nfs, folder);
      const tool = statSync(path.join(root, 'usr/bin/tool'));
      expect(tool.mode & 0o7777).toBe(0o755);
      expect(statSync(path.join(root, 'usr/bin/sudo')).mode & 0o7777).toBe(0o4755);
      expect(statSync(path.join(root, 'usr/bin/tool-again')).ino).toBe(tool.ino);
      expect(lstatSync(path.join(root, 'bin/tool')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(path.join(root, 'bin/tool'))).toBe('../usr/bin/tool');
      const secret = statSync(path.join(root, 'home/pi/secret'));
      expect([secret.uid, secret.gid, secret.mode & 0o7777]).toEqual([1000, 1000, 0o600]);
      expect(readFileSync(path.join(root, 'home/pi/secret'), 'utf8')).toBe('only for pi\n');
      const devNull = statSync(path.join(root, 'dev/null'));
      expect(devNull.isCharacterDevice()).toBe(true);
      expect([devNull.rdev >> 8, devNull.rdev & 0xff, devNull.mode & 0o777]).toEqual([1, 3, 0o666]);
      expect(execFileSync('getcap', [path.join(root, 'usr/bin/ping')], { encoding: 'utf8' })).toMatch(/cap_net_raw[=+]ep/);
    }
  });

  it('/etc/fstab drops the SD card and mounts the Pi\'s TFTP folder at /boot/firmware', () => {
    const fstab = readFileSync(path.join(nfs, SERIAL, 'etc/fstab'), 'utf8');
    const active = fstab.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(active).toEqual(['proc            /proc           proc    defaults          0       0', `${SERVER}:${tftp}/${SERIAL} /boot/firmware nfs defaults,vers=4.1,proto=tcp 0 0`]);
  });

  it('re-running updates the tree in place: new config.txt, same shared files, nothing left over', async () => {
    const before = statSync(path.join(tftp, MAC, 'kernel8.img')).ino;
    const run = await runBootcard(['netboot', 'tree', '--image', image.zst, '--tftp-root', tftp, '--pi', MAC, '--pi', SERIAL, '--config-txt', 'enable_uart=0', '--dtoverlay', 'disable-bt']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('(updated)');
    const config = readFileSync(path.join(tftp, MAC, 'config.txt'), 'utf8');
    expect(config).toContain('enable_uart=0');
    expect(config).toContain('dtoverlay=disable-bt');
    expect(statSync(path.join(tftp, MAC, 'kernel8.img')).ino).toBe(before);
    expect(readdirSync(tftp).filter((n) => n.startsWith('.bootcard-work'))).toEqual([]);
    expect(readdirSync(path.join(tftp, '.bootcard-shared'))).toHaveLength(Object.keys(BOOT_FILES).length);
    // Without --nfs-root the NFS roots stay as they were; without --ssh this run's MAC folder has none.
    expect(existsSync(path.join(nfs, MAC, 'etc/hostname'))).toBe(true);
    expect(existsSync(path.join(tftp, MAC, 'ssh'))).toBe(false);
  });

  it('a gzip image gives the same boot files', async () => {
    const other = path.join(dir, 'gz-tftp');
    const run = await runBootcard(['netboot', 'tree', '--image', image.gz, '--tftp-root', other, '--pi', 'str:rack1']);
    expect(run.code).toBe(0);
    expect(sameBytes(path.join(other, 'rack1', 'start4.elf'), 'start4.elf')).toBe(true);
  });

  it('never replaces a Pi folder bootcard did not make, and changes nothing', async () => {
    const theirs = path.join(tftp, 'aabbccdd');
    mkdirSync(theirs);
    writeFileSync(path.join(theirs, 'kernel8.img'), 'their own kernel');
    const macCmdline = readFileSync(path.join(tftp, MAC, 'cmdline.txt'), 'utf8');
    const run = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', tftp, '--pi', MAC, '--pi', 'aabbccdd', '--config-txt', 'enable_uart=1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/aabbccdd exists and bootcard did not make it.*never replaces it/);
    expect(readFileSync(path.join(theirs, 'kernel8.img'), 'utf8')).toBe('their own kernel');
    expect(readFileSync(path.join(tftp, MAC, 'config.txt'), 'utf8')).toContain('enable_uart=0');
    expect(readFileSync(path.join(tftp, MAC, 'cmdline.txt'), 'utf8')).toBe(macCmdline);
  });

  it('a damaged image fails the run and leaves the old folders working', async () => {
    const broken = path.join(dir, 'broken.img.xz');
    const xz = readFileSync(image.xz);
    writeFileSync(broken, xz.subarray(0, Math.floor(xz.length / 2)));
    const inode = statSync(path.join(tftp, SERIAL)).ino;
    const run = await runBootcard(['netboot', 'tree', '--image', broken, '--tftp-root', tftp, '--pi', SERIAL]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Could not decompress .*broken\.img\.xz \(xz\)/);
    expect(statSync(path.join(tftp, SERIAL)).ino).toBe(inode);
    expect(sameBytes(path.join(tftp, SERIAL, 'kernel8.img'), 'kernel8.img')).toBe(true);
    expect(readdirSync(tftp).filter((n) => n.startsWith('.bootcard-work'))).toEqual([]);
  });

  it('bad input is refused before anything is written', async () => {
    const fresh = path.join(dir, 'never');
    const noServer = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', fresh, '--nfs-root', path.join(dir, 'n2'), '--pi', MAC]);
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toMatch(/--server IP/);
    const badId = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', fresh, '--pi', '../etc']);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toMatch(/"\.\.\/etc" is not a Pi ID/);
    const clearPassword = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', fresh, '--pi', MAC, '--user', 'pi:raspberry']);
    expect(clearPassword.code).toBe(1);
    expect(clearPassword.stderr).toMatch(/password hash, not a password/);
    const device = await runBootcard(['netboot', 'tree', '--image', '/dev/null', '--tftp-root', fresh, '--pi', MAC]);
    expect(device.code).toBe(1);
    expect(device.stderr).toMatch(/\/dev\/null is not an image file/);
    const spaced = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', fresh, '--nfs-root', path.join(dir, 'nfs root'), '--server', SERVER, '--pi', MAC]);
    expect(spaced.code).toBe(2);
    expect(spaced.stderr).toMatch(/space or comma, which the Pi's cmdline\.txt and \/etc\/fstab cannot hold/);
    expect(existsSync(fresh)).toBe(false);
  });

  it('a shared boot file folder others may write to is refused (it could hold a link to any server file)', async () => {
    const root = path.join(dir, 'open-tftp');
    mkdirSync(path.join(root, '.bootcard-shared'), { recursive: true });
    chmodSync(path.join(root, '.bootcard-shared'), 0o777);
    const run = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', root, '--pi', MAC]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\.bootcard-shared is not a folder only bootcard's user can write to/);
    expect(existsSync(path.join(root, MAC))).toBe(false);
  });

  it('an image whose /etc is a link out of the root cannot make bootcard write through it', async () => {
    const evil = path.join(dir, 'evil');
    const victim = path.join(dir, 'victim-etc');
    mkdirSync(evil);
    mkdirSync(victim);
    writeFileSync(path.join(victim, 'fstab'), 'the server\'s own fstab\n');
    const built = buildOsImage(evil, {
      compress: false,
      changeRoot: (rootDir) => {
        rmSync(path.join(rootDir, 'etc'), { recursive: true });
        symlinkSync(victim, path.join(rootDir, 'etc'));
      },
    });
    const run = await runBootcard(['netboot', 'tree', '--image', built.img, '--tftp-root', path.join(evil, 'tftp'), '--nfs-root', path.join(evil, 'nfs'), '--server', SERVER, '--pi', MAC]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\/etc\/fstab in the image's root goes through a link/);
    expect(readFileSync(path.join(victim, 'fstab'), 'utf8')).toBe('the server\'s own fstab\n');
    expect(readdirSync(path.join(evil, 'nfs'))).toEqual([]);
  });

  it('one run at a time: a live run\'s lock is respected, a killed run\'s lock and half-built folders are cleaned up', async () => {
    const lock = path.join(tftp, '.bootcard-netboot.lock');
    writeFileSync(lock, `${process.pid}\n`);
    const busy = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', tftp, '--pi', SERIAL]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(new RegExp(`Another bootcard netboot tree \\(process ${process.pid}\\) is building`));
    const dead = spawnSync('true').pid!;
    writeFileSync(lock, `${dead}\n`);
    mkdirSync(path.join(tftp, '.bootcard-work-9ffefdef-killed'));
    writeFileSync(path.join(tftp, '.bootcard-work-9ffefdef-killed', 'kernel8.img'), 'half');
    const run = await runBootcard(['netboot', 'tree', '--image', image.img, '--tftp-root', tftp, '--pi', SERIAL]);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(tftp).filter((n) => n.startsWith('.bootcard-work') || n === '.bootcard-netboot.lock')).toEqual([]);
  });

  it.each(['Decompressing', 'Extracting', 'NFS root'])('cancelling at "%s" stops the run, leaves the Pi folders as they were and no child process behind', async (at) => {
    const controller = new AbortController();
    const before = statSync(path.join(nfs, MAC)).ino;
    const run = buildNetbootTree({
      image: image.xz,
      tftpRoot: tftp,
      nfsRoot: nfs,
      server: SERVER,
      pis: [{ id: parsePiId(MAC) }],
      signal: controller.signal,
      // Aborted as the step starts: its child process (xz, debugfs, cp) is started with an aborted signal.
      onProgress: (text) => {
        if (text.startsWith(at)) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(statSync(path.join(nfs, MAC)).ino).toBe(before);
    expect([...readdirSync(tftp), ...readdirSync(nfs)].filter((n) => n.startsWith('.bootcard-work') || n.endsWith('.lock'))).toEqual([]);
    const children = spawnSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' }).stdout;
    expect(children).not.toMatch(/debugfs|xz|\bcp\b/);
  });
});
