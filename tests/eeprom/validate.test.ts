import { describe, expect, it } from 'vitest';
import { validateBootConf, type Diagnostic } from '../../electron/core/eeprom/index.js';
import { describeShared } from '../helpers/shared.js';
import { configOfSize, fixtureText } from './helpers.js';

const summary = (ds: Diagnostic[]) => ds.map((d) => `${d.severity} ${d.line ?? '-'} ${d.code}`);

describeShared('validation of the real configs', () => {
  it.each([
    ['bootconf-netboot.txt', '2711'],
    ['imager-2711-boot-conf-network.txt', '2711'],
    ['imager-2711-boot-conf-sd.txt', '2711'],
    ['imager-2711-boot-conf-usb.txt', '2711'],
    ['imager-2712-boot-conf-network.txt', '2712'],
    ['imager-2712-boot-conf-sd.txt', '2712'],
    ['imager-2712-boot-conf-usb.txt', '2712'],
  ] as const)('%s is clean for %s', (name, board) => {
    expect(validateBootConf(fixtureText(name), { board })).toEqual([]);
  });
});

describe('validateBootConf', () => {
  it('reports wrong values with their line numbers', () => {
    const text = '[all]\nTFTP_IP=10.0.0.300\nTFTP_PREFIX=3\nMAC_ADDRESS=dc:a6:32:01:36\nDHCP_TIMEOUT=1000\nBOOT_UART=yes\nTFTP_PREFIX_STR=' + 'a'.repeat(33) + '\nHTTP_HOST=http://example.com/\nXHCI_DEBUG=0x80\nCLIENT_IP=\n';
    expect(summary(validateBootConf(text, { board: '2711' }))).toEqual([
      'error 2 EEPROM_BAD_VALUE',
      'error 3 EEPROM_VALUE_OUT_OF_RANGE',
      'error 4 EEPROM_BAD_VALUE',
      'error 5 EEPROM_VALUE_OUT_OF_RANGE',
      'error 6 EEPROM_BAD_VALUE',
      'error 7 EEPROM_VALUE_OUT_OF_RANGE',
      'error 8 EEPROM_BAD_VALUE',
      'error 9 EEPROM_VALUE_OUT_OF_RANGE',
    ]);
    const messages = validateBootConf(text, { board: '2711' }).map((d) => d.message);
    expect(messages[1]).toBe('TFTP_PREFIX=3: allowed values are 0, 1, 2.');
    expect(messages[3]).toBe('DHCP_TIMEOUT=1000: the minimum is 5000 ms.');
  });

  it('warns about unknown and misspelt keys, and undocumented ones', () => {
    const ds = validateBootConf('BOOT_ODER=0xf41\nFOO=1\nUSE_IPV6=1\n', { board: '2711' });
    expect(summary(ds)).toEqual(['warning 1 EEPROM_UNKNOWN_KEY', 'warning 2 EEPROM_UNKNOWN_KEY', 'warning 3 EEPROM_UNDOCUMENTED_KEY']);
    expect(ds[0]!.message).toMatch(/did you mean BOOT_ORDER\?/);
  });

  it('rejects keys the board does not have, unless in a section that never applies there', () => {
    expect(summary(validateBootConf('UART_BAUD=115200\nPCIE_PROBE=1\n', { board: '2711' }))).toEqual(['error 1 EEPROM_KEY_NOT_ON_BOARD', 'error 2 EEPROM_KEY_NOT_ON_BOARD']);
    expect(validateBootConf('UART_BAUD=115200\nPCIE_PROBE=1\n', { board: '2712' })).toEqual([]);
    expect(summary(validateBootConf('[pi5]\nPCIE_PROBE=1\n[all]\nBOOT_UART=1\n', { board: '2711' }))).toEqual(['warning 1 EEPROM_UNSUPPORTED_SECTION']);
    expect(summary(validateBootConf('VL805=1\n', { board: '2712' }))).toEqual(['error 1 EEPROM_KEY_NOT_ON_BOARD']);
  });

  it('checks BOOT_ORDER per board', () => {
    expect(summary(validateBootConf('[all]\nBOOT_ORDER=0xf51\n', { board: '2712' }))).toEqual(['error 2 EEPROM_BOOT_ORDER_MODE_NOT_ON_BOARD']);
    expect(summary(validateBootConf('[all]\nBOOT_ORDER=0x21\n', { board: '2711' }))).toEqual(['warning 2 EEPROM_BOOT_ORDER_NO_END']);
    expect(summary(validateBootConf('[all]\nBOOT_ORDER=f21\n', { board: '2711' }))).toEqual(['error 2 EEPROM_BAD_VALUE']);
  });

  it('leaves [none] and [config.txt] alone and knows the filters', () => {
    const text = '[all]\nBOOT_UART=1\n[gpio8=0]\nBOOT_ORDER=0xf7\n[board-type=0x14]\nBOOT_ORDER=0xf251\n[0x1234abcd]\nBOOT_UART=0\n[tryboot]\nPARTITION=2\n[partition=62]\nPARTITION=2\n[none]\nuserdata0=anything\n[config.txt]\ndtoverlay=vc4-kms-v3d\n';
    expect(validateBootConf(text, { board: '2711' })).toEqual([]);
    expect(summary(validateBootConf(`[all]\nBOOT_UART=0\n[none]${' '.repeat(78)}\nuserdata0=0x12345789\nusercert=${'Z'.repeat(300)}\n`, { board: '2712' }))).toEqual(['warning 3 EEPROM_BAD_SECTION']);
    expect(summary(validateBootConf('[EDID=VSC-TD2220]\nBOOT_UART=1\n[weird]\n', { board: '2711' }))).toEqual(['warning 1 EEPROM_UNSUPPORTED_SECTION', 'warning 3 EEPROM_BAD_SECTION']);
  });

  it('flags lines that are not settings, spaces around =, duplicates, CRLF and long lines', () => {
    expect(summary(validateBootConf('[all]\nBOOT_UART\nBOOT_ORDER = 0xf41\nTFTP_PREFIX = 5\n', { board: '2711' }))).toEqual(['warning 2 EEPROM_BAD_LINE', 'warning 3 EEPROM_BAD_LINE', 'warning 4 EEPROM_BAD_LINE', 'error 4 EEPROM_VALUE_OUT_OF_RANGE']);
    expect(summary(validateBootConf('BOOT_UART=0\nBOOT_UART=1\n', { board: '2711' }))).toEqual(['warning 2 EEPROM_DUPLICATE_KEY']);
    expect(summary(validateBootConf('BOOT_UART=0\r\n', { board: '2711' }))).toEqual(['warning - EEPROM_CRLF']);
    expect(summary(validateBootConf(`TFTP_PREFIX_STR=${'x'.repeat(90)}\n# ${'x'.repeat(100)}\n`, { board: '2711' }))).toEqual(['warning 1 EEPROM_LINE_TOO_LONG', 'error 1 EEPROM_VALUE_OUT_OF_RANGE']);
  });

  it('enforces the 4076-byte limit and the image\'s real free space, with the counts', () => {
    expect(validateBootConf(configOfSize(4076), { board: '2711' })).toEqual([]);
    const over = validateBootConf(configOfSize(4077), { board: '2711' });
    expect(summary(over)).toEqual(['error - EEPROM_CONFIG_TOO_LARGE']);
    expect(over[0]!.message).toMatch(/4077 bytes; .* at most 4076 bytes. Remove 1 bytes/);
    const tight = validateBootConf(configOfSize(1600), { board: '2711', freeBytes: 1516 });
    expect(summary(tight)).toEqual(['error - EEPROM_NO_SPACE']);
    expect(tight[0]!.message).toMatch(/1600 bytes but this image has room for only 1516 bytes/);
    expect(validateBootConf(configOfSize(1516), { board: '2711', freeBytes: 1516 })).toEqual([]);
  });
});

describe('HTTP boot settings', () => {
  const check = (config: string) => validateBootConf(config, { board: '2712' }).map((d) => `${d.severity} ${d.message}`);
  it('accepts a host, port and path the bootloader can use', () => {
    expect(check('[all]\nBOOT_ORDER=0xf7\nHTTP_HOST=boot.example.org\nHTTP_PORT=8080\nHTTP_PATH=pis/rack1\n')).toEqual([]);
  });
  it('refuses a URL in HTTP_HOST or HTTP_PATH, a port out of range, and odd path characters; warns about slashes', () => {
    expect(check('HTTP_HOST=http://boot.example.org\n').join()).toMatch(/^error HTTP_HOST=http:\/\/boot\.example\.org: expected a lower-case host name/);
    expect(check('HTTP_PORT=70000\n').join()).toMatch(/^error HTTP_PORT=70000: the maximum is 65535/);
    expect(check('HTTP_PATH=http://x/y\n').join()).toMatch(/^error HTTP_PATH=http:\/\/x\/y: give only the path/);
    expect(check('HTTP_PATH=my files\n').join()).toMatch(/^error .*without spaces/);
    expect(check('HTTP_PATH=/pis/\n').join()).toMatch(/^warning HTTP_PATH=\/pis\/: write it without a leading or trailing '\/' .*\/pis\/boot\.img/);
  });
});

describeShared('HTTP boot and the bootloader image', () => {
  it('warns when BOOT_ORDER asks a Pi 4 bootloader from before 2022-03-10 for HTTP boot (mode 7)', async () => {
    const { buildPieeprom } = await import('../../electron/core/eeprom/index.js');
    const { fixtureBytes, IMAGES } = await import('./helpers.js');
    const config = '[all]\nBOOT_ORDER=0xf71\n';
    const old = buildPieeprom({ base: fixtureBytes(IMAGES.pi4Old), config });
    expect(old.diagnostics.map((d) => d.message).join()).toMatch(/BOOT_ORDER has 7 \(HTTP boot\) but this Pi 4 bootloader was built on 2020-07-16/);
    expect(buildPieeprom({ base: fixtureBytes(IMAGES.pi4), config }).diagnostics).toEqual([]);
  });
});
