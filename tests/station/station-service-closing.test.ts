/**
 * The server-wide station service (station.start behind the Electron window and
 * `bootcard serve`): a server that begins stopping while a Start request is
 * still composing its card (real rpi-eeprom firmware from ../shared) ends with
 * no station, rather than one that starts after the stop and runs on unseen.
 */
import os from 'node:os';
import { expect, it } from 'vitest';
import { StationService } from '../../electron/ipc/handlers/station.js';
import { describeShared, SHARED_ROOT } from '../helpers/shared.js';

describeShared('station service closing during a start', () => {
  it('refuses the start as cancelled, and no station is left running', async () => {
    const service = new StationService({ cwd: os.tmpdir(), includeLoop: false });
    const recipe = { kind: 'eeprom-recovery', board: '2711', firmwarePath: `${SHARED_ROOT}/fixtures/rpi-eeprom`, config: '[all]\nBOOT_ORDER=0xf21\n' } as const;
    const starting = service.start({ recipe, verify: true, lock: false } as Parameters<StationService['start']>[0], { progress: () => undefined, signal: new AbortController().signal });
    await service.close();
    const outcome = await starting.then((snapshot) => ({ snapshot }), (error: unknown) => ({ error }));
    expect(outcome).toMatchObject({ error: { code: 'CANCELLED' } });
    // Stop finds nothing running: no station was left behind to poll and write cards.
    await expect(service.stop({} as Parameters<StationService['stop']>[0], { progress: () => undefined, signal: new AbortController().signal })).rejects.toMatchObject({ code: 'STATION_NOT_RUNNING' });
  }, 60_000);
});
