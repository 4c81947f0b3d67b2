import { describe, expect, it } from 'vitest';
import { buildBatchRow, buildPieeprom, createBatchBuilder, makePieepromSig, parseCsv, parseEepromImage, planBatch, readBootConf, parsePieepromSig } from '../../electron/core/eeprom/index.js';
import { describeShared } from '../helpers/shared.js';
import { IMAGES, fixtureBytes } from './helpers.js';

describe('CSV parsing (RFC 4180)', () => {
  it('handles quotes, escaped quotes, commas and line breaks in quoted fields, CRLF and a BOM', () => {
    const table = parseCsv('\ufeffname,TFTP_PREFIX_STR,NOTE\r\npi-1,"a,b",plain\r\n"pi-2","say ""hi""",""\r\n\r\npi-3,"two\nlines",x');
    expect(table.header).toEqual(['name', 'TFTP_PREFIX_STR', 'NOTE']);
    expect(table.rows).toEqual([
      { line: 2, cells: ['pi-1', 'a,b', 'plain'] },
      { line: 3, cells: ['pi-2', 'say "hi"', ''] },
      { line: 5, cells: ['pi-3', 'two\nlines', 'x'] },
    ]);
  });

  it('reports broken quoting with the line', () => {
    expect(() => parseCsv('name,A\npi,"open\n')).toThrow(/line 2: a quoted field is never closed/);
    expect(() => parseCsv('name,A\npi,"x"y\n')).toThrow(/line 2: text after a closing quote/);
    expect(() => parseCsv('')).toThrow(/empty/);
  });
});

describeShared('per-Pi batches', () => {
  const base = fixtureBytes(IMAGES.pi4);
  const image = parseEepromImage(base);

  it('plans one config per row from the base config plus the row\'s keys', () => {
    const plan = planBatch({ base, csv: 'name,CLIENT_IP,TFTP_PREFIX\nrack1-pi01,10.0.1.11,2\nrack1-pi02,10.0.1.12,\n' });
    expect(plan.rows.map((r) => r.name)).toEqual(['rack1-pi01', 'rack1-pi02']);
    expect(plan.rows[0]!.config).toBe(`${readBootConf(base)}CLIENT_IP=10.0.1.11\nTFTP_PREFIX=2\n`);
    // An empty cell leaves the key as the base has it.
    expect(plan.rows[1]!.config).toBe(`${readBootConf(base)}CLIENT_IP=10.0.1.12\n`);
    const built = buildBatchRow(base, image, plan.rows[0]!, { timestamp: 1700000000 });
    expect(readBootConf(built.image)).toBe(plan.rows[0]!.config);
    expect(parsePieepromSig(built.sig).ts).toBe(1700000000);
  });

  it('the fast builder (reused buffer, forked prefix hash) gives each row the same bytes and sig as a fresh build', () => {
    const plan = planBatch({ base, csv: 'name,CLIENT_IP,TFTP_PREFIX_STR\na,10.0.0.1,' + 'x'.repeat(30) + '\nb,10.0.0.2,\nc,10.0.0.3,y\n' });
    const build = createBatchBuilder(base, image, { timestamp: 42, updateTimestamp: 42, targetSoc: '2711' });
    for (const row of plan.rows) {
      const fast = build(row);
      const fresh = buildPieeprom({ base, config: row.config, timestamp: 42, updateTimestamp: 42 });
      expect(Buffer.compare(Buffer.from(fast.image), Buffer.from(fresh.image))).toBe(0);
      expect(fast.sig).toBe(makePieepromSig(fresh.image, 42, { targetSoc: '2711' }));
    }
  });

  it('checks every row first and reports all problems with row line numbers', () => {
    const csv = [
      'name,CLIENT_IP,TFTP_PREFIX',
      'good,10.0.0.2,1',
      '../evil,10.0.0.3,1',
      'bad-ip,10.0.0.300,1',
      'good,10.0.0.4,1',
      'short,10.0.0.5',
      'bad-prefix,10.0.0.6,7',
    ].join('\n');
    let message = '';
    try {
      planBatch({ base, csv });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/The batch has 5 problems; no files were written/);
    expect(message).toMatch(/line 3 \(\.\.\/evil\): "\.\.\/evil" is not a safe file name/);
    expect(message).toMatch(/line 4 \(bad-ip\): error: line 6: CLIENT_IP=10\.0\.0\.300: expected an IPv4 address/);
    expect(message).toMatch(/line 5 \(good\): the name good is already used on line 2/);
    expect(message).toMatch(/line 6 \(short\): 2 fields, but the header has 3/);
    expect(message).toMatch(/line 7 \(bad-prefix\): .*TFTP_PREFIX=7: allowed values are 0, 1, 2/);
  });

  it('refuses a header without name or with bad keys, and a config over the limit in any row', () => {
    expect(() => planBatch({ base, csv: 'host,CLIENT_IP\na,1.2.3.4\n' })).toThrow(/first column must be "name"/);
    expect(() => planBatch({ base, csv: 'name,CLIENT IP\na,1.2.3.4\n' })).toThrow(/"CLIENT IP" is not a config key/);
    expect(() => planBatch({ base, csv: 'name,TFTP_PREFIX_STR\na,x\n', config: `[all]\n#${'x'.repeat(4100)}\n` })).toThrow(/line 2 \(a\): error: .*at most 4076 bytes/);
  });
});
