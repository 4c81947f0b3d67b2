/**
 * boot.img for HTTP boot: a FAT image with no partition table (as
 * rpi-make-boot-image's mkfs.fat -C makes it) that fsck.fat accepts and
 * bootcard's own FAT reader lists, and its boot.sig.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePieepromSig } from '../../electron/core/eeprom/index.js';
import { composeFat32Image } from '../../electron/core/fat32/compose.js';
import { PartitionType } from '../../electron/core/fat32/mbr.js';
import { readFatImage } from '../../electron/core/fat32/reader.js';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { saveSparseImage } from '../../electron/core/image/sparse-image.io.js';
import { runBootcard } from '../helpers/cli.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';

const hasFsck = spawnSync('fsck.fat', ['--help']).error === undefined;
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasFsck) console.warn('[skip] fsck.fat (dosfstools) is not installed: the boot.img tests need it as an independent check.');
const describeBootImage = hasFsck ? describe : describe.skip;

const TS = 1_790_000_000;
let dir = '';
const at = (...parts: string[]) => path.join(dir, ...parts);
const BOOT_FILES: Record<string, Uint8Array> = {
  'config.txt': new TextEncoder().encode('arm_64bit=1\nkernel=kernel8.img\ninitramfs initramfs8 followkernel\n'),
  'kernel8.img': pseudoRandomBytes(3 * 1024 * 1024 + 123, 1),
  initramfs8: pseudoRandomBytes(1024 * 1024 + 7, 2),
  'bcm2711-rpi-4-b.dtb': pseudoRandomBytes(52_000, 3),
  'start4.elf': pseudoRandomBytes(2_200_000, 4),
  'fixup4.dat': pseudoRandomBytes(5_400, 5),
  'overlays/miniuart-bt.dtbo': pseudoRandomBytes(1_200, 6),
  'overlays/a-rather-long-overlay-name-for-lfn.dtbo': pseudoRandomBytes(900, 7),
};

async function listBootImage(file: string): Promise<Map<string, Uint8Array>> {
  const reader = await openByteReader(file, { what: 'boot.img' });
  try {
    const fat = await readFatImage(reader);
    expect(fat.partitions).toBeNull();
    const out = new Map<string, Uint8Array>();
    for (const e of await fat.volume.files()) out.set(e.path, await fat.volume.readFile(e.path));
    return out;
  } finally {
    await reader.close();
  }
}

describeBootImage('eeprom boot-image', () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bootcard-boot-image-'));
    for (const [name, data] of Object.entries(BOOT_FILES)) {
      mkdirSync(path.dirname(at('boot', name)), { recursive: true });
      writeFileSync(at('boot', name), data);
    }
    if (hasOpenssl) {
      spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('private.pem')]);
      spawnSync('openssl', ['pkey', '-in', at('private.pem'), '-pubout', '-out', at('public.pem')]);
    }
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('from a boot folder: a table-less FAT image labelled BOOT that fsck.fat accepts, holding every file byte for byte', async () => {
    mkdirSync(at('out'), { recursive: true }); // bootcard creates no folder above an output
    const r = await runBootcard(['eeprom', 'boot-image', '--boot-dir', at('boot'), '--out', at('out', 'boot.img'), '--timestamp', String(TS)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/boot\.sig is not signed/);
    const fsck = spawnSync('fsck.fat', ['-n', '-v', at('out', 'boot.img')], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    expect(fsck.stdout).toMatch(/32 bit entries/);
    expect(fsck.stdout).toMatch(/ 0 hidden sectors/);
    const files = await listBootImage(at('out', 'boot.img'));
    expect([...files.keys()].sort()).toEqual(Object.keys(BOOT_FILES).sort());
    for (const [name, data] of Object.entries(BOOT_FILES)) expect(Buffer.compare(files.get(name)!, data), name).toBe(0);
    // Sized to its content: the smallest FAT32 volume (about 34 MiB) holds these 6.5 MiB.
    expect(statSync(at('out', 'boot.img')).size).toBe(34 * 1024 * 1024);
    const label = readFileSync(at('out', 'boot.img')).subarray(0x47, 0x52).toString('latin1');
    expect(label).toBe('BOOT       ');
    const sig = parsePieepromSig(readFileSync(at('out', 'boot.sig'), 'utf8'));
    expect(sig.ts).toBe(TS);
    expect(sig.rsa2048).toBeUndefined();
  });

  it('grows with the content: 40 MiB of files make a volume that holds them', async () => {
    mkdirSync(at('big'));
    writeFileSync(at('big', 'kernel8.img'), pseudoRandomBytes(40 * 1024 * 1024, 9));
    writeFileSync(at('big', 'config.txt'), 'kernel=kernel8.img\n');
    const r = await runBootcard(['eeprom', 'boot-image', '--boot-dir', at('big'), '--out', at('big.img'), '--timestamp', String(TS)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/remove what it does not need/);
    const size = statSync(at('big.img')).size;
    expect(size).toBeGreaterThan(40 * 1024 * 1024);
    expect(size).toBeLessThan(44 * 1024 * 1024);
    expect(spawnSync('fsck.fat', ['-n', at('big.img')]).status).toBe(0);
    expect((await listBootImage(at('big.img'))).get('kernel8.img')!.length).toBe(40 * 1024 * 1024);
  });

  it.runIf(hasOpenssl)('--sign-key writes a boot.sig that eeprom verify and openssl accept', async () => {
    mkdirSync(at('signed'), { recursive: true }); // bootcard creates no folder above an output
    const r = await runBootcard(['eeprom', 'boot-image', '--boot-dir', at('boot'), '--out', at('signed', 'boot.img'), '--sign-key', at('private.pem'), '--timestamp', String(TS)]);
    expect(r.code).toBe(0);
    const verify = await runBootcard(['eeprom', 'verify', at('signed', 'boot.img'), '--sig', at('signed', 'boot.sig'), '--key', at('public.pem')]);
    expect(verify.code).toBe(0);
    const sig = parsePieepromSig(readFileSync(at('signed', 'boot.sig'), 'utf8'));
    writeFileSync(at('boot-sig.bin'), Buffer.from(sig.rsa2048!, 'hex'));
    const openssl = spawnSync('openssl', ['dgst', '-sha256', '-verify', at('public.pem'), '-signature', at('boot-sig.bin'), at('signed', 'boot.img')], { encoding: 'utf8' });
    expect(openssl.stdout).toContain('Verified OK');
  });

  it('from an OS image: the files of its boot partition', async () => {
    const os = composeFat32Image({
      files: [
        { path: 'config.txt', data: BOOT_FILES['config.txt']! },
        { path: 'kernel_2712.img', data: pseudoRandomBytes(700_000, 11) },
        { path: 'overlays/x.dtbo', data: pseudoRandomBytes(999, 12) },
      ],
      partitionSize: 64 * 1024 * 1024,
      partitionType: PartitionType.FAT32_LBA,
      label: 'bootfs',
      timestamp: TS,
    });
    await saveSparseImage(os, at('os.img'));
    mkdirSync(at('from-os'), { recursive: true }); // bootcard creates no folder above an output
    const r = await runBootcard(['eeprom', 'boot-image', '--image', at('os.img'), '--out', at('from-os', 'boot.img'), '--timestamp', String(TS)]);
    expect(r.code).toBe(0);
    const files = await listBootImage(at('from-os', 'boot.img'));
    expect([...files.keys()].sort()).toEqual(['config.txt', 'kernel_2712.img', 'overlays/x.dtbo']);
    expect(spawnSync('fsck.fat', ['-n', at('from-os', 'boot.img')]).status).toBe(0);
  });

  it('refuses an empty folder, a symbolic link inside it, and both or neither source', async () => {
    mkdirSync(at('empty'));
    const empty = await runBootcard(['eeprom', 'boot-image', '--boot-dir', at('empty'), '--out', at('never.img')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/The boot folder has no files/);
    mkdirSync(at('linked'));
    writeFileSync(at('linked', 'config.txt'), 'x\n');
    symlinkSync('/etc/passwd', at('linked', 'passwd'));
    const linked = await runBootcard(['eeprom', 'boot-image', '--boot-dir', at('linked'), '--out', at('never.img')]);
    expect(linked.code).toBe(1);
    expect(linked.stderr).toMatch(/is not a regular file or folder/);
    const neither = await runBootcard(['eeprom', 'boot-image', '--out', at('never.img')]);
    expect(neither.code).toBe(2);
    expect(spawnSync('test', ['-e', at('never.img')]).status).toBe(1);
  });
});
