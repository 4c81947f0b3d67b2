import { describe, expect, it } from 'vitest';
import {
  configSections,
  getBootConfValue,
  parseAssignment,
  parseBootConf,
  removeBootConfValue,
  serializeBootConf,
  setBootConfValue,
} from '../../electron/core/eeprom/index.js';
import { describeShared } from '../helpers/shared.js';
import { fixtureText } from './helpers.js';

const SAMPLE = [
  '# Bootloader config for the lab rack',
  '[all]',
  'BOOT_UART=0',
  '# network first',
  'BOOT_ORDER=0xf142',
  '',
  '[gpio8=0]',
  'BOOT_ORDER=0xf1',
  '',
  '[none]',
  'FREEZE_VERSION=0',
  '[config.txt]',
  'dtoverlay=disable-bt',
  '',
].join('\n');

const edit = (text: string, f: (c: ReturnType<typeof parseBootConf>) => ReturnType<typeof parseBootConf>) => serializeBootConf(f(parseBootConf(text)));

describe('bootconf.txt model', () => {
  it('serialises back to exactly the text it parsed: comments, blank lines, CRLF, no final newline', () => {
    for (const text of [SAMPLE, SAMPLE.replace(/\n/g, '\r\n'), 'BOOT_UART=1', '', '\n\n', '  [all]  \nKEY = spaced\n#x']) {
      expect(serializeBootConf(parseBootConf(text))).toBe(text);
    }
  });

  it('knows the sections and the lines before the first filter', () => {
    const sections = configSections(parseBootConf(SAMPLE));
    expect(sections.map((s) => s.filter)).toEqual([null, 'all', 'gpio8=0', 'none', 'config.txt']);
    expect(getBootConfValue(parseBootConf(SAMPLE), 'BOOT_ORDER')).toBe('0xf142');
    expect(getBootConfValue(parseBootConf(SAMPLE), 'BOOT_ORDER', 'gpio8=0')).toBe('0xf1');
  });

  it('set replaces a value in place, keeping comments and other sections', () => {
    const out = edit(SAMPLE, (c) => setBootConfValue(c, 'BOOT_ORDER', '0xf21'));
    expect(out).toBe(SAMPLE.replace('BOOT_ORDER=0xf142', 'BOOT_ORDER=0xf21'));
  });

  it('set adds a new key at the end of [all], before its blank line', () => {
    const out = edit(SAMPLE, (c) => setBootConfValue(c, 'TFTP_IP', '10.0.0.1'));
    expect(out).toBe(SAMPLE.replace('BOOT_ORDER=0xf142\n\n', 'BOOT_ORDER=0xf142\nTFTP_IP=10.0.0.1\n\n'));
  });

  it('set in a chosen section edits only that section', () => {
    const out = edit(SAMPLE, (c) => setBootConfValue(c, 'BOOT_ORDER', '0xf2', 'gpio8=0'));
    expect(out).toBe(SAMPLE.replace('BOOT_ORDER=0xf1\n', 'BOOT_ORDER=0xf2\n'));
  });

  it('set in a new section creates it before [config.txt], which must stay last', () => {
    const out = edit(SAMPLE, (c) => setBootConfValue(c, 'NETCONSOLE', '6665@10.0.0.2/,6666@10.0.0.1/', 'gpio7=0'));
    expect(out).toBe(SAMPLE.replace('[config.txt]', '[gpio7=0]\nNETCONSOLE=6665@10.0.0.2/,6666@10.0.0.1/\n[config.txt]'));
    const plain = edit('[all]\nBOOT_UART=0', (c) => setBootConfValue(c, 'BOOT_ORDER', '0xf1', 'pi5'));
    expect(plain).toBe('[all]\nBOOT_UART=0\n[pi5]\nBOOT_ORDER=0xf1\n');
  });

  it('set on a file without sections or final newline appends a line', () => {
    expect(edit('BOOT_UART=0', (c) => setBootConfValue(c, 'BOOT_ORDER', '0xf41'))).toBe('BOOT_UART=0\nBOOT_ORDER=0xf41\n');
    expect(edit('', (c) => setBootConfValue(c, 'BOOT_ORDER', '0xf41'))).toBe('BOOT_ORDER=0xf41\n');
  });

  it('remove drops the key everywhere but [config.txt], or only in a chosen section', () => {
    expect(edit(SAMPLE, (c) => removeBootConfValue(c, 'BOOT_ORDER'))).toBe(SAMPLE.replace('BOOT_ORDER=0xf142\n', '').replace('BOOT_ORDER=0xf1\n', ''));
    expect(edit(SAMPLE, (c) => removeBootConfValue(c, 'BOOT_ORDER', 'gpio8=0'))).toBe(SAMPLE.replace('BOOT_ORDER=0xf1\n', ''));
    expect(edit(SAMPLE, (c) => removeBootConfValue(c, 'ABSENT'))).toBe(SAMPLE);
  });

  it('rejects keys and values that are not one KEY=VALUE line', () => {
    expect(() => setBootConfValue(parseBootConf(''), 'BAD KEY', '1')).toThrow(/not a config key/);
    expect(() => setBootConfValue(parseBootConf(''), 'KEY', 'a\nb')).toThrow(/line break/);
    expect(() => parseAssignment('BOOT_ORDER')).toThrow(/KEY=VALUE/);
    expect(parseAssignment('TFTP_PREFIX_STR=a=b')).toEqual({ key: 'TFTP_PREFIX_STR', value: 'a=b' });
  });
});

describeShared('bootconf.txt model on the real configs', () => {
  it.each(['bootconf-netboot.txt', 'imager-2711-boot-conf-network.txt', 'imager-2712-boot-conf-usb.txt'])('%s round-trips and edits minimally', (name) => {
    const text = fixtureText(name);
    expect(serializeBootConf(parseBootConf(text))).toBe(text);
    const out = edit(text, (c) => setBootConfValue(c, 'BOOT_ORDER', '0xf7'));
    expect(out.split('\n').filter((l, i) => l !== text.split('\n')[i])).toEqual(['BOOT_ORDER=0xf7']);
  });
});
