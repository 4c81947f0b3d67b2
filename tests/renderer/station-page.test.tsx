// @vitest-environment happy-dom
/**
 * The station page says why a card was refused in the wizard's words: the drive layer's constraints (whose
 * messages are the CLI's, with flags such as --allow-non-card) reach the tile as codes and are worded as the
 * Cards step words them.
 */
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, expect, it } from 'vitest';
import { driveConstraints } from '../../electron/core/drives/constraints.js';
import type { Drive } from '../../electron/core/drives/types.js';
import type { StationSnapshot } from '../../electron/ipc/channels/station.js';
import { StationPage } from '../../renderer/src/station/StationPage.js';
import { laptopDrives } from './drives-fixture.js';

afterEach(cleanup);

it('a refused USB stick is explained without a CLI flag', () => {
  const stick: Drive = { ...laptopDrives.find((d) => d.device === '/dev/sdb')!, device: '/dev/sdd', name: 'sdd', description: 'SanDisk Cruzer Blade', isCard: false };
  const problems = driveConstraints(stick, { size: 64 * 1024 * 1024 });
  expect(problems.map((p) => p.code)).toEqual(['DRIVE_NOT_CARD']);
  expect(problems[0]!.message).toMatch(/--allow-non-card/);
  const snapshot: StationSnapshot = {
    running: true,
    startedAt: new Date().toISOString(),
    slots: [{ device: stick.device, description: stick.description, state: 'refused', reason: problems[0]!.message, problems: problems.map(({ code, message }) => ({ code, message })) }],
    counters: { written: 0, failed: 1, skipped: 0, cardsPerHour: 0 },
    recent: [],
  };
  render(<StationPage snapshot={snapshot} onStop={() => undefined} stopping={false} onClose={() => undefined} error={null} />);
  const tile = screen.getByText(/does not look like an SD card/);
  expect(tile.textContent).toBe('/dev/sdd (SanDisk Cruzer Blade) does not look like an SD card, so the wizard does not offer it.');
  expect(document.body.textContent).not.toMatch(/--allow-non-card/);
});
