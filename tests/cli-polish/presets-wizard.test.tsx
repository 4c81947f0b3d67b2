// @vitest-environment happy-dom
/** The wizard's What step offers the CLI's presets, each with its order in the CLI's words; "Network first" stays 0xf12, Imager's "Network boot" is 0xf21. */
import { cleanup, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { BOOT_PRESET_NAMES, bootPresetWords } from '../../electron/core/card/boot-presets.js';
import { wizardSettingsSchema } from '../../electron/core/profiles/profile.js';
import { initialState, reducer } from '../../renderer/src/wizard/state.js';
import { renderWizard } from '../renderer/harness.js';

afterEach(cleanup);

describe('presets in the wizard', () => {
  it('shows every CLI preset with its order in words for the chosen board, and Custom', async () => {
    const user = userEvent.setup();
    renderWizard();
    const values = screen.getAllByRole('radio').filter((r) => (r as HTMLInputElement).name === 'preset').map((r) => (r as HTMLInputElement).value);
    expect(values).toEqual([...BOOT_PRESET_NAMES, 'custom']);
    for (const name of BOOT_PRESET_NAMES) expect(screen.getByTestId(`preset-${name}-order`).textContent).toContain(bootPresetWords(name, '2711'));
    await user.click(screen.getByRole('radio', { name: /Pi 5 \/ Pi 500/ }));
    expect(screen.getByTestId('preset-sd-order').textContent).toContain('BOOT_ORDER=0xf461: 1. SD card 2. NVMe SSD 3. USB mass storage 4. restart');
  });

  it('"Network boot" is Imager\'s 0xf21 and "Network first" is 0xf12', async () => {
    const user = userEvent.setup();
    renderWizard();
    await user.click(screen.getByRole('radio', { name: 'Network boot' }));
    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf21');
    await user.click(screen.getByRole('button', { name: 'Back' }));
    await user.click(screen.getByRole('radio', { name: 'Network first' }));
    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf12');
  });

  it('restored settings keep a preset name only when the order is that preset\'s (an old "network" at 0xf12 comes back as Custom, order kept)', () => {
    const restore = (preset: string, bootOrder: number[]) =>
      reducer(initialState, { type: 'applySettings', settings: wizardSettingsSchema.parse({ recipe: 'eeprom-card', board: '2711', preset, bootOrder }) });
    expect(restore('network', [0x1, 0x2, 0xf])).toMatchObject({ preset: 'network', bootOrder: [0x1, 0x2, 0xf] });
    expect(restore('network', [0x2, 0x1, 0xf])).toMatchObject({ preset: 'custom', bootOrder: [0x2, 0x1, 0xf] });
    expect(restore('network-first', [0x2, 0x1, 0xf])).toMatchObject({ preset: 'network-first' });
  });
});
