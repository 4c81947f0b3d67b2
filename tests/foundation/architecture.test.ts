import { describe, expect, it } from 'vitest';
import { checkBoundaries } from '../../tools/boundaries.mjs';
import { REPO_ROOT } from '../helpers/shared.js';

describe('architecture boundaries', () => {
  it('keeps Electron out of the core, I/O out of pure modules, and Node out of the renderer', () => {
    expect(checkBoundaries(REPO_ROOT)).toEqual([]);
  });
});
