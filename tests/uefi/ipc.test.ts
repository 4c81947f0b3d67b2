/**
 * The wizard's UEFI network settings through the real handler table and dispatcher (as `bootcard
 * serve` runs them): uefi.preview shows the PXE option, card.plan makes the card, and a bad MAC or an
 * unknown setting is refused with the core's error before anything is composed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createDispatcher } from '../../electron/ipc/dispatcher.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { describeShared } from '../helpers/shared.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-uefi-ipc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Result = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

async function call(channel: string, payload: unknown): Promise<Result> {
  const dispatcher = createDispatcher(createHandlers({ frontEnd: 'serve', cwd: dir }));
  return new Promise<Result>((resolve) => {
    void dispatcher.receive({ type: 'request', id: 'r', channel, payload }, (reply: WireFromMain) => {
      if (reply.type === 'result') resolve(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error as { code: string; message: string } });
    });
  });
}

describeShared('UEFI network settings over IPC', () => {
  const zip = () => makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), pftfEntries(path.join(dir, 'src')));

  it('uefi.preview and card.plan take PXE first, HTTP first and network only', async () => {
    const firmwarePath = zip();
    const settings = { pxeBootFirstMac: 'dc:a6:32:01:02:03', httpBootFirstUrl: 'http://10.0.0.1/b.efi', networkBootOnly: true, assetTag: 'rack1' };
    const preview = await call('uefi.preview', { firmwarePath, settings });
    expect(preview.ok).toBe(true);
    expect((preview as { value: { variables: { name: string; value: string }[] } }).value.variables).toEqual([
      { name: 'AssetTag', value: '"rack1"' },
      { name: 'Boot0000', value: '"UEFI PXEv4 (MAC:DCA632010203)" MAC(DCA632010203,0x1)/IPv4(...)' },
      { name: 'Boot0001', value: '"UEFI HTTP boot (bootcard)" Uri(http://10.0.0.1/b.efi)' },
      { name: 'BootOrder', value: '0000,0001' },
    ]);
    const plan = await call('card.plan', { recipe: { kind: 'uefi', firmwarePath, uefi: settings } });
    expect(plan.ok, JSON.stringify(plan)).toBe(true);
  });

  it('a bad MAC is refused with UEFI_BAD_SETTING and where to find the MAC; an unknown setting by the schema', async () => {
    const firmwarePath = zip();
    const bad = await call('card.plan', { recipe: { kind: 'uefi', firmwarePath, uefi: { pxeBootFirstMac: '01:00:5e:00:00:01' } } });
    expect(bad.ok).toBe(false);
    expect((bad as { error: { code: string; message: string } }).error).toMatchObject({ code: 'UEFI_BAD_SETTING', message: expect.stringContaining('ethtool -P eth0') });
    const unknown = await call('card.plan', { recipe: { kind: 'uefi', firmwarePath, uefi: { pxeBootFirst: 'dc:a6:32:01:02:03' } } });
    expect(unknown.ok).toBe(false);
  });
});
