import { describe, expect, it } from 'vitest';
import { BootcardError, CommonErrorCode, toBootcardError } from '../../electron/core/errors.js';

describe('BootcardError', () => {
  it('survives a JSON round trip with code, message and details', () => {
    const original = new BootcardError('EEPROM_CONFIG_TOO_LONG', 'The config is 4100 bytes; the limit is 4076. Remove comments or keys.', { size: 4100, limit: 4076 });
    const wire = JSON.parse(JSON.stringify(original));
    const back = BootcardError.fromJSON(wire);
    expect(back).toBeInstanceOf(BootcardError);
    expect(back.code).toBe('EEPROM_CONFIG_TOO_LONG');
    expect(back.message).toBe(original.message);
    expect(back.details).toEqual({ size: 4100, limit: 4076 });
  });

  it('turns a malformed error payload into an INTERNAL error instead of throwing', () => {
    const back = BootcardError.fromJSON({ code: 42 });
    expect(back.code).toBe(CommonErrorCode.INTERNAL);
    expect(back.message).toContain('Malformed error');
  });

  it('maps Node system errors to codes a user can act on', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/nope.bin' });
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/dev/mmcblk0' });
    expect(toBootcardError(enoent).code).toBe(CommonErrorCode.FILE_NOT_FOUND);
    expect(toBootcardError(enoent).message).toContain('/nope.bin');
    expect(toBootcardError(eacces).code).toBe(CommonErrorCode.PERMISSION_DENIED);
    // Names the device and how to get read access; never promises a password prompt (only writing cards asks).
    expect(toBootcardError(eacces).message).toMatch(/may not open \/dev\/mmcblk0.*group that owns it.*sudo/);
    expect(toBootcardError(eacces).message).not.toMatch(/let bootcard ask/);
    const unwritable = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/srv/out/x.bin', syscall: 'rename' });
    expect(toBootcardError(unwritable).message).toMatch(/may not change \/srv\/out\/x\.bin\. Check its owner and mode \(ls -ld \/srv\/out\/x\.bin\)/);
  });

  it('keeps bigint details serialisable', () => {
    const e = new BootcardError('X', 'm', { size: 10n });
    expect(JSON.parse(JSON.stringify(e)).details).toEqual({ size: '10' });
  });
});
