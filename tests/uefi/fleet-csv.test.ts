/** The batch file reader (electron/core/uefi/fleet-csv.ts): RFC 4180 as spreadsheets export it, and its refusals by line. */
import { expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import { parseCsv, parseFleetCsv, UefiErrorCode } from '../../electron/core/uefi/index.js';

it('reads quoted commas, doubled quotes, line breaks inside quotes, CRLF, a BOM, and skips blank lines', () => {
  const text = '\ufeffname,mac,asset-tag\r\n\r\npi1,dc:a6:32:00:00:01,"rack 1, ""top"""\r\npi2,dc:a6:32:00:00:02,"two\nlines"\r\n';
  expect(parseCsv(text)).toEqual([
    { line: 1, cells: ['name', 'mac', 'asset-tag'] },
    { line: 3, cells: ['pi1', 'dc:a6:32:00:00:01', 'rack 1, "top"'] },
    { line: 4, cells: ['pi2', 'dc:a6:32:00:00:02', 'two\nlines'] },
  ]);
  // The line numbers count the line break inside the quoted field.
  expect(parseCsv('a\n"x\ny"\nb\n').map((r) => r.line)).toEqual([1, 2, 4]);
  expect(parseFleetCsv(text, ['asset-tag'], 'pis.csv').map((r) => [r.line, r.name, r.values])).toEqual([
    [3, 'pi1', { 'asset-tag': 'rack 1, "top"' }],
    [4, 'pi2', { 'asset-tag': 'two\nlines' }],
  ]);
});

it('refuses, naming the file and line: an open quote, too many fields, a duplicate column, an empty file', () => {
  const refused = (text: string) => {
    try {
      parseFleetCsv(text, ['asset-tag'], 'pis.csv');
    } catch (error) {
      expect(BootcardError.is(error, UefiErrorCode.BAD_BATCH_FILE), String(error)).toBe(true);
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(text)}`);
  };
  expect(refused('name,mac\npi1,"dc:a6:32:00:00:01\n')).toMatch(/^pis\.csv line 2: a quoted field is never closed/);
  expect(refused('name,mac\npi1,dc:a6:32:00:00:01,extra\n')).toMatch(/^pis\.csv line 2: 3 fields, but the header has 2 columns/);
  expect(refused('name,mac,mac\n')).toMatch(/the column "mac" appears twice/);
  expect(refused('')).toMatch(/^pis\.csv is empty/);
  expect(refused('name,mac\n')).toMatch(/has a header but no Pis/);
  expect(refused('name,mac\nPi1,dc:a6:32:00:00:01\npi1,dc:a6:32:00:00:02\n')).toMatch(/line 3 \(pi1\): the name pi1 is already used on line 2/);
});
