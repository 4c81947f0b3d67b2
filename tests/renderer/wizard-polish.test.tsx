// @vitest-environment happy-dom
/**
 * Issue 15's wizard items: why Next is off, errors that go when their cause
 * does, one size convention and one total, natural drive order, plurals, and
 * the favicon.
 */
import { act, cleanup, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Drive } from '../../electron/core/drives/types.js';
import { BootcardError } from '../../electron/core/errors.js';
import { DEFAULT_CARD_IMAGE_SIZE } from '../../electron/core/card/size.js';
import type { CardPlan } from '../../electron/ipc/channels/card.js';
import type { HandlerContext } from '../../electron/ipc/dispatcher.js';
import { driveView } from '../../electron/ipc/handlers/drives.js';
import { formatExactBytes, formatSize, plural } from '../../renderer/src/format.js';
import { initialState, reducer } from '../../renderer/src/wizard/state.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { laptopDrives } from './drives-fixture.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);

const next = () => screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement;
const whyNext = () => {
  const id = next().getAttribute('aria-describedby');
  return id ? (document.getElementById(id)?.textContent ?? null) : null;
};

function listing(drives: Drive[], failFirstList = false) {
  let watcher: HandlerContext<'drives.watch'> | null = null;
  const views = () => drives.map((d) => driveView(d, DEFAULT_CARD_IMAGE_SIZE, { includeLoop: false }));
  return {
    handlers: {
      'drives.list': async () => {
        if (failFirstList) throw new BootcardError('DRIVE_ENUMERATION_FAILED', 'Could not list the drives: lsblk failed.');
        return { drives: views() };
      },
      'drives.watch': (_req: unknown, ctx: HandlerContext<'drives.watch'>) =>
        new Promise<{ stopped: true }>((resolve) => {
          watcher = ctx;
          ctx.signal.addEventListener('abort', () => resolve({ stopped: true }));
        }),
    },
    update: () => watcher?.progress({ type: 'drives', drives: views() }),
  };
}

describe('a disabled Next says why', () => {
  it('on Configure: the first thing to fix, next to the button and as its description; gone once fixed', async () => {
    renderWizard({ state: { step: 'configure', bootOrder: [] } });
    expect(next().disabled).toBe(true);
    // Two things block it: no boot mode and no firmware.
    expect(whyNext()).toBe('2 things to fix, first: Add at least one boot mode.');
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText('Add a mode'), 'SD card');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    expect(whyNext()).toBe('Name the bootloader firmware folder (with pieeprom and recovery.bin).');
    expect(screen.getByText('Name the bootloader firmware folder (with pieeprom and recovery.bin).', { selector: '.next-why' })).toBeTruthy();
  });

  it('on Choose cards: what to pick; once a card is picked, Next is on and says nothing', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'cards' }, handlers: listing([laptopDrives[1]!]).handlers });
    expect(whyNext()).toBe('Pick at least one card to write.');
    await user.click(await screen.findByRole('checkbox', { name: /SanDisk SC32G/ }));
    expect(next().disabled).toBe(false);
    expect(next().getAttribute('aria-describedby')).toBeNull();
    expect(document.querySelector('.next-why')).toBeNull();
  });
});

describe('an error goes when its cause does', () => {
  it('the drive list error goes once the list arrives', async () => {
    const { handlers, update } = listing([laptopDrives[1]!], true);
    renderWizard({ state: { step: 'cards' }, handlers });
    expect((await screen.findByRole('alert')).textContent).toContain('lsblk failed');
    await act(async () => update());
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull());
    expect(screen.getByRole('checkbox', { name: /SanDisk SC32G/ })).toBeTruthy();
  });

  it('a refused save goes when the folder it was about is changed, and comes back for that folder only after a new try', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'eeprom-file', step: 'save', firmwarePath: '/nonexistent/firmware', outputDir: 'out' } });
    await user.click(screen.getByRole('button', { name: 'Build and save' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/\S/);
    await user.type(screen.getByLabelText(/Folder to save pieeprom.bin/), '2');
    expect(screen.queryByRole('alert')).toBeNull();
  });
});

describe('sizes, totals, order and plurals', () => {
  it('says card sizes as makers sell them, with the exact figure beside', () => {
    expect(formatSize(31_914_983_424)).toBe('32 GB');
    expect(formatSize(15_931_539_456)).toBe('16 GB');
    expect(formatSize(7_948_206_080)).toBe('7.9 GB');
    expect(formatSize(DEFAULT_CARD_IMAGE_SIZE)).toBe('273 MB');
    expect(formatSize(80)).toBe('80 B');
    expect(formatExactBytes(31_914_983_424)).toBe('31,914,983,424 bytes');
    expect([plural(1, 'card'), plural(2, 'card'), plural(0, 'card')]).toEqual(['1 card', '2 cards', '0 cards']);
  });

  it('the Write step names the image once, and every card’s progress is a share of that same total', () => {
    const plan = { recipe: 'eeprom-recovery', imageSize: DEFAULT_CARD_IMAGE_SIZE, dataBytes: 2_000_000, sha256: 'a'.repeat(64), files: [], config: '', warnings: [], timestamp: 1 } as unknown as CardPlan;
    let state = reducer({ ...initialState, targets: ['/dev/sdb'] }, { type: 'writeStarted', targets: ['/dev/sdb'], plan });
    state = reducer(state, { type: 'writeProgress', event: { type: 'progress', device: '/dev/sdb', phase: 'write', bytes: 1_000_000, total: 4_000_000, speed: 2_000_000 } });
    renderWizard({ state });
    expect(screen.getByTestId('write-header').textContent).toBe('The 273 MB card image (272,629,760 bytes) to 1 card.');
    // Not "1.0 MB of 4.0 MB" beside a header saying 273 MB: one total on the page.
    expect(screen.getByTestId('progress--dev-sdb').textContent).toContain('25 % of 273 MB · 2.0 MB/s · 2 s left');
  });

  it('lists drives in natural order (mmcblk2 before mmcblk10, sdb before sdc)', async () => {
    const card = laptopDrives[1]!;
    const drives: Drive[] = [
      { ...card, device: '/dev/mmcblk10', name: 'mmcblk10', description: 'Card ten' },
      { ...laptopDrives[3]!, device: '/dev/sdc', name: 'sdc' },
      { ...card, device: '/dev/mmcblk2', name: 'mmcblk2', description: 'Card two' },
      { ...laptopDrives[2]!, device: '/dev/sdb', name: 'sdb' },
    ];
    renderWizard({ state: { step: 'cards' }, handlers: listing(drives).handlers });
    await screen.findByRole('checkbox', { name: /Card two/ });
    const order = within(screen.getByRole('group', { name: 'Cards' })).getAllByRole('checkbox').map((b) => (b as HTMLInputElement).value);
    expect(order).toEqual(['/dev/mmcblk2', '/dev/mmcblk10', '/dev/sdb', '/dev/sdc']);
  });

  it('Review says “Write 1 card” and a card’s exact size on hover', async () => {
    const { handlers } = listing([laptopDrives[1]!]);
    renderWizard({ state: { step: 'cards' }, handlers });
    const box = await screen.findByRole('checkbox', { name: /SanDisk SC32G/ });
    expect(box.parentElement?.querySelector('[title]')?.getAttribute('title')).toBe('31,914,983,424 bytes');
  });
});

describe('the favicon', () => {
  it('the page links an icon that the renderer build ships (public/), and the CSP lets it load', () => {
    const html = readFileSync(path.join(REPO_ROOT, 'renderer', 'index.html'), 'utf8');
    const href = /<link rel="icon"[^>]*href="\.\/([^"]+)"/.exec(html)?.[1];
    expect(href).toBe('favicon.svg');
    const svg = readFileSync(path.join(REPO_ROOT, 'renderer', 'public', href!), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(html).toMatch(/img-src 'self'/);
  });
});
