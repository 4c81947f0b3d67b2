/**
 * The UEFI core takes Uint8Array, and callers hand it Node Buffers (readFileSync, the FAT reader).
 * Buffer#slice is a view, not a copy: the core must never write into the caller's bytes.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { applyUefiSettings, editUefiVariables, listUefiVariables, readNvram, readUefiSettings } from '../../electron/core/uefi/index.js';
import { describeShared } from '../helpers/shared.js';
import { RPI_FIXTURES } from './helpers.js';

const TEST_GUID = 'b1a2c3d4-0000-4a4a-8b8b-0123456789ab';

describeShared('UEFI core with a Node Buffer as input', () => {
  for (const fixture of RPI_FIXTURES) {
    it(`leaves the caller's Buffer of the ${fixture.name} unchanged through read, list, edit and settings`, () => {
      const buffer = readFileSync(fixture.path);
      const before = Buffer.from(buffer);
      readNvram(buffer);
      listUefiVariables(buffer);
      readUefiSettings(buffer);
      const edited = editUefiVariables(buffer, [{ op: 'set', name: 'BufferTest', guid: TEST_GUID, attributes: 7, data: new Uint8Array([1, 2, 3]) }]);
      expect(edited.changed).toBe(true);
      const settings = applyUefiSettings(buffer, { ramLimit3GB: false, bootTimeoutSeconds: 2 });
      const unchanged = applyUefiSettings(buffer, {});
      expect(Buffer.compare(buffer, before)).toBe(0);
      // The results are copies: changing them does not reach the caller either.
      edited.fd.fill(0);
      settings.fd.fill(0);
      unchanged.fd.fill(0);
      expect(Buffer.compare(buffer, before)).toBe(0);
    });
  }
});
