/** An overlay config.txt loads but the card's overlays/ folder lacks is warned about when the card is made and when it is inspected. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingOverlays } from '../../electron/core/configtxt/config-txt.js';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { wireTransport } from '../helpers/wire.js';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared } from '../helpers/shared.js';

describe('missingOverlays', () => {
  it('names dtoverlay lines without overlays/NAME.dtbo, ignoring params, comments and case; a Pi 4 -pi4 variant counts', () => {
    const text = '# dtoverlay=commented-out\ndtoverlay=Miniuart-BT,krnbt=on\n[pi4]\ndtoverlay=vc4-kms-v3d\ndtoverlay=disable-wifi\ndtoverlay=\n';
    expect(missingOverlays(text, ['overlays/miniuart-bt.dtbo', 'overlays/vc4-kms-v3d-pi4.dtbo'])).toEqual([{ name: 'disable-wifi', line: 5 }]);
  });
});

describeShared('overlays missing from the card', () => {
  let dir: string;
  let zip: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-overlays-'));
    zip = makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), pftfEntries(path.join(dir, 'src')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('card uefi --dtoverlay disable-wifi (the README example) warns that overlays/disable-wifi.dtbo is not on the card; inspect says so too', async () => {
    const out = path.join(dir, 'wifi.img');
    const run = await runBootcard(['card', 'uefi', '--firmware', zip, '--dtoverlay', 'disable-wifi', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/bootcard: warning: config\.txt line \d+ loads the overlay "disable-wifi" .*overlays\/disable-wifi\.dtbo is not on the card/);
    const json = await runBootcard(['card', 'uefi', '--firmware', zip, '--dtoverlay', 'disable-wifi', '--out', out, '--json']);
    expect(JSON.parse(json.stdout).warnings.join('\n')).toContain('overlays/disable-wifi.dtbo is not on the card');
    const inspect = await runBootcard(['card', 'inspect', out]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/Problem: config\.txt line \d+ loads the overlay "disable-wifi"/);
  });

  it('the wizard\'s card.plan (the Review step) carries the same warning', async () => {
    const client = createClient(wireTransport(createHandlers({ frontEnd: 'serve', cwd: dir, configDir: path.join(dir, 'config') })));
    const plan = await client.call('card.plan', { recipe: { kind: 'uefi', firmwarePath: zip, configTxt: [{ kind: 'dtoverlay', value: 'disable-wifi' }] } });
    expect(plan.warnings.join('\n')).toContain('overlays/disable-wifi.dtbo is not on the card');
    const plain = await client.call('card.plan', { recipe: { kind: 'uefi', firmwarePath: zip, configTxt: [] } });
    expect(plain.warnings).toEqual([]);
  });

  it('the firmware\'s own overlays (miniuart-bt, upstream-pi4) are on the card: no warning', async () => {
    const out = path.join(dir, 'plain.img');
    const run = await runBootcard(['card', 'uefi', '--firmware', zip, '--dtoverlay', 'miniuart-bt', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('warning');
    const inspect = await runBootcard(['card', 'inspect', out]);
    expect(inspect.stdout).not.toContain('Problem:');
  });
});
