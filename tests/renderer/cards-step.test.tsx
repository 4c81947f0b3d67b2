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
  const views = () => current.map((d) => driveView(d, 0, { includeLoop: false }));
  return {
    handlers: {
      'drives.list': async () => ({ drives: views() }),
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
  it('lists cards, several at once; a mounted card is disabled with its reason; the system disk hides behind “show all”', async () => {
    const user = userEvent.setup();
    const { handlers } = driveHandlers(laptopDrives);
    renderWizard({ state: { step: 'cards' }, handlers });
    const first = await screen.findByRole('checkbox', { name: /SanDisk SC32G/ });
    expect(screen.queryByRole('checkbox', { name: /Samsung SSD/ })).toBeNull();
    const mounted = screen.getByRole('checkbox', { name: /MassStorageClass/ }) as HTMLInputElement;
    expect(mounted.disabled).toBe(true);
    expect(document.getElementById(mounted.getAttribute('aria-describedby')!)?.textContent).toMatch(/mounted/i);
    expect(next().disabled).toBe(true);
    await user.click(first);
    await user.click(screen.getByRole('checkbox', { name: /Generic STORAGE DEVICE/ }));
    expect(next().disabled).toBe(false);
    await user.click(screen.getByRole('checkbox', { name: /Show all drives \(1 hidden/ }));
    const system = screen.getByRole('checkbox', { name: /Samsung SSD/ }) as HTMLInputElement;
    expect(system.disabled).toBe(true);
    expect(system.parentElement?.textContent).toMatch(/system drive/);
    await user.click(next());
    expect(screen.getByRole('heading', { name: 'Review' })).toBeTruthy();
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
