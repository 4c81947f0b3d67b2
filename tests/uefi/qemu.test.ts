/**
 * Slow, optional: boots edk2's AAVMF firmware (qemu-system-aarch64, Debian's qemu-efi-aarch64) on a
 * variable store bootcard patched, and checks what the firmware itself reads back:
 *  1. the UEFI shell's dmpstore shows RamLimitTo3GB, SystemTableMode, Timeout and BootOrder as written;
 *  2. with a network card, the boot manager tries bootcard's bare-URI Boot#### first and HttpBootDxe
 *     fetches exactly that URL from a local HTTP server (no MAC address anywhere in the option);
 *  3. PXE first (issue 13): the option bootcard's encoder builds for the virtio NIC (its PciRoot/Pci
 *     nodes as the parent path, the Pi's option has none) makes AAVMF download the boot file from
 *     qemu's built-in TFTP server before anything else, and the firmware's own refresh of boot options
 *     keeps it instead of adding a second PXEv4 option; built for another MAC, the boot manager falls
 *     through to the next option (HTTP boot).
 * qemu's user-mode network (DHCP, TFTP) stays inside qemu. Skipped where qemu-system-aarch64 or the
 * AAVMF files are missing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceNode } from '../../electron/core/uefi/device-path.js';
import { applyUefiSettings, editUefiVariables, listUefiVariables, type UefiSettings } from '../../electron/core/uefi/index.js';

const QEMU = 'qemu-system-aarch64';
const AAVMF_CODE = '/usr/share/AAVMF/AAVMF_CODE.fd';
const AAVMF_VARS_MS = '/usr/share/AAVMF/AAVMF_VARS.ms.fd';
const hasQemu = spawnSync(QEMU, ['--version']).status === 0 && existsSync(AAVMF_CODE) && existsSync(AAVMF_VARS_MS);
if (!hasQemu) console.warn(`[skip] ${QEMU} or the AAVMF firmware is missing: the UEFI boot test is skipped (apt-get install qemu-system-arm qemu-efi-aarch64).`);

const RPI_CONFIG = 'cd7cc258-31db-22e6-9f22-63b0b8eed6b5';
/** SecureBootEnable (gEfiSecureBootEnableDisableGuid, NV+BS): the .ms store enforces Secure Boot, which blocks the shell. */
const SECURE_BOOT_ENABLE_GUID = 'f0a30bc7-af08-4556-99c4-001009c93a44';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootcard-uefi-qemu-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * PciRoot(0x0)/Pci(0x1,0x0): where AAVMF's first PCI device (the virtio-net-pci NIC) sits on qemu's
 * virt machine. ACPI node 02/01 with _HID EISA_PNP_ID(0x0A03), _UID 0; PCI node 01/01 function 0, device 1.
 */
function virtioNicParentPath(): Uint8Array {
  const acpi = new Uint8Array(8);
  new DataView(acpi.buffer).setUint32(0, 0x0a0341d0, true);
  return Uint8Array.from([...deviceNode(0x02, 0x01, acpi), ...deviceNode(0x01, 0x01, Uint8Array.of(0x00, 0x01))]);
}

function patchedVars(url: string, extra: UefiSettings = {}): string {
  let fd: Uint8Array = new Uint8Array(readFileSync(AAVMF_VARS_MS));
  fd = editUefiVariables(fd, [{ op: 'set', name: 'SecureBootEnable', guid: SECURE_BOOT_ENABLE_GUID, attributes: 3, data: Uint8Array.of(0) }]).fd;
  fd = applyUefiSettings(fd, { ramLimit3GB: false, systemTable: 'dt', bootTimeoutSeconds: 1, httpBootFirstUrl: url, ...extra }, { pxeParentPath: virtioNicParentPath() }).fd;
  const file = path.join(dir, `vars-${Math.random().toString(36).slice(2)}.fd`);
  writeFileSync(file, fd);
  return file;
}

/** Runs qemu until `done(output)` is true or the time runs out; returns the console output (ANSI stripped). */
function bootUntil(args: string[], done: (output: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(QEMU, ['-M', 'virt', '-cpu', 'cortex-a57', '-m', '512', '-nographic', '-no-reboot', '-drive', `if=pflash,format=raw,readonly=on,file=${AAVMF_CODE}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let raw = '';
    // Escape sequences may be split across chunks, so strip them from the whole output.
    const output = () => raw.replace(/\x1b\[[0-9;=?]*[A-Za-z]/g, '');
    const finish = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(output());
    };
    const timer = setTimeout(finish, timeoutMs);
    const onData = (chunk: Buffer) => {
      raw += chunk.toString('latin1');
      if (done(output())) finish();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(output());
    });
  });
}

/** A FAT image with startup.nsh, which the UEFI shell runs after its 5 s countdown. */
function startupDisk(script: string): string {
  const image = path.join(dir, 'startup.img');
  const nsh = path.join(dir, 'startup.nsh');
  writeFileSync(nsh, script.replace(/\n/g, '\r\n'));
  writeFileSync(image, '');
  spawnSync('truncate', ['-s', '40M', image]);
  expect(spawnSync('mkfs.fat', ['-F', '32', '-s', '1', '-S', '512', image]).status).toBe(0);
  expect(spawnSync('mcopy', ['-i', image, nsh, '::startup.nsh']).status).toBe(0);
  return image;
}

describe.skipIf(!hasQemu)('edk2 (AAVMF under qemu) reads the variables bootcard wrote', () => {
  it('dmpstore in the UEFI shell shows the settings and BootOrder with the HTTP option first', async () => {
    const vars = patchedVars('http://10.0.2.2:9/never.efi');
    const disk = startupDisk(
      [`dmpstore RamLimitTo3GB -guid ${RPI_CONFIG}`, `dmpstore SystemTableMode -guid ${RPI_CONFIG}`, 'dmpstore Timeout', 'bcfg boot dump', 'echo BOOTCARD-DONE', 'reset -s', ''].join('\n'),
    );
    const out = await bootUntil(
      ['-drive', `if=pflash,format=raw,file=${vars}`, '-drive', `file=${disk},format=raw,if=none,id=hd0`, '-device', 'virtio-blk-device,drive=hd0', '-net', 'none'],
      (o) => o.includes('BOOTCARD-DONE\r\n') || o.includes('BOOTCARD-DONE\n'),
      150_000,
    );
    expect(out).toContain('UEFI Interactive Shell');
    expect(out).toMatch(/'CD7CC258-31DB-22E6-9F22-63B0B8EED6B5:RamLimitTo3GB' DataSize = 0x04\s+00000000: 00 00 00 00/);
    expect(out).toMatch(/'CD7CC258-31DB-22E6-9F22-63B0B8EED6B5:SystemTableMode' DataSize = 0x04\s+00000000: 02 00 00 00/);
    expect(out).toMatch(/'EFIGlobalVariable:Timeout' DataSize = 0x02\s+00000000: 01 00/);
    expect(out).toMatch(/Option: 00\. Variable: Boot0003\s+Desc\s+- UEFI HTTP boot \(bootcard\)\s+DevPath - Uri\(http:\/\/10\.0\.2\.2:9\/never\.efi\)/);
  }, 180_000);

  describe('with a network card', () => {
    let server: Server;
    const requests: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        requests.push(`${req.method} ${req.url} ${req.headers['user-agent'] ?? ''}`);
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('the boot manager tries the bare-URI option first and HttpBootDxe requests exactly that URL', async () => {
      const port = (server.address() as AddressInfo).port;
      const url = `http://10.0.2.2:${port}/bootcard/bootaa64.efi`; // 10.0.2.2 is the host in qemu's user network
      const vars = patchedVars(url);
      const out = await bootUntil(
        ['-drive', `if=pflash,format=raw,file=${vars}`, '-netdev', 'user,id=n0', '-device', 'virtio-net-device,netdev=n0'],
        () => requests.some((r) => r.startsWith('GET ')),
        150_000,
      );
      expect(out).toContain('Start HTTP Boot over IPv4');
      expect(requests.find((r) => r.startsWith('GET '))).toBe('GET /bootcard/bootaa64.efi UefiHttpBoot/1.0');
    }, 180_000);

    describe('PXE first', () => {
      const NIC_MAC = '52:54:00:ab:cd:ef';
      let tftp: string;
      beforeAll(() => {
        tftp = path.join(dir, 'tftp');
        mkdirSync(tftp);
        // Not a real EFI image: the firmware downloads it (what this test is about), fails to start it
        // and goes on to the next option.
        writeFileSync(path.join(tftp, 'bootcard-pxe.efi'), Buffer.alloc(4321, 0x5a));
      });

      /** Boots with the NIC at NIC_MAC until the HTTP server sees a request (the option after PXE). */
      async function bootWithPxeFirst(pxeMac: string): Promise<{ out: string; vars: string }> {
        requests.length = 0;
        const port = (server.address() as AddressInfo).port;
        const vars = patchedVars(`http://10.0.2.2:${port}/after-pxe.efi`, { pxeBootFirstMac: pxeMac });
        const out = await bootUntil(
          ['-drive', `if=pflash,format=raw,file=${vars}`, '-netdev', `user,id=n0,tftp=${tftp},bootfile=bootcard-pxe.efi`, '-device', `virtio-net-pci,netdev=n0,mac=${NIC_MAC}`],
          () => requests.some((r) => r.startsWith('GET ')),
          150_000,
        );
        return { out, vars };
      }

      it("bootcard's PXEv4 option for the NIC's MAC is tried first: the boot file comes from TFTP, then HTTP; the firmware keeps the option", async () => {
        const { out, vars } = await bootWithPxeFirst(NIC_MAC);
        const starts = out.split(/\r?\n/).filter((l) => l.startsWith('>>Start'));
        expect(starts[0]).toBe('>>Start PXE over IPv4.');
        expect(out).toMatch(/NBP filename is bootcard-pxe\.efi\s+NBP filesize is 4321 Bytes\s+Downloading NBP file\.\.\.\s+NBP file downloaded successfully\./);
        expect(out).toMatch(/failed to load Boot0003 "UEFI PXEv4 \(MAC:525400ABCDEF\)" from PciRoot\(0x0\)\/Pci\(0x1,0x0\)\/MAC\(525400ABCDEF,0x1\)\/IPv4\(0\.0\.0\.0/);
        expect(out.indexOf('NBP file downloaded successfully')).toBeLessThan(out.indexOf('Start HTTP Boot over IPv4'));
        expect(requests.find((r) => r.startsWith('GET '))).toBe('GET /after-pxe.efi UefiHttpBoot/1.0');
        // edk2 refreshed its boot options at this boot: bootcard's option is its own, so there is one PXEv4 option, still first.
        const live = listUefiVariables(new Uint8Array(readFileSync(vars))).variables.filter((v) => v.live);
        expect(live.filter((v) => v.value?.startsWith('"UEFI PXEv4 (MAC:525400ABCDEF)"')).map((v) => v.name)).toEqual(['Boot0003']);
        expect(live.find((v) => v.name === 'BootOrder')?.value).toMatch(/^0003,0004,/);
      }, 180_000);

      it('built for another MAC, the PXE option matches no NIC and the boot manager goes on to the next option', async () => {
        const { out } = await bootWithPxeFirst('52:54:00:00:00:01');
        const starts = out.split(/\r?\n/).filter((l) => l.startsWith('>>Start'));
        expect(starts[0]).toMatch(/^>>Start HTTP Boot over IPv4/);
        expect(out).not.toContain('NBP file downloaded');
        expect(requests.find((r) => r.startsWith('GET '))).toBe('GET /after-pxe.efi UefiHttpBoot/1.0');
      }, 180_000);
    });
  });
});
