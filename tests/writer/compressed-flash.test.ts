/**
 * `bootcard flash` with compressed images and with a card it must refuse,
 * through the real CLI process, the real privileged child and real loop
 * devices: each compressed format (made by the real tools) written to two
 * cards that read back equal to the decompressed image; an .xz padded to whole
 * sectors (once written raw and reported verified); and a too-small card among
 * three that fails alone.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { MiB, readFileRange } from './card-image.js';
import { descendantsOf, exitWithin, startCli } from './cli-process.js';

const IMAGE_BYTES = 12 * MiB;
const CARD_BYTES = 16 * MiB;

function haveTool(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function flash(args: readonly string[]) {
  const cli = startCli(['flash', ...args, '--include-loop', '--yes'], { env: { ...process.env, TMPDIR: tmpRoot } });
  return cli.exited;
}

let tmpRoot: string;

describeLoop('bootcard flash: compressed images and per-card refusals (real CLI, child, loop devices)', () => {
  let dir: string;
  let raw: Buffer;
  let rawFile: string;
  const attached: LoopDevice[] = [];
  const attach = (size: number) => {
    const l = attachLoop(size, dir);
    attached.push(l);
    return l;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-compressed-'));
    tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'bootcard-compressed-tmp-'));
    // Random data with a zero run in the middle (it must land on the card as zeros, not as whatever the card held).
    raw = Buffer.concat([randomBytes(5 * MiB), Buffer.alloc(3 * MiB), randomBytes(4 * MiB)]);
    expect(raw.length).toBe(IMAGE_BYTES);
    rawFile = path.join(dir, 'os.img');
    writeFileSync(rawFile, raw);
  });

  afterAll(() => {
    for (const l of attached) l.detach();
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmpRoot, { recursive: true, force: true });
  });

  const formats: { name: string; tool: string; make: (out: string) => void }[] = [
    { name: 'xz', tool: 'xz', make: (out) => execFileSync('sh', ['-c', `xz -T1 -1 -c "$1" > "$2"`, 'sh', rawFile, out]) },
    { name: 'gzip', tool: 'gzip', make: (out) => execFileSync('sh', ['-c', `gzip -1 -c "$1" > "$2"`, 'sh', rawFile, out]) },
    { name: 'bzip2', tool: 'bzip2', make: (out) => execFileSync('sh', ['-c', `bzip2 -1 -c "$1" > "$2"`, 'sh', rawFile, out]) },
    { name: 'zstd', tool: 'zstd', make: (out) => execFileSync('zstd', ['-q', '-1', '-f', rawFile, '-o', out]) },
    { name: 'zip', tool: 'zip', make: (out) => execFileSync('zip', ['-q', '-j', out, rawFile, path.join(dir, 'README')]) },
  ];

  for (const format of formats) {
    it(`a ${format.name} image goes to two cards, each reading back as the decompressed image`, async (ctx) => {
      if (!haveTool(format.tool)) {
        console.warn(`[skip] ${format.name}: the ${format.tool} command is not installed`);
        ctx.skip();
      }
      writeFileSync(path.join(dir, 'README'), 'a note beside the image\n');
      // A neutral name: the format must be recognised by its first bytes.
      const compressed = path.join(dir, `download-${format.name}.bin`);
      format.make(compressed);
      expect(statSync(compressed).size).toBeLessThan(IMAGE_BYTES);
      const cards = [attach(CARD_BYTES), attach(CARD_BYTES)];
      try {
        // Leftovers where the image has its zero run: written cards must read zeros there.
        for (const c of cards) writeFileSync(c.backingFile, randomBytes(CARD_BYTES));
        const end = await flash([compressed, '--to', cards[0]!.device, '--to', cards[1]!.device]);
        expect(end.code, end.stderr).toBe(0);
        expect(end.stderr).toMatch(new RegExp(`decompressing download-${format.name}\\.bin \\(${format.name}\\): 100%`));
        const digest = createHash('sha256').update(raw).digest('hex');
        for (const c of cards) {
          expect(readFileRange(c.backingFile, 0, IMAGE_BYTES).equals(raw), `${c.device} holds the decompressed image`).toBe(true);
          expect(end.stdout).toContain(`ok      ${c.device}: written and verified`);
        }
        // Verified against the decompressed data's checksum, not the compressed file's.
        expect(end.stdout).toContain(`sha256 ${digest}`);
        // The decompressed copy is gone afterwards.
        expect(readdirSync(tmpRoot).filter((n) => n.startsWith('bootcard-flash-'))).toEqual([]);
      } finally {
        for (const c of cards) c.detach();
      }
    }, 120_000);
  }

  it('an .xz padded with zeros to whole sectors is decompressed, not written raw', async () => {
    const padded = path.join(dir, 'padded.img');
    execFileSync('sh', ['-c', `xz -T1 -1 -c "$1" > "$2"`, 'sh', rawFile, padded]);
    const size = statSync(padded).size;
    appendFileSync(padded, Buffer.alloc(512 - (size % 512)));
    expect(statSync(padded).size % 512).toBe(0);
    const [card] = [attach(CARD_BYTES)];
    try {
      const end = await flash([padded, '--to', card!.device]);
      expect(end.code, end.stderr).toBe(0);
      expect(readFileRange(card!.backingFile, 0, IMAGE_BYTES).equals(raw)).toBe(true);
      // Not the .xz bytes: the card does not start with the xz magic.
      expect(readFileRange(card!.backingFile, 0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe(false);
    } finally {
      card!.detach();
    }
  }, 120_000);

  it('a damaged .xz is refused with the decompressor\'s reason and no card is touched', async () => {
    const damaged = path.join(dir, 'damaged.img.xz');
    execFileSync('sh', ['-c', `xz -T1 -1 -c "$1" > "$2"`, 'sh', rawFile, damaged]);
    const bytes = readFileRange(damaged, 0, statSync(damaged).size);
    bytes.fill(0x55, 4096, 8192);
    writeFileSync(damaged, bytes);
    const card = attach(CARD_BYTES);
    try {
      const before = randomBytes(MiB);
      writeFileSync(card.backingFile, before);
      const end = await flash([damaged, '--to', card.device]);
      expect(end.code).toBe(1);
      expect(end.stderr).toMatch(/Could not decompress .*damaged\.img\.xz \(xz\)/);
      expect(readFileRange(card.backingFile, 0, MiB).equals(before)).toBe(true);
      expect(readdirSync(tmpRoot).filter((n) => n.startsWith('bootcard-flash-'))).toEqual([]);
    } finally {
      card.detach();
    }
  }, 120_000);

  it('a too-small card among three fails alone: the other two are written and verified, exit 1', async () => {
    const cards = [attach(CARD_BYTES), attach(8 * MiB), attach(CARD_BYTES)];
    try {
      const small = cards[1]!;
      const smallBefore = randomBytes(8 * MiB);
      writeFileSync(small.backingFile, smallBefore);
      const end = await flash([rawFile, ...cards.flatMap((c) => ['--to', c.device]), '--json']);
      expect(end.code, end.stderr).toBe(1);
      const failure = JSON.parse(end.stdout) as { code: string; details: { failed: string[]; results: { target: string; ok: boolean; verified: boolean; error?: { message: string } }[] } };
      expect(failure.code).toBe('WRITE_FAILED');
      expect(failure.details.failed).toEqual([small.device]);
      expect(failure.details.results.map((r) => [r.target, r.ok, r.verified])).toEqual([
        [cards[0]!.device, true, true],
        [small.device, false, false],
        [cards[2]!.device, true, true],
      ]);
      expect(failure.details.results[1]!.error?.message).toMatch(/but the image needs .*larger card/);
      expect(readFileRange(cards[0]!.backingFile, 0, IMAGE_BYTES).equals(raw)).toBe(true);
      expect(readFileRange(cards[2]!.backingFile, 0, IMAGE_BYTES).equals(raw)).toBe(true);
      expect(readFileRange(small.backingFile, 0, 8 * MiB).equals(smallBefore), 'the refused card is untouched').toBe(true);
      expect(end.stderr).toMatch(new RegExp(`skipping ${small.device}: `));
    } finally {
      for (const c of cards) c.detach();
    }
  }, 120_000);

  it('without --yes, the prompt names the card that will be skipped and why', async () => {
    const cards = [attach(CARD_BYTES), attach(8 * MiB)];
    try {
      const cli = startCli(['flash', rawFile, '--to', cards[0]!.device, '--to', cards[1]!.device, '--include-loop'], { env: { ...process.env, TMPDIR: tmpRoot } });
      const end = await cli.exited;
      // Nobody can answer here, so nothing is written, but the prompt said which card would be skipped.
      expect(end.code).toBe(1);
      expect(end.stderr).toContain(`About to ERASE and write`);
      expect(end.stderr).toMatch(new RegExp(`Skipped \\(not written\\):\\n  ${cards[1]!.device}: .*but the image needs`));
    } finally {
      for (const c of cards) c.detach();
    }
  }, 60_000);

  it('a zip holding two images is refused, naming both, and no card is touched', async (ctx) => {
    if (!haveTool('zip')) {
      console.warn('[skip] zip: the zip command is not installed');
      ctx.skip();
    }
    const second = path.join(dir, 'other.img');
    writeFileSync(second, randomBytes(2 * MiB));
    const archive = path.join(dir, 'two.zip');
    execFileSync('zip', ['-q', '-j', archive, rawFile, second]);
    const card = attach(CARD_BYTES);
    try {
      const before = sectorsWritten(card.device);
      const end = await flash([archive, '--to', card.device]);
      expect(end.code).toBe(1);
      expect(end.stderr).toMatch(/a zip holding 2 files that could be images \(os\.img, other\.img\)/);
      expect(sectorsWritten(card.device)).toBe(before);
    } finally {
      card.detach();
    }
  }, 60_000);

  it('a temporary folder too small for the decompressed image is said plainly, and nothing is left in it', async () => {
    const small = mkdtempSync(path.join(os.tmpdir(), 'bootcard-small-tmp-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'bootcard-test', small]);
    const card = attach(CARD_BYTES);
    try {
      const compressed = path.join(dir, 'big.img.gz');
      execFileSync('sh', ['-c', `gzip -1 -c "$1" > "$2"`, 'sh', rawFile, compressed]);
      const before = sectorsWritten(card.device);
      const end = await startCli(['flash', compressed, '--to', card.device, '--include-loop', '--yes'], { env: { ...process.env, TMPDIR: small } }).exited;
      expect(end.code).toBe(1);
      expect(end.stderr).toMatch(new RegExp(`No room to decompress .*big\\.img\\.gz: the folder ${small}/bootcard-flash-\\w+ filled up.*set TMPDIR`));
      expect(sectorsWritten(card.device)).toBe(before);
      expect(readdirSync(small).filter((n) => n.startsWith('bootcard-flash-'))).toEqual([]);
    } finally {
      card.detach();
      execFileSync('umount', [small]);
      rmSync(small, { recursive: true, force: true });
    }
  }, 60_000);

  it('Ctrl-C while decompressing stops at once: nothing written, no decompressor left, no temporary copy', async (ctx) => {
    if (!haveTool('bzip2')) {
      console.warn('[skip] the bzip2 command is not installed');
      ctx.skip();
    }
    // bzip2 streams concatenate: 16 copies of one make a 128 MiB image that takes seconds to decompress.
    const one = path.join(dir, 'part.bz2');
    execFileSync('sh', ['-c', `head -c ${8 * MiB} /dev/urandom | bzip2 -1 > "$1"`, 'sh', one]);
    const slow = path.join(dir, 'slow.img.bz2');
    writeFileSync(slow, Buffer.concat(Array.from({ length: 16 }, () => readFileRange(one, 0, statSync(one).size))));
    const card = attachLoop(160 * MiB, dir);
    attached.push(card);
    try {
      const before = sectorsWritten(card.device);
      const cli = startCli(['flash', slow, '--to', card.device, '--include-loop', '--yes'], { env: { ...process.env, TMPDIR: tmpRoot } });
      const decompressors = new Set<number>();
      const watch = setInterval(() => {
        for (const pid of descendantsOf(cli.pid)) {
          const cmd = readCmdline(pid);
          if (cmd.startsWith('bzip2')) decompressors.add(pid);
        }
      }, 20);
      let stderr = '';
      cli.process.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      for (let i = 0; i < 600 && !/decompressing slow\.img\.bz2/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      cli.interruptGroup('SIGINT');
      const end = await exitWithin(cli, 15_000);
      clearInterval(watch);
      expect(end, 'bootcard flash did not exit within 15 s of Ctrl-C').not.toBe('timeout');
      if (end === 'timeout') return;
      expect(end.code).toBe(1);
      expect(end.stderr).toMatch(/Cancelled while decompressing the image: nothing was written/);
      expect(decompressors.size, 'bzip2 ran').toBeGreaterThan(0);
      for (const pid of decompressors) expect(readCmdline(pid), `bzip2 ${pid} is still running`).toBe('');
      expect(sectorsWritten(card.device)).toBe(before);
      expect(readdirSync(tmpRoot).filter((n) => n.startsWith('bootcard-flash-'))).toEqual([]);
    } finally {
      card.detach();
    }
  }, 120_000);
});

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}
