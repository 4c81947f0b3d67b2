/**
 * Builds real zip files for tests with Python's zipfile (stdlib), shaped like
 * the pftf RPi4 UEFI firmware release, with the real NV-layout RPI_EFI.fd
 * fixture from ../shared.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { uefiFixture } from '../helpers/shared.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';

export interface ZipEntrySpec {
  readonly name: string;
  /** A file to store under `name`. */
  readonly src?: string;
  /** Or text to store. */
  readonly text?: string;
  /** Store a symbolic link pointing here (Unix mode 0120777). */
  readonly symlink?: string;
  /** Stored as a folder entry. */
  readonly directory?: boolean;
}

const PY = String.raw`
import json, sys, zipfile
spec = json.load(sys.stdin)
with zipfile.ZipFile(spec['out'], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for e in spec['entries']:
        info = zipfile.ZipInfo(e['name'], date_time=(2022, 12, 15, 10, 20, 30))
        info.compress_type = zipfile.ZIP_DEFLATED
        if e.get('symlink') is not None:
            info.create_system = 3
            info.external_attr = (0o120777 << 16)
            z.writestr(info, e['symlink'])
        elif e.get('directory'):
            info.external_attr = (0o40755 << 16) | 0x10
            z.writestr(info, b'')
        elif e.get('src') is not None:
            info.external_attr = (0o100644 << 16)
            with open(e['src'], 'rb') as f:
                z.writestr(info, f.read())
        else:
            info.external_attr = (0o100644 << 16)
            z.writestr(info, e.get('text', '').encode('utf-8'))
`;

export function makeZip(out: string, entries: readonly ZipEntrySpec[]): string {
  execFileSync('python3', ['-c', PY], { input: JSON.stringify({ out, entries }) });
  return out;
}

/** config.txt of the pftf v1.34 release. */
export const PFTF_CONFIG_TXT = `arm_64bit=1
arm_boost=1
enable_uart=1
uart_2ndstage=1
enable_gic=1
armstub=RPI_EFI.fd
disable_commandline_tags=1
disable_overscan=1
device_tree_address=0x1f0000
device_tree_end=0x200000
dtoverlay=miniuart-bt
dtoverlay=upstream-pi4
`;

function pseudoRandomFile(file: string, length: number, seed: number): string {
  writeFileSync(file, pseudoRandomBytes(length, seed));
  return file;
}

/** The entries of a pftf-shaped release: same names and roughly the same sizes. */
export function pftfEntries(dir: string): ZipEntrySpec[] {
  mkdirSync(dir, { recursive: true });
  const f = (name: string, size: number, seed: number) => pseudoRandomFile(path.join(dir, name.replace(/\//g, '_')), size, seed);
  return [
    { name: 'RPI_EFI.fd', src: uefiFixture('rpi-efi-v1.34-layout.fd') },
    { name: 'bcm2711-rpi-4-b.dtb', src: f('bcm2711-rpi-4-b.dtb', 52_593, 1) },
    { name: 'bcm2711-rpi-400.dtb', src: f('bcm2711-rpi-400.dtb', 52_604, 2) },
    { name: 'bcm2711-rpi-cm4.dtb', src: f('bcm2711-rpi-cm4.dtb', 53_237, 3) },
    { name: 'config.txt', text: PFTF_CONFIG_TXT },
    { name: 'fixup4.dat', src: f('fixup4.dat', 5_446, 4) },
    { name: 'start4.elf', src: f('start4.elf', 2_253_088, 5) },
    { name: 'overlays/', directory: true },
    { name: 'overlays/miniuart-bt.dtbo', src: f('overlays/miniuart-bt.dtbo', 1_404, 6) },
    { name: 'overlays/upstream-pi4.dtbo', src: f('overlays/upstream-pi4.dtbo', 2_791, 7) },
    { name: 'firmware/brcm/brcmfmac43455-sdio.bin', src: f('firmware/brcm/brcmfmac43455-sdio.bin', 643_651, 8) },
    { name: 'firmware/brcm/brcmfmac43455-sdio.clm_blob', src: f('firmware/brcm/brcmfmac43455-sdio.clm_blob', 14_596, 9) },
    { name: 'firmware/brcm/brcmfmac43455-sdio.txt', text: 'aa2g=1\nccode=X2\n' },
    { name: 'firmware/LICENCE.broadcom_bcm43xx', text: 'Copyright (c) Broadcom\n' },
    { name: 'firmware/Readme.txt', text: 'Wi-Fi firmware for the Raspberry Pi.\n' },
    { name: 'Readme.md', text: '# Raspberry Pi 4 UEFI Firmware Images\n' },
  ];
}
