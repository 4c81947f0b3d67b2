/**
 * A station stopped while it is still listing the cards there at its start
 * (serve stopping, or the page's Stop, right after Start) stays stopped: it
 * never starts watching for cards afterwards. Drives come from a recorded
 * laptop with a card reader (tests/fixtures/drives/laptop-reader).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Station } from '../../electron/core/station/station.io.js';
import type { StationSnapshot } from '../../electron/core/station/station-state.js';

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/drives/laptop-reader');
const env = {
  BOOTCARD_SYSFS: path.join(fixture, 'sys'),
  BOOTCARD_MOUNTINFO: path.join(fixture, 'mountinfo'),
  BOOTCARD_SWAPS: path.join(fixture, 'swaps'),
  BOOTCARD_LSBLK_JSON: path.join(fixture, 'lsblk.json'),
};

describe('station stopped during its start', () => {
  it('is not running afterwards and reports no change after it stopped', async () => {
    const changes: StationSnapshot[] = [];
    const station = await Station.prepare({
      recipe: { size: 1024 * 1024, imageFor: () => { throw new Error('no card may be written here'); } },
      verify: true,
      env,
      pollMs: 20,
      onChange: (s) => changes.push(s),
    });
    const starting = station.start();
    await station.stop();
    await starting;
    const seen = changes.length;
    expect(station.snapshot().running).toBe(false);
    // A watcher left behind would report the recorded cards' slots on its next look.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes.length).toBe(seen);
    expect(station.snapshot().running).toBe(false);
  }, 30_000);
});
