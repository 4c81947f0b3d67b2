/**
 * bootcard's own key schema (electron/core/eeprom/schema.ts) against the
 * reference collected from the official documentation
 * (../shared/reference/eeprom-keys.json) and BOOT_MODES against boot-order.json.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { BOOT_MODES, EEPROM_KEYS, eepromKeySpec } from '../../electron/core/eeprom/index.js';
import { describeShared, referencePath } from '../helpers/shared.js';

interface RefKey {
  key: string;
  type: string;
  default: number | string | null;
  min: number | string | null;
  max: number | string | null;
  allowed: (number | string)[] | Record<string, string> | null;
  boards: string[];
  documented: boolean;
  max_length: number | null;
  max_entries: number | null;
}

const TYPE_MAP: Record<string, string> = {
  bool: 'bool', int: 'int', ip: 'ipv4', string: 'string', hex: 'hex', bootorder: 'bootOrder', mac: 'mac',
  otp_rows: 'otpRows', hostname: 'hostname', sha256hex: 'sha256', url: 'url', vidpid_list: 'vidPidList',
};
const num = (v: number | string | null) => (v === null ? undefined : typeof v === 'number' ? v : Number(v));

describeShared('EEPROM key schema vs the reference', () => {
  const ref = JSON.parse(readFileSync(referencePath('eeprom-keys.json'), 'utf8')) as RefKey[];

  it('has exactly the reference keys, in its order', () => {
    expect(EEPROM_KEYS.map((k) => k.key)).toEqual(ref.map((k) => k.key));
  });

  it.each(ref.map((r) => [r.key, r] as const))('%s: type, boards, documented, default, range and allowed values match', (_key, r) => {
    const spec = eepromKeySpec(r.key)!;
    expect(spec.type).toBe(TYPE_MAP[r.type]);
    expect([...spec.boards]).toEqual(r.boards);
    expect(spec.documented).toBe(r.documented);
    expect(spec.default).toEqual(r.default);
    expect(spec.min).toBe(num(r.min));
    expect(spec.max).toBe(num(r.max));
    if (Array.isArray(r.allowed) && r.type !== 'bool') expect(spec.allowed).toEqual(r.allowed.map((a) => num(a)));
    if (r.allowed && !Array.isArray(r.allowed)) expect(Object.keys(spec.flags ?? {}).map(Number)).toEqual(Object.keys(r.allowed).map(Number));
    if (r.type === 'bool') expect(r.allowed === null || JSON.stringify(r.allowed) === '[0,1]').toBe(true);
    expect(spec.maxLength).toBe(r.max_length ?? undefined);
    expect(spec.maxEntries).toBe(r.max_entries ?? undefined);
  });
});

describeShared('BOOT_MODES vs the reference', () => {
  const ref = JSON.parse(readFileSync(referencePath('boot-order.json'), 'utf8')) as {
    boot_order: { modes: { value: string; mode: string; boards: Record<string, string> }[] };
  };
  it.each(ref.boot_order.modes.map((m) => [m.value, m] as const))('nibble %s', (_v, m) => {
    const nibble = Number(m.value);
    for (const board of ['2711', '2712'] as const) {
      const mode = BOOT_MODES[board][nibble]!;
      const text = m.boards[board]!;
      if (text === 'undefined') expect(mode.support).toBe('undefined');
      else if (text === 'not available') expect(mode.support).toBe('unavailable');
      else expect(['supported', 'limited']).toContain(mode.support);
      if (m.mode !== 'RESERVED/UNDEFINED') expect(mode.name).toBe(m.mode);
    }
  });
});
