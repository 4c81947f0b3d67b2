import { describe, expect, it } from 'vitest';
import { applyConfigTxtEdits, configTxtPreset, getConfigTxtValue, parseConfigTxtArgument } from '../../electron/core/configtxt/index.js';
// config.txt as shipped in the pftf RPi4 UEFI firmware v1.34 zip.
import { PFTF_CONFIG_TXT as PFTF_CONFIG } from '../card/firmware-zip.js';

describe('config.txt edits', () => {
  it('applies the hdmi-1080p preset to the pftf config, keeping every other line in order', () => {
    const out = applyConfigTxtEdits(PFTF_CONFIG, configTxtPreset('hdmi-1080p'));
    expect(out).toBe(`${PFTF_CONFIG}hdmi_force_hotplug=1\nhdmi_group=2\nhdmi_mode=82\n`);
    expect(applyConfigTxtEdits(out, configTxtPreset('hdmi-1080p'))).toBe(out);
  });

  it('adds an overlay after the existing dtoverlay lines, once', () => {
    const out = applyConfigTxtEdits(PFTF_CONFIG, [
      { kind: 'dtoverlay', value: 'disable-bt' },
      { kind: 'dtoverlay', value: 'miniuart-bt' },
    ]);
    expect(out.split('\n').slice(-4)).toEqual(['dtoverlay=miniuart-bt', 'dtoverlay=upstream-pi4', 'dtoverlay=disable-bt', '']);
  });

  it('replaces a value in place, keeps comments, and removes keys', () => {
    const text = '# Pi settings\r\narm_boost=1 \r\n\r\n[pi4]\r\n# turbo\r\narm_freq=1800\r\n';
    const out = applyConfigTxtEdits(text, [
      { kind: 'set', key: 'arm_freq', value: '2000', section: 'pi4' },
      { kind: 'remove', key: 'arm_boost' },
    ]);
    expect(out).toBe('# Pi settings\r\n\r\n[pi4]\r\n# turbo\r\narm_freq=2000\r\n');
    expect(getConfigTxtValue(out, 'arm_freq', 'pi4')).toBe('2000');
    expect(getConfigTxtValue(out, 'arm_freq')).toBeUndefined();
  });

  it('puts an [all] setting under a new [all] header when the file ends in another section', () => {
    const out = applyConfigTxtEdits('[pi4]\narm_freq=1800\n', [{ kind: 'set', key: 'hdmi_group', value: '2' }]);
    expect(out).toBe('[pi4]\narm_freq=1800\n\n[all]\nhdmi_group=2\n');
    // The line before the first header counts as [all].
    expect(applyConfigTxtEdits('a=1\n[pi4]\nb=2\n', [{ kind: 'set', key: 'a', value: '3' }])).toBe('a=3\n[pi4]\nb=2\n');
  });

  it('parses command-line edits and refuses what is not KEY=VALUE', () => {
    expect(parseConfigTxtArgument('hdmi_mode=82')).toEqual({ kind: 'set', key: 'hdmi_mode', value: '82' });
    expect(parseConfigTxtArgument('[pi4]arm_freq=2000')).toEqual({ kind: 'set', key: 'arm_freq', value: '2000', section: 'pi4' });
    expect(parseConfigTxtArgument('dtoverlay=vc4-kms-v3d,cma-256')).toEqual({ kind: 'dtoverlay', value: 'vc4-kms-v3d,cma-256' });
    expect(parseConfigTxtArgument('hdmi_mode=')).toEqual({ kind: 'remove', key: 'hdmi_mode' });
    expect(() => parseConfigTxtArgument('hdmi_mode')).toThrow(/write KEY=VALUE/);
    expect(() => parseConfigTxtArgument('bad key!=1')).toThrow();
    expect(() => configTxtPreset('hdmi-4k')).toThrow(/hdmi-hotplug, hdmi-1080p/);
  });
});
