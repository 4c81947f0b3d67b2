/**
 * Issue 13 through the real CLI: `uefi vars set` and `card uefi` with --pxe-boot-first,
 * --http-boot-first and --network-boot-only, bad MACs refused with nothing written, and
 * `card uefi --batch pis.csv --out-dir DIR` (one card per Pi, every row checked first).
 * Card images are read back with sfdisk and mtools, the variables with the independent parser.
 */
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { readFatImage } from '../../electron/core/fat32/index.js';
import { runBootcard } from '../helpers/cli.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { describeShared } from '../helpers/shared.js';
import { RPI_FIXTURES, extractRpiEfiFd, firmwareFolder as firmwareFolderIn, pythonParse, u16 } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootcard-uefi-pxe-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The PXEv4 option edk2 creates for a Pi's GENET NIC with this MAC (12 hex digits), as hex. */
function pxeOptionHex(mac: string): string {
  return '01000000' + '4400' + Buffer.from(`UEFI PXEv4 (MAC:${mac.toUpperCase()})\0`, 'utf16le').toString('hex') +
    '030b2500' + mac.toLowerCase() + '00'.repeat(26) + '01' + '030c1b00' + '00'.repeat(23) + '7fff0400' + '4eac0881119f594d850ee21a522c59b2';
}

function liveVariables(fd: Uint8Array): Record<string, string> {
  return Object.fromEntries(pythonParse(fd).variables.filter((v) => v.live).map((v) => [v.name, v.data]));
}

function copyFixture(index: number, name: string): string {
  const file = path.join(dir, name);
  copyFileSync(RPI_FIXTURES[index]!.path, file);
  chmodSync(file, 0o644);
  return file;
}

/** A firmware folder around the first layout fixture. */
function firmwareFolder(name: string): string {
  return firmwareFolderIn(dir, RPI_FIXTURES[0]!.path, name);
}

describeShared('PXE first through the CLI', () => {
  it('vars set --pxe-boot-first --http-boot-first --network-boot-only: PXE, then HTTP, nothing else', async () => {
    const file = copyFixture(1, 'set.fd');
    const r = await runBootcard(['uefi', 'vars', 'set', file, '--pxe-boot-first', 'dc:a6:32:01:02:03', '--http-boot-first', 'http://10.0.0.5/boot.efi', '--network-boot-only']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"UEFI PXEv4 (MAC:DCA632010203)" MAC(DCA632010203,0x1)/IPv4(...)');
    expect(r.stderr).not.toContain('not a Raspberry Pi address');
    const vars = liveVariables(new Uint8Array(readFileSync(file)));
    expect(vars.Boot0000).toBe(pxeOptionHex('DCA632010203'));
    expect(vars.BootOrder).toBe(u16(0) + u16(1));
    const list = await runBootcard(['uefi', 'vars', 'list', file, '--json']);
    expect((JSON.parse(list.stdout) as { settings: unknown }).settings).toEqual({
      pxeBootFirstMac: 'dc:a6:32:01:02:03',
      httpBootFirstUrl: 'http://10.0.0.5/boot.efi',
      bootOrder: ['Boot0000', 'Boot0001'],
    });
  });

  it('a MAC outside the Raspberry Pi OUIs is written with a warning', async () => {
    const file = copyFixture(0, 'warn.fd');
    const r = await runBootcard(['uefi', 'vars', 'set', file, '--pxe-boot-first', '52-54-00-AB-CD-EF']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/52:54:00:AB:CD:EF is not a Raspberry Pi address/);
    expect(liveVariables(new Uint8Array(readFileSync(file))).Boot0000).toBe(pxeOptionHex('525400ABCDEF'));
  });

  it('a bad MAC is a usage error that names the way to find the MAC; the file and the image are not written', async () => {
    const file = copyFixture(0, 'bad.fd');
    const original = readFileSync(file);
    for (const mac of ['dc:a6:32:01:02', '01:00:5e:00:00:01', 'dc:a6:32:01:02:zz']) {
      const r = await runBootcard(['uefi', 'vars', 'set', file, '--pxe-boot-first', mac, '--ram-limit', 'off']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('ethtool -P eth0');
    }
    const only = await runBootcard(['uefi', 'vars', 'set', file, '--network-boot-only']);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('--network-boot-only');
    expect(readFileSync(file).equals(original)).toBe(true);
    const image = path.join(dir, 'bad.img');
    const card = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder('fw-bad'), '--out', image, '--size', '64M', '--pxe-boot-first', 'not-a-mac']);
    expect(card.code).toBe(2);
    expect(existsSync(image)).toBe(false);
  });

  it('card uefi --pxe-boot-first writes the option into the card\'s RPI_EFI.fd', async () => {
    const image = path.join(dir, 'one.img');
    const r = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder('fw-one'), '--out', image, '--size', '64M', '--pxe-boot-first', 'e4:5f:01:aa:bb:cc', '--network-boot-only']);
    expect(r.code, r.stderr).toBe(0);
    const vars = liveVariables(extractRpiEfiFd(image));
    expect(vars).toEqual({ Boot0000: pxeOptionHex('E45F01AABBCC'), BootOrder: u16(0) });
    // card inspect shows the variables stored on the card, as vars list decodes them.
    const inspect = await runBootcard(['card', 'inspect', image]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/UEFI variables in RPI_EFI\.fd:\n {2}Boot0000 +"UEFI PXEv4 \(MAC:E45F01AABBCC\)" MAC\(E45F01AABBCC,0x1\)\/IPv4\(\.\.\.\)\n {2}BootOrder +0000/);
  });

  it('--batch: three Pis, three cards, each with its own MAC, asset tag and timeout', async () => {
    const csv = path.join(dir, 'pis.csv');
    writeFileSync(csv, 'name,mac,asset-tag,boot-timeout\r\nrack1-pi1,dc:a6:32:00:00:01,rack1-slot1,\r\nrack1-pi2,DC-A6-32-00-00-02,"rack1, slot 2",3\r\nrack1-pi3,e4:5f:01:00:00:03,rack1-slot3,\r\n');
    const out = path.join(dir, 'cards');
    const r = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder('fw-batch'), '--batch', csv, '--out-dir', out, '--size', '64M', '--boot-timeout', '1', '--http-boot-first', 'http://10.0.0.5/boot.efi', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['rack1-pi1.img', 'rack1-pi2.img', 'rack1-pi3.img']);
    // The HTTP-boot warning every card has is said once, not three times.
    expect(r.stderr.split('v1.38 to v1.41').length - 1).toBe(1);
    const expected = [
      ['rack1-pi1', 'DCA632000001', 'rack1-slot1', 1],
      ['rack1-pi2', 'DCA632000002', 'rack1, slot 2', 3],
      ['rack1-pi3', 'E45F01000003', 'rack1-slot3', 1],
    ] as const;
    for (const [name, mac, tag, timeout] of expected) {
      const vars = liveVariables(extractRpiEfiFd(path.join(out, `${name}.img`)));
      const tagBytes = Buffer.alloc(66);
      tagBytes.write(tag, 'utf16le');
      expect(vars.Boot0000).toBe(pxeOptionHex(mac));
      expect(vars.BootOrder).toBe(u16(0) + u16(1));
      expect(vars.AssetTag).toBe(tagBytes.toString('hex'));
      expect(vars.Timeout).toBe(u16(timeout));
    }
    const json = JSON.parse(r.stdout) as { cards: { name: string; out: string }[] };
    expect(json.cards.map((c) => c.name)).toEqual(['rack1-pi1', 'rack1-pi2', 'rack1-pi3']);
  });

  it('--batch checks every row before writing anything: a bad MAC in row 3 writes no card at all', async () => {
    const csv = path.join(dir, 'bad.csv');
    writeFileSync(csv, 'name,mac\npi1,dc:a6:32:00:00:01\npi2,dc:a6:32:00:00:02\npi3,dc:a6:32:00:00\n');
    const out = path.join(dir, 'bad-cards');
    const r = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder('fw-batch-bad'), '--batch', csv, '--out-dir', out, '--size', '64M']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv line 4 \(pi3\): --pxe-boot-first: "dc:a6:32:00:00"/);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    for (const [text, message] of [
      ['name,mac\npi1,dc:a6:32:00:00:01\npi1,dc:a6:32:00:00:02\n', /line 3 \(pi1\): the name pi1 is already used on line 2/],
      ['name,mac\npi1,dc:a6:32:00:00:01\npi2,DC-A6-32-00-00-01\n', /line 3 \(pi2\): the MAC DC:A6:32:00:00:01 is already used on line 2/],
      ['name,mac,colour\npi1,dc:a6:32:00:00:01,red\n', /unknown column "colour"/],
      ['mac\ndc:a6:32:00:00:01\n', /needs the columns name and mac/],
      ['name,mac\n../pi1,dc:a6:32:00:00:01\n', /line 2: the name "..\/pi1"/],
      ['name,mac,boot-timeout\npi1,dc:a6:32:00:00:01,soon\n', /line 2 \(pi1\): --boot-timeout expects a whole number/],
    ] as const) {
      writeFileSync(csv, text);
      const bad = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder(`fw-${Math.random().toString(36).slice(2)}`), '--batch', csv, '--out-dir', out, '--size', '64M']);
      expect(bad.code, text).toBe(1);
      expect(bad.stderr).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    }
  });
});

describeShared('card uefi --batch --to', () => {
  describeLoop('on loop devices', () => {
    let loops: LoopDevice[] = [];
    afterAll(() => {
      for (const l of loops) l.detach();
    });

    it('the first card gets the first row, the second card the second; a row without a card is reported', async () => {
      loops = [attachLoop(80 * 1024 * 1024, dir), attachLoop(80 * 1024 * 1024, dir)];
      const csv = path.join(dir, 'to.csv');
      writeFileSync(csv, 'name,mac,asset-tag\npi-a,dc:a6:32:00:00:0a,slot-a\npi-b,dc:a6:32:00:00:0b,slot-b\npi-c,dc:a6:32:00:00:0c,slot-c\n');
      const r = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder('fw-to'), '--batch', csv, '--size', '64M', '--include-loop', '--yes', '--to', loops[0]!.device, '--to', loops[1]!.device]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('not written (more Pis than --to cards): pi-c');
      for (const [loop, mac] of [[loops[0]!, '0A'], [loops[1]!, '0B']] as const) {
        const reader = await openByteReader(loop.device);
        try {
          const vars = liveVariables(await (await readFatImage(reader)).volume.readFile('RPI_EFI.fd'));
          expect(vars.Boot0000).toBe(pxeOptionHex(`DCA6320000${mac}`));
        } finally {
          await reader.close();
        }
      }
      const tooMany = await runBootcard(['card', 'uefi', '--firmware', firmwareFolder('fw-to2'), '--batch', csv, '--size', '64M', '--include-loop', '--yes', '--to', loops[0]!.device, '--to', loops[1]!.device, '--to', '/dev/null', '--to', '/dev/zero']);
      expect(tooMany.code).toBe(2);
      expect(tooMany.stderr).toContain('4 cards (--to) but 3 Pis');
    });
  });
});
