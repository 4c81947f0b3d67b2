// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { renderWizard } from './harness.js';

afterEach(cleanup);

const stepNames = () => within(screen.getByRole('navigation', { name: 'Steps' })).getAllByRole('listitem').map((li) => li.textContent?.replace(/^\d+\s*/, ''));

describe('step 1: what to make', () => {
  it('offers the four recipes as labelled radio buttons, EEPROM card first, with the step list it implies', () => {
    renderWizard();
    expect(screen.getByRole('heading', { name: 'What do you want to make?' })).toBeTruthy();
    const radios = screen.getAllByRole('radio', { name: /card|file|Lock/ });
    expect(radios.map((r) => (r as HTMLInputElement).value)).toEqual(['eeprom-card', 'uefi-card', 'eeprom-file', 'sdlock']);
    expect((screen.getByRole('radio', { name: /EEPROM bootloader card/ }) as HTMLInputElement).checked).toBe(true);
    expect(stepNames()).toEqual(['What to make', 'Configure', 'Choose cards', 'Review', 'Write', 'Done']);
    expect(screen.getByRole('listitem', { current: 'step' }).textContent).toContain('What to make');
  });

  it('changes the steps with the recipe and hides the board choice for UEFI', async () => {
    const user = userEvent.setup();
    renderWizard();
    await user.click(screen.getByRole('radio', { name: /EEPROM image file only/ }));
    expect(stepNames()).toEqual(['What to make', 'Configure', 'Save image']);
    await user.click(screen.getByRole('radio', { name: /Lock, unlock or inspect/ }));
    expect(stepNames()).toEqual(['What to make', 'Choose cards', 'Lock / inspect']);
    await user.click(screen.getByRole('radio', { name: /UEFI network-boot card/ }));
    expect(screen.queryByRole('group', { name: 'Board' })).toBeNull();
  });

  it('is driven by the keyboard alone: choose Pi 5, network first, then Next moves to Configure', async () => {
    const user = userEvent.setup();
    renderWizard();
    await user.click(screen.getByRole('radio', { name: /Pi 5 \/ Pi 500/ }));
    await user.click(screen.getByRole('radio', { name: 'Network first' }));
    const next = screen.getByRole('button', { name: 'Next' });
    next.focus();
    await user.keyboard('{Enter}');
    expect(screen.getByRole('heading', { name: 'Configure the bootloader' })).toBeTruthy();
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf12');
    // The new step's heading takes the focus, so a screen reader announces it.
    expect(document.activeElement?.textContent).toBe('Configure the bootloader');
  });

  it('switches the colour theme from the header button', async () => {
    const user = userEvent.setup();
    renderWizard();
    await user.click(screen.getByRole('button', { name: /Colour theme: auto/ }));
    expect(document.documentElement.dataset.theme).toBe('dark');
    await user.click(screen.getByRole('button', { name: /Colour theme: dark/ }));
    expect(document.documentElement.dataset.theme).toBe('light');
  });
});
