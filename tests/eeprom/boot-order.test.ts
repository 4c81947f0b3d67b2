import { describe, expect, it } from 'vitest';
import { BOOT_MODES, explainBootOrder, formatBootOrder, parseBootOrder, selectableBootModes } from '../../electron/core/eeprom/index.js';

describe('BOOT_ORDER in words', () => {
  it('reads 0xf142 right to left', () => {
    expect(explainBootOrder('0xf142', '2711')).toBe('1. network (TFTP) 2. USB mass storage 3. SD card 4. restart');
    expect(explainBootOrder('0xF142', '2712')).toBe('1. network (TFTP) 2. USB mass storage 3. SD card 4. restart');
  });

  it('explains the documented examples', () => {
    expect(explainBootOrder('0xf41', '2711')).toBe('1. SD card 2. USB mass storage 3. restart');
    expect(explainBootOrder('0xf461', '2712')).toBe('1. SD card 2. NVMe SSD 3. USB mass storage 4. restart');
    expect(explainBootOrder('0xf7', '2712')).toBe('1. HTTP boot 2. restart');
    expect(explainBootOrder('0xe21', '2711')).toBe('1. SD card 2. network (TFTP) 3. stop');
  });

  it('a clean order has no findings', () => {
    for (const v of ['0xf41', '0xf14', '0xf21', '0xf142', '0xf2541']) expect(parseBootOrder(v, '2711').diagnostics).toEqual([]);
    for (const v of ['0xf461', '0xf146', '0xf416', '0xf21']) expect(parseBootOrder(v, '2712').diagnostics).toEqual([]);
  });

  it('undefined nibbles and modes the board lacks are errors', () => {
    const undefinedMode = parseBootOrder('0xf182', '2711');
    expect(undefinedMode.diagnostics.map((d) => [d.severity, d.code])).toEqual([['error', 'EEPROM_BOOT_ORDER_UNDEFINED_MODE']]);
    expect(undefinedMode.diagnostics[0]!.message).toMatch(/mode 2 \(0x8\) is not a boot mode/);
    const bcmUsb = parseBootOrder('0xf51', '2712');
    expect(bcmUsb.diagnostics.map((d) => d.severity)).toEqual(['error']);
    expect(bcmUsb.diagnostics[0]!.message).toMatch(/BCM-USB-MSD does not exist on the Pi 5/);
    expect(parseBootOrder('0xf51', '2711').diagnostics).toEqual([]);
    expect(parseBootOrder('0xf61', '2711').diagnostics.map((d) => d.severity)).toEqual(['warning']);
  });

  it('warns about a list that never ends in restart or stop, and modes after the end', () => {
    const open = parseBootOrder('0x21', '2711');
    expect(open.ending).toBeNull();
    expect(open.diagnostics[0]!.message).toMatch(/never ends in restart \(f\) or stop \(e\).*0xf21/);
    const after = parseBootOrder('0x1f2', '2711');
    expect(after.steps.map((s) => s.reachable)).toEqual([true, true, false]);
    expect(after.diagnostics[0]!.message).toMatch(/never tried/);
    expect(explainBootOrder('0x1f2', '2711')).toBe('1. network (TFTP) 2. restart');
  });

  it('rejects what is not a boot order', () => {
    for (const bad of ['f142', '0x', '0x123456789', '0xg1', '']) expect(() => parseBootOrder(bad, '2711')).toThrow(/0x and 1 to 8 hex digits/);
  });

  it('BOOT_MODES lists all 16 nibbles per board for the wizard', () => {
    for (const board of ['2711', '2712'] as const) {
      expect(BOOT_MODES[board].map((m) => m.nibble)).toEqual([...Array(16).keys()]);
      expect(selectableBootModes(board).every((m) => m.support === 'supported' || m.support === 'limited')).toBe(true);
    }
    expect(BOOT_MODES['2712'][5]!.support).toBe('unavailable');
    expect(BOOT_MODES['2711'][6]!.support).toBe('limited');
    expect(selectableBootModes('2712').map((m) => m.nibble)).not.toContain(5);
  });

  it('formatBootOrder packs a first-tried-first list', () => {
    expect(formatBootOrder([0x2, 0x4, 0x1, 0xf])).toBe('0xf142');
    expect(explainBootOrder(formatBootOrder([0x6, 0x1, 0xf]), '2712')).toBe('1. NVMe SSD 2. SD card 3. restart');
    expect(() => formatBootOrder([])).toThrow();
    expect(() => formatBootOrder([1, 2, 3, 4, 5, 6, 7, 1, 0xf])).toThrow(/1 to 8 modes/);
  });
});
