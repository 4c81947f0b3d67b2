import { describe, expect, it } from 'vitest';
import { formatManifest, manifestFileName, type ManifestEntry } from '../../electron/core/manifest/manifest.js';

const entry: ManifestEntry = {
  device: '/dev/sdb',
  cardSerial: '0x1a2b3c4d',
  recipe: 'eeprom-recovery 2711',
  config: '[all]\nBOOT_ORDER=0xf12\n',
  sha256: 'b'.repeat(64),
  time: '2026-11-22T01:00:00.000Z',
  ok: true,
  error: null,
};

describe('the write manifest', () => {
  it('is RFC 4180 CSV: CRLF rows, quoted fields with commas, quotes or line breaks', () => {
    const csv = formatManifest([entry, { ...entry, device: '/dev/sdc', ok: false, error: 'card "gone", try again' }], 'csv');
    const rows = csv.split('\r\n');
    expect(rows[0]).toBe('device,cardSerial,recipe,config,sha256,time,ok,error');
    expect(rows[1]).toBe(`/dev/sdb,0x1a2b3c4d,eeprom-recovery 2711,"[all]\nBOOT_ORDER=0xf12\n",${'b'.repeat(64)},2026-11-22T01:00:00.000Z,ok,`);
    expect(csv).toContain(',failed,"card ""gone"", try again"\r\n');
    expect(csv.endsWith('\r\n')).toBe(true);
  });

  it('keeps a spreadsheet from running a field as a formula', () => {
    const csv = formatManifest([{ ...entry, error: '=HYPERLINK("x")', ok: false }], 'csv');
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it('guards a formula behind a leading TAB, CR, white space or a full-width sign, and leaves other fields alone', () => {
    const fieldOf = (error: string) => {
      const csv = formatManifest([{ ...entry, error, ok: false }], 'csv');
      return csv.slice(csv.indexOf(',failed,') + ',failed,'.length, -2);
    };
    // Each of these is run as a formula by some spreadsheet when it opens the CSV.
    for (const formula of ['=1+1', '+1+1', '-1+1', '@SUM(A1)', '\t=1+1', '\r=1+1', '\t', ' =1+1', '\n\t@x', '\u3000=1', '\uff1d1+1', '\uff0b1', '\uff0d1', '\uff20SUM(A1)']) {
      const field = fieldOf(formula);
      const unquoted = field.startsWith('"') ? field.slice(1, -1).replace(/""/g, '"') : field;
      expect(unquoted, JSON.stringify(formula)).toBe(`'${formula}`);
    }
    for (const plain of ['card gone', 'a=b', 'x-1', '0x1a2b', '']) expect(fieldOf(plain)).toBe(plain);
  });

  it('is JSON with a version marker, and a file name that sorts by time', () => {
    expect(JSON.parse(formatManifest([entry], 'json'))).toEqual({ bootcardManifest: 1, cards: [entry] });
    expect(manifestFileName(new Date('2026-11-22T01:02:03.456Z'), 'csv')).toBe('bootcard-manifest-2026-11-22T01-02-03Z.csv');
  });
});
