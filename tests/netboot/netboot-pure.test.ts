/** The pure halves of the netboot server: folder names, cmdline.txt, fstab, the Pi list, the server config and its EEPROM check, the boot walk. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import { readBootConf } from '../../electron/core/eeprom/image.js';
import { formatBootReport, simulateNetboot, type TftpReader } from '../../electron/core/netboot/boot-simulation.js';
import { cmdlineNfsRoot, netbootCmdline } from '../../electron/core/netboot/cmdline.js';
import { compressionOf } from '../../electron/core/image/compression.js';
import { netbootFstab } from '../../electron/core/netboot/fstab.js';
import { parsePiId, prefixFolder } from '../../electron/core/netboot/pi-id.js';
import { parsePisCsv } from '../../electron/core/netboot/pis.js';
import { checkEepromAgreement, parseServerAddress, renderDnsmasqConfig, renderExports } from '../../electron/core/netboot/server-config.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { IMAGE_CMDLINE, IMAGE_CONFIG_TXT, IMAGE_FSTAB } from './os-image.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return BootcardError.is(error) ? error.code : 'not a BootcardError';
  }
  return 'no error';
};

describe('Pi IDs name the folder the bootloader asks for', () => {
  it('a MAC in any spelling is the lower-case dashed folder of TFTP_PREFIX=2', () => {
    for (const mac of ['DC:A6:32:01:36:C2', 'dc-a6-32-01-36-c2', 'dca6320136c2', 'mac:DC:A6:32:01:36:C2']) {
      expect(parsePiId(mac)).toMatchObject({ kind: 'mac', folder: 'dc-a6-32-01-36-c2' });
    }
  });
  it('a serial is 8 lower-case hex digits (TFTP_PREFIX=0); /proc/cpuinfo\'s 16 digits give the last 8', () => {
    expect(parsePiId('9FFEFDEF')).toMatchObject({ kind: 'serial', folder: '9ffefdef' });
    expect(parsePiId('100000009ffefdef')).toMatchObject({ kind: 'serial', folder: '9ffefdef' });
  });
  it('anything else is a TFTP_PREFIX_STR folder, at most 32 characters with its slash', () => {
    expect(parsePiId('rack1-pi3/')).toMatchObject({ kind: 'string', folder: 'rack1-pi3' });
    expect(parsePiId('str:deadbeef')).toMatchObject({ kind: 'string', folder: 'deadbeef' });
    expect(code(() => parsePiId('x'.repeat(32)))).toBe('NETBOOT_INVALID_PI_ID');
    for (const bad of ['..', '../etc', 'a/b', '.hidden', '', 'mac:12:34']) expect(code(() => parsePiId(bad))).toBe('NETBOOT_INVALID_PI_ID');
  });
  it('the EEPROM mode decides which ID a Pi asks with', () => {
    const mac = parsePiId('dc:a6:32:01:36:c2');
    expect(prefixFolder(2, undefined, mac)).toBe('dc-a6-32-01-36-c2');
    expect(prefixFolder(0, undefined, mac)).toBeNull();
    expect(prefixFolder(1, 'rack1/', mac)).toBe('rack1');
  });
});

describe('cmdline.txt for an NFS root', () => {
  const nfs = { server: '10.42.0.211', path: '/srv/nfs/dc-a6-32-01-36-c2' };
  it('keeps the image\'s own arguments in order and puts the NFS root where root= was', () => {
    const out = netbootCmdline(IMAGE_CMDLINE, nfs);
    expect(out).toBe('console=serial0,115200 console=tty1 root=/dev/nfs nfsroot=10.42.0.211:/srv/nfs/dc-a6-32-01-36-c2,vers=4.1,proto=tcp rw ip=dhcp rootwait fsck.repair=yes quiet splash\n');
    expect(out).not.toMatch(/PARTUUID|rootfstype|init=/);
    expect(cmdlineNfsRoot(out)).toEqual({ server: '10.42.0.211', path: nfs.path, options: 'vers=4.1,proto=tcp' });
  });
  it('is stable: rewriting a rewritten line changes nothing', () => {
    const once = netbootCmdline(IMAGE_CMDLINE, { ...nfs, options: 'vers=3' });
    expect(netbootCmdline(once, { ...nfs, options: 'vers=3' })).toBe(once);
  });
});

describe('/etc/fstab for an NFS root', () => {
  it('comments out the SD card\'s partitions and mounts the Pi\'s TFTP folder at the boot mount point', () => {
    const out = netbootFstab(IMAGE_FSTAB, { server: '10.42.0.211', bootPath: '/srv/tftp/9ffefdef', diskSignature: 0x1234abcd });
    const active = out.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(active).toEqual([
      'proc            /proc           proc    defaults          0       0',
      '10.42.0.211:/srv/tftp/9ffefdef /boot/firmware nfs defaults,vers=4.1,proto=tcp 0 0',
    ]);
    expect(out).toContain('# bootcard netboot: on the SD card, not used over the network: PARTUUID=1234abcd-02');
  });
  it('an older image with the boot partition at /boot keeps that mount point', () => {
    const out = netbootFstab('/dev/mmcblk0p1 /boot vfat defaults 0 2\n/dev/mmcblk0p2 / ext4 defaults 0 1\n', { server: 's', bootPath: '/t/x' });
    expect(out).toMatch(/^s:\/t\/x \/boot nfs /m);
  });
});

describe('the Pi list', () => {
  it('reads a header, per-Pi first-boot options, and says which line is wrong', () => {
    const pis = parsePisCsv('# rack 1\nid,hostname,ssh,user\nDC:A6:32:01:36:C2,pi1,yes,pi:$6$salt$abcdefghijkl\n9ffefdef,pi2,no,\n');
    expect(pis.map((p) => [p.id.folder, p.hostname, p.ssh, p.user?.name])).toEqual([
      ['dc-a6-32-01-36-c2', 'pi1', true, 'pi'],
      ['9ffefdef', 'pi2', false, undefined],
    ]);
    expect(parsePisCsv('9ffefdef\ndc:a6:32:01:36:c2\n').map((p) => p.id.kind)).toEqual(['serial', 'mac']);
    const err = (() => {
      try {
        parsePisCsv('id,user\n9ffefdef,pi:secret\n');
      } catch (e) {
        return e as BootcardError;
      }
      return null;
    })();
    expect(err?.code).toBe('NETBOOT_INVALID_FIRST_BOOT');
    expect(err?.message).toMatch(/Line 2.*openssl passwd -6/);
    expect(code(() => parsePisCsv('id\n9ffefdef\n9FFEFDEF\n'))).toBe('NETBOOT_INVALID_PIS_FILE');
    expect(code(() => parsePisCsv('id,colour\nx1\n'))).toBe('NETBOOT_INVALID_PIS_FILE');
  });
});

describe('compressed images are recognised by their first bytes', () => {
  it('gzip, xz, zstd, bzip2, and anything else is a plain image', () => {
    expect(compressionOf(Uint8Array.of(0x1f, 0x8b, 8))).toBe('gzip');
    expect(compressionOf(Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0))).toBe('xz');
    expect(compressionOf(Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd))).toBe('zstd');
    expect(compressionOf(new TextEncoder().encode('BZh9'))).toBe('bzip2');
    expect(compressionOf(new Uint8Array(6))).toBe('none');
  });
});

describe('the dnsmasq configuration and exports', () => {
  it('proxy DHCP serves the server\'s network with the Raspberry Pi PXE string; TFTP from the tree', () => {
    const text = renderDnsmasqConfig({ tftpRoot: '/srv/tftp', dhcp: 'proxy', interface: 'eth0', server: parseServerAddress('10.42.0.211/24') });
    const settings = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(settings).toEqual(['port=0', 'interface=eth0', 'bind-interfaces', 'enable-tftp', 'tftp-root=/srv/tftp', 'dhcp-range=10.42.0.0,proxy,255.255.255.0', 'pxe-service=0,"Raspberry Pi Boot"', 'log-dhcp']);
  });
  it('full DHCP needs a range; proxy needs the network', () => {
    expect(renderDnsmasqConfig({ tftpRoot: '/t', dhcp: 'full', range: { start: '10.0.0.100', end: '10.0.0.150' } })).toContain('dhcp-range=10.0.0.100,10.0.0.150,12h');
    expect(code(() => renderDnsmasqConfig({ tftpRoot: '/t', dhcp: 'proxy' }))).toBe('USAGE');
    expect(code(() => renderDnsmasqConfig({ tftpRoot: '/t', dhcp: 'full' }))).toBe('USAGE');
  });
  it('exports each Pi\'s root and boot folder with no_root_squash', () => {
    expect(renderExports([{ tftpFolder: '/srv/tftp/a', nfsFolder: '/srv/nfs/a' }], '10.42.0.0/24').split('\n').slice(1, 3)).toEqual([
      '/srv/nfs/a 10.42.0.0/24(rw,sync,no_subtree_check,no_root_squash)',
      '/srv/tftp/a 10.42.0.0/24(rw,sync,no_subtree_check,no_root_squash)',
    ]);
  });
});

describeShared('the server config against a real EEPROM config', () => {
  const bootconf = readFileSync(eepromFixture('bootconf-netboot.txt'), 'utf8'); // TFTP_PREFIX=2, TFTP_IP=10.10.0.10
  const macTree = [{ kind: 'mac' as const, folder: 'dc-a6-32-01-36-c2' }];
  it('agrees with a MAC-named tree on the EEPROM\'s TFTP_IP', () => {
    expect(checkEepromAgreement(bootconf, { pis: macTree, address: '10.10.0.10', dhcp: 'proxy' }).problems).toEqual([]);
  });
  it('names each disagreement: serial folders for a MAC prefix, another server address, another PXE string', () => {
    const { problems } = checkEepromAgreement(bootconf, { pis: [{ kind: 'serial', folder: '9ffefdef' }], address: '10.42.0.211', pxeString: 'Other Boot', dhcp: 'proxy' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/MAC-address folder \(TFTP_PREFIX=2\).*9ffefdef\/ is named by serial number/);
    expect(problems[1]).toMatch(/TFTP_IP=10\.10\.0\.10, but the server is 10\.42\.0\.211/);
    expect(problems[2]).toMatch(/PXE_OPTION43 is "Raspberry Pi Boot" but the DHCP configuration sends "Other Boot"/);
  });
  it('reads the same config out of a real pieeprom.bin', () => {
    const text = readBootConf(new Uint8Array(readFileSync(eepromFixture('pieeprom-2711-2026-05-17+bootconf-netboot.bin'))));
    expect(checkEepromAgreement(text, { pis: macTree, address: '10.10.0.10', dhcp: 'proxy' }).problems).toEqual([]);
  });
  it('TFTP_PREFIX_STR without its slash is a file prefix, not a folder', () => {
    const { problems } = checkEepromAgreement('[all]\nBOOT_ORDER=0xf21\nTFTP_PREFIX=1\nTFTP_PREFIX_STR=rack1\n', { pis: [{ kind: 'string', folder: 'rack1' }], dhcp: 'proxy' });
    expect(problems).toEqual([expect.stringMatching(/asks for "rack1start4\.elf".*TFTP_PREFIX_STR=rack1\//)]);
  });
  it('a BOOT_ORDER without a network step never reaches the server', () => {
    expect(checkEepromAgreement('[all]\nBOOT_ORDER=0xf41\n', { pis: [{ kind: 'serial', folder: '9ffefdef' }], dhcp: 'proxy' }).problems[0]).toMatch(/no network step/);
  });
});

describe('the boot walk a Pi makes', () => {
  const files = (entries: Record<string, string>): TftpReader => async (p) => (p in entries ? new TextEncoder().encode(entries[p]) : null);
  const piFolder = {
    'f/start4.elf': 'x', 'f/fixup4.dat': 'x', 'f/config.txt': IMAGE_CONFIG_TXT, 'f/bcm2711-rpi-4-b.dtb': 'x',
    'f/overlays/vc4-kms-v3d-pi4.dtbo': 'x', 'f/cmdline.txt': 'root=/dev/nfs nfsroot=1.2.3.4:/srv/nfs/f,vers=3 rw ip=dhcp', 'f/kernel8.img': 'x',
  };
  it('boots from the Pi\'s folder and says from where its root comes', async () => {
    const report = await simulateNetboot({ board: '2711', folder: 'f', read: files(piFolder) });
    expect(report.bootable).toBe(true);
    expect(formatBootReport(report, '1.2.3.4')).toMatch(/would boot: kernel8\.img from f\/, with its root file system over NFS from 1\.2\.3\.4:\/srv\/nfs\/f/);
  });
  it('falls back to the root when the folder has no start4.elf, as the bootloader does', async () => {
    const root = Object.fromEntries(Object.entries(piFolder).map(([k, v]) => [k.slice(2), v]));
    const report = await simulateNetboot({ board: '2711', folder: 'f', read: files(root) });
    expect(report.usedFolder).toBe('');
    expect(report.bootable).toBe(true);
    expect(report.warnings[0]).toMatch(/clears the prefix/);
  });
  it('follows config.txt: kernel=, os_prefix, initramfs, [pi5] sections on a Pi 5', async () => {
    const config = 'os_prefix=v2/\n[pi4]\nkernel=wrong.img\n[pi5]\nkernel=mine.img\ninitramfs initrd.img followkernel\n[all]\n';
    const report = await simulateNetboot({ board: '2712', folder: 'f', read: files({ 'f/start4.elf': 'x', 'f/config.txt': config, 'f/v2/bcm2712-rpi-5-b.dtb': 'x', 'f/cmdline.txt': 'root=/dev/nfs', 'f/v2/mine.img': 'x' }) });
    expect(report.problems).toEqual(['The initramfs initrd.img that config.txt names is missing from f/.']);
    expect(report.kernel).toBe('mine.img');
  });
  it('names the missing kernel', async () => {
    const { ['f/kernel8.img']: _kernel, ...noKernel } = piFolder;
    const report = await simulateNetboot({ board: '2711', folder: 'f', read: files(noKernel) });
    expect(report.bootable).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/kernel kernel8\.img is missing from f\//)]);
  });
});
