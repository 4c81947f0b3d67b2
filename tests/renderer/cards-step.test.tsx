// @vitest-environment happy-dom
import { act, cleanup, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { Drive } from '../../electron/core/drives/types.js';
import type { HandlerContext } from '../../electron/ipc/dispatcher.js';
import { driveView } from '../../electron/ipc/handlers/drives.js';
import { laptopDrives } from './drives-fixture.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);

/** The real drive handlers' view of these drives, with a hot-plug hook for the test. */
function driveHandlers(initial: Drive[]) {
  let current = initial;
  let watcher: HandlerContext<'drives.watch'> | null = null;
  let imageSize = 0;
  const views = () => current.map((d) => driveView(d, imageSize, { includeLoop: false }));
  return {
    handlers: {
      'drives.list': async (req: { imageSize?: number | undefined }) => {
        imageSize = req.imageSize ?? 0;
        return { drives: views() };
      },
      'drives.watch': (_req: unknown, ctx: HandlerContext<'drives.watch'>) =>
        new Promise<{ stopped: true }>((resolve) => {
          watcher = ctx;
          ctx.signal.addEventListener('abort', () => resolve({ stopped: true }));
        }),
    },
    plug(drives: Drive[]) {
      current = drives;
      watcher?.progress({ type: 'drives', drives: views() });
    },
  };
}

const next = () => screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement;

describe('step 3: choose cards', () => {
  it('disables a card too small for the card image before Review, with the drive layer\'s reason; lock/unlock does not care about size', async () => {
    const tiny: Drive = { ...laptopDrives[1]!, device: '/dev/mmcblk2', name: 'mmcblk2', description: 'Tiny SD128', size: 128 * 1024 * 1024 };
    const { handlers } = driveHandlers([laptopDrives[1]!, tiny]);
    renderWizard({ state: { step: 'cards' }, handlers });
    const tinyBox = (await screen.findByRole('checkbox', { name: /Tiny SD128/ })) as HTMLInputElement;
    expect(tinyBox.disabled).toBe(true);
    expect(document.getElementById(tinyBox.getAttribute('aria-describedby')!)?.textContent).toBe('/dev/mmcblk2 holds 134 MB (134,217,728 bytes) but the card image needs 273 MB (272,629,760 bytes): use a larger card.');
    expect((screen.getByRole('checkbox', { name: /SanDisk SC32G/ }) as HTMLInputElement).disabled).toBe(false);
    cleanup();
    renderWizard({ state: { recipe: 'sdlock', step: 'cards' }, handlers: driveHandlers([tiny]).handlers });
    expect(((await screen.findByRole('radio', { name: /Tiny SD128/ })) as HTMLInputElement).disabled).toBe(false);
  });

  it('lists cards, several at once; an unusable card is disabled with its reason; a mounted one says it will be unmounted; the system disk hides behind “show all”', async () => {
    const user = userEvent.setup();
    const locked: Drive = { ...laptopDrives[1]!, device: '/dev/mmcblk1', name: 'mmcblk1', description: 'Locked SL16G', sd: { type: 'SD', writeProtect: { temporary: true, permanent: false } } };
    const { handlers } = driveHandlers([...laptopDrives, locked]);
    const { container } = renderWizard({ state: { step: 'cards' }, handlers });
    const first = await screen.findByRole('checkbox', { name: /SanDisk SC32G/ });
    expect(screen.queryByRole('checkbox', { name: /Samsung SSD/ })).toBeNull();
    const lockedBox = screen.getByRole('checkbox', { name: /Locked SL16G/ }) as HTMLInputElement;
    expect(lockedBox.disabled).toBe(true);
    expect(document.getElementById(lockedBox.getAttribute('aria-describedby')!)?.textContent).toMatch(/write-protected \(locked\)/);
    // An automounted card is what a desktop usually has: the writer unmounts it, as `bootcard flash` does.
    const mounted = screen.getByRole('checkbox', { name: /MassStorageClass/ }) as HTMLInputElement;
    expect(mounted.disabled).toBe(false);
    expect(document.getElementById(mounted.getAttribute('aria-describedby')!)?.textContent).toBe('Mounted on /media/me/bootfs: unmounted before writing.');
    expect(next().disabled).toBe(true);
    await user.click(first);
    await user.click(mounted);
    expect(next().disabled).toBe(false);
    expect(container.querySelectorAll('.drives input:checked')).toHaveLength(2);
    await user.click(screen.getByRole('checkbox', { name: /Show all drives \(1 drive hidden/ }));
    const system = screen.getByRole('checkbox', { name: /Samsung SSD/ }) as HTMLInputElement;
    expect(system.disabled).toBe(true);
    expect(system.parentElement?.textContent).toMatch(/system drive/);
    await user.click(next());
    expect(screen.getByRole('heading', { name: 'Review' })).toBeTruthy();
    expect(screen.getByText(/MassStorageClass, 64 GB, mounted on \/media\/me\/bootfs: unmounted before writing/)).toBeTruthy();
  });

  it('lock / unlock: a locked or mounted card can be picked (to unlock it); the system disk and a disk that is no SD card cannot', async () => {
    const user = userEvent.setup();
    const locked: Drive = { ...laptopDrives[1]!, sd: { type: 'SD', writeProtect: { temporary: true, permanent: false } } };
    const stick: Drive = { ...laptopDrives[2]!, device: '/dev/sdd', name: 'sdd', description: 'SanDisk Cruzer', isCard: false };
    const { handlers } = driveHandlers([laptopDrives[0]!, locked, stick, laptopDrives[3]!]);
    renderWizard({ state: { recipe: 'sdlock', step: 'cards' }, handlers });
    const card = (await screen.findByRole('radio', { name: /SanDisk SC32G/ })) as HTMLInputElement;
    expect(card.disabled).toBe(false);
    expect((screen.getByRole('radio', { name: /MassStorageClass/ }) as HTMLInputElement).disabled).toBe(false);
    const stickRadio = screen.getByRole('radio', { name: /SanDisk Cruzer/ }) as HTMLInputElement;
    expect(stickRadio.disabled).toBe(true);
    // The wizard's own words, without the CLI flag it has no way to pass.
    expect(document.getElementById(stickRadio.getAttribute('aria-describedby')!)?.textContent).toBe('/dev/sdd (SanDisk Cruzer) does not look like an SD card, so the wizard does not offer it.');
    await user.click(screen.getByRole('checkbox', { name: /Show all drives/ }));
    expect((screen.getByRole('radio', { name: /Samsung SSD/ }) as HTMLInputElement).disabled).toBe(true);
    await user.click(card);
    await user.click(next());
    expect(screen.getByRole('heading', { name: /Lock or unlock/ }).textContent).toBe('Lock or unlock /dev/mmcblk0');
  });

  it('follows hot-plug: a new card appears, and a pulled card is unselected', async () => {
    const user = userEvent.setup();
    const { handlers, plug } = driveHandlers(laptopDrives.slice(0, 2));
    renderWizard({ state: { step: 'cards' }, handlers });
    await user.click(await screen.findByRole('checkbox', { name: /SanDisk SC32G/ }));
    expect(next().disabled).toBe(false);
    await act(async () => plug([laptopDrives[0]!, laptopDrives[2]!]));
    await waitFor(() => expect(screen.getByRole('checkbox', { name: /Generic STORAGE DEVICE/ })).toBeTruthy());
    expect(screen.queryByRole('checkbox', { name: /SanDisk/ })).toBeNull();
    expect(next().disabled).toBe(true);
  });

  it('says what to do when there is no card', async () => {
    const { handlers } = driveHandlers([laptopDrives[0]!]);
    renderWizard({ state: { step: 'cards' }, handlers });
    expect(await screen.findByText(/No cards found. Insert an SD card/)).toBeTruthy();
  });
});
