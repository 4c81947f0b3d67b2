/**
 * The tree served by a real dnsmasq (Debian's dnsmasq-base, TFTP only, on
 * 127.0.0.1:69, running as nobody as a packaged server would), with the
 * configuration `bootcard netboot config` wrote: `netboot check` plays the
 * Pi's requests against it, and curl, an independent TFTP client, reads the
 * same files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { buildOsImage, toolsMissing } from './os-image.js';

const MAC = 'dc-a6-32-01-36-c2';
const SERIAL = '9ffefdef';

function why(): string | null {
  const tools = toolsMissing();
  if (tools) return tools;
  for (const tool of ['dnsmasq', 'curl']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt install ${tool === 'dnsmasq' ? 'dnsmasq-base' : tool})`;
  }
  return null;
}
const skip = why();
if (skip) console.warn(`[skip] netboot dnsmasq tests: ${skip}.`);
const describeServer = skip ? describe.skip : describeShared;

/** Starts dnsmasq with this config file on 127.0.0.1 and waits until its TFTP server is up. */
async function startDnsmasq(confFile: string): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn('dnsmasq', ['--keep-in-foreground', `--conf-file=${confFile}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--user=nobody', '--group=nogroup', '--log-facility=-', '--pid-file='], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dnsmasq did not start in 30 s: ${log}`)), 30_000);
    const poll = setInterval(() => {
      if (/TFTP root is/.test(log)) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      }
    }, 50);
    child.on('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`dnsmasq exited (${code}) before serving (is port 69 on 127.0.0.1 taken?): ${log}`));
    });
  });
  return { child, log: () => log };
}

function curl(file: string): Buffer {
  const run = spawnSync('curl', ['--silent', '--show-error', '--fail', '--max-time', '30', `tftp://127.0.0.1/${file}`]);
  if (run.status !== 0) throw new Error(`curl ${file}: ${run.stderr.toString()}`);
  return run.stdout;
}

describeServer('netboot check against a real dnsmasq', () => {
  let dir: string;
  let tftp: string;
  let server: { child: ChildProcess; log: () => string } | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'bootcard-netboot-dnsmasq-'));
    chmodSync(dir, 0o755); // the server runs as nobody
    const image = buildOsImage(dir);
    tftp = path.join(dir, 'tftp');
    const tree = await runBootcard(['netboot', 'tree', '--image', image.xz, '--tftp-root', tftp, '--nfs-root', path.join(dir, 'nfs'), '--server', '127.0.0.1', '--pi', MAC, '--pi', SERIAL]);
    expect(tree.code, tree.stderr).toBe(0);
    const conf = path.join(dir, 'dnsmasq.conf');
    const config = await runBootcard(['netboot', 'config', '--tftp-root', tftp, '--dhcp', 'none', '--out', conf]);
    expect(config.code, config.stderr).toBe(0);
    server = await startDnsmasq(conf);
  });
  afterAll(async () => {
    if (server && server.child.exitCode === null) {
      const exited = new Promise((resolve) => server!.child.on('exit', resolve));
      server.child.kill('SIGTERM');
      const timer = setTimeout(() => server!.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('a Pi 4 by MAC and one by serial would boot, from their own folders, with their NFS roots', async () => {
    for (const [pi, folder] of [['DC:A6:32:01:36:C2', MAC], [SERIAL, SERIAL]] as const) {
      const run = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', pi]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toContain(`got     ${folder}/start4.elf`);
      expect(run.stdout).toContain(`got     ${folder}/overlays/vc4-kms-v3d-pi4.dtbo`);
      expect(run.stdout).toContain(`The Pi would boot: kernel8.img from ${folder}/, with its root file system over NFS from 127.0.0.1:${dir}/nfs/${folder}.`);
    }
    expect(server!.log()).toContain(`sent ${tftp}/${MAC}/kernel8.img to 127.0.0.1`);
  });

  it('a Pi 5 asks for its own kernel and device tree', async () => {
    const run = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', SERIAL, '--board', '2712', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { kernel: string; steps: { file: string; outcome: string }[] };
    expect(report.kernel).toBe('kernel_2712.img');
    expect(report.steps.filter((s) => s.outcome === 'sent').map((s) => s.file)).toContain(`${SERIAL}/bcm2712-rpi-5-b.dtb`);
  });

  it('curl reads the same bytes over TFTP as are in the tree', () => {
    for (const file of [`${MAC}/kernel8.img`, `${MAC}/cmdline.txt`, `${SERIAL}/overlays/overlay_map.dtb`, 'bootcode.bin']) {
      expect(curl(file).equals(readFileSync(path.join(tftp, file)))).toBe(true);
    }
  });

  it('the folder the EEPROM names: a MAC prefix with a serial ID is refused, with the MAC it checks', async () => {
    const bySerial = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', SERIAL, '--eeprom', eepromFixture('bootconf-netboot.txt')]);
    expect(bySerial.code).toBe(1);
    expect(bySerial.stderr).toMatch(/TFTP_PREFIX=2.*MAC-address folder.*serial number/);
    const byMac = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', MAC, '--eeprom', eepromFixture('pieeprom-2711-2026-05-17+bootconf-netboot.bin')]);
    expect(byMac.code).toBe(0);
    expect(byMac.stderr).toMatch(/TFTP_IP=10\.10\.0\.10 makes the Pi ask 10\.10\.0\.10/);
  });

  it('netboot config checks the tree against the EEPROM and writes nothing when they disagree', async () => {
    // A station that wrote TFTP_PREFIX=2 EEPROMs: a tree of MAC folders agrees with it.
    const macTree = path.join(dir, 'mac-tftp');
    expect((await runBootcard(['netboot', 'tree', '--image', path.join(dir, 'os.img'), '--tftp-root', macTree, '--pi', MAC])).code).toBe(0);
    const ok = await runBootcard(['netboot', 'config', '--tftp-root', macTree, '--server', '10.10.0.10/24', '--exports', '--eeprom', eepromFixture('bootconf-netboot.txt')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('pxe-service=0,"Raspberry Pi Boot"');
    expect(ok.stdout).toContain('dhcp-range=10.10.0.0,proxy,255.255.255.0');
    expect(ok.stdout).toContain(`${macTree}/${MAC} 10.10.0.0/24(rw,sync,no_subtree_check,no_root_squash)`);
    expect(ok.stderr).toMatch(/ok: TFTP_PREFIX=2/);
    // dnsmasq itself accepts the proxy configuration (checked, not run: no DHCP on this machine's interfaces).
    const conf = path.join(dir, 'proxy.conf');
    expect((await runBootcard(['netboot', 'config', '--tftp-root', macTree, '--server', '10.10.0.10/24', '--out', conf])).code).toBe(0);
    const test = spawnSync('dnsmasq', ['--test', `--conf-file=${conf}`], { encoding: 'utf8' });
    expect(test.status, test.stderr).toBe(0);
    // The served tree also has a serial folder, which a TFTP_PREFIX=2 Pi never asks for; and the address differs.
    const never = path.join(dir, 'never.conf');
    const wrong = await runBootcard(['netboot', 'config', '--tftp-root', tftp, '--server', '10.42.0.211/24', '--out', never, '--eeprom', eepromFixture('bootconf-netboot.txt')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/TFTP_IP=10\.10\.0\.10, but the server is 10\.42\.0\.211/);
    expect(wrong.stderr).toMatch(/9ffefdef\/ is named by serial number: that Pi would fall back to the TFTP root/);
    expect(existsSync(never)).toBe(false);
  });

  it('fails naming the file once the kernel is removed, and the other Pi still boots', async () => {
    unlinkSync(path.join(tftp, MAC, 'kernel8.img'));
    const run = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', MAC]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`MISSING ${MAC}/kernel8.img`);
    expect(run.stderr).toMatch(/would not boot from 127\.0\.0\.1: The kernel kernel8\.img is missing from dc-a6-32-01-36-c2\//);
    expect((await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', SERIAL])).code).toBe(0);
  });

  it('a folder without start4.elf sends the Pi to the TFTP root, which says what is missing there', async () => {
    unlinkSync(path.join(tftp, SERIAL, 'start4.elf'));
    const run = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--pi', SERIAL]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/9ffefdef\/ has no start4\.elf or start\.elf, so the bootloader clears the prefix/);
    expect(run.stdout).toContain('MISSING start4.elf');
  });

  it('no server answering is a clear failure, not a hang', async () => {
    const run = await runBootcard(['netboot', 'check', '--server', '127.0.0.1', '--port', '9', '--timeout', '200', '--pi', MAC]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no answer after 6 tries|error/);
  });
});
