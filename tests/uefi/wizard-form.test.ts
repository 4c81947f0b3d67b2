/**
 * The wizard's UEFI card form (renderer/src/wizard/uefi-form.ts): what it puts into the card recipe,
 * and that it refuses what `bootcard card uefi` refuses, with the UEFI core's messages.
 */
import { expect, it } from 'vitest';
import { recipeOf } from '../../renderer/src/wizard/recipe.js';
import { checkConfigure, initialState, reducer, type Action, type WizardState } from '../../renderer/src/wizard/state.js';
import { checkUefiForm, initialUefiForm } from '../../renderer/src/wizard/uefi-form.js';

const uefiCard = (action: Action): WizardState => reducer({ ...initialState, recipe: 'uefi-card', firmwarePath: '/fw.zip' }, action);

it('puts PXE first, HTTP first, network only, CPU clock, fan, asset tag and the presets into the recipe', () => {
  const state = uefiCard({
    type: 'uefi',
    patch: { pxeMac: ' dc:a6:32:01:02:03 ', httpUrl: 'http://10.0.0.1/b.efi', networkOnly: true, cpuClock: 'custom', cpuMhz: '1800', fanGpio: '18', fanTemp: '65', assetTag: 'rack1', presets: ['hdmi-hotplug'] },
  });
  const recipe = recipeOf(state);
  expect(recipe).toEqual({
    kind: 'uefi',
    firmwarePath: '/fw.zip',
    configTxt: [{ kind: 'set', key: 'hdmi_force_hotplug', value: '1' }],
    uefi: { pxeBootFirstMac: 'dc:a6:32:01:02:03', httpBootFirstUrl: 'http://10.0.0.1/b.efi', networkBootOnly: true, cpuClock: 1800, fanGpio: 18, fanTempCelsius: 65, assetTag: 'rack1' },
  });
  // The untouched form adds nothing: the firmware keeps its defaults.
  expect(recipeOf(uefiCard({ type: 'uefi', patch: {} }))).toMatchObject({ uefi: {}, configTxt: [] });
});

it('blocks Next on a bad MAC, URL, clock, fan temperature or asset tag, in the core\'s words', () => {
  const problems = checkUefiForm({ ...initialUefiForm, pxeMac: '01:00:5e:00:00:01', httpUrl: 'tftp://x/y', cpuClock: 'custom', cpuMhz: '3000', fanGpio: '14', fanTemp: '99', assetTag: 'x'.repeat(33) });
  expect(problems.uefiPxeMac).toMatch(/multicast .*ethtool -P eth0/);
  expect(problems.uefiHttpUrl).toMatch(/must start with http:\/\/ or https:\/\//);
  expect(problems.uefiCpuMhz).toMatch(/100 to 2200 MHz/);
  expect(problems.uefiFanTemp).toMatch(/50 to 80/);
  expect(problems.uefiAssetTag).toMatch(/at most 32/);
  expect(checkUefiForm({ ...initialUefiForm, networkOnly: true }).uefiNetworkOnly).toMatch(/needs PXE first/);
  const state = uefiCard({ type: 'uefi', patch: { pxeMac: 'dc:a6:32:01:02' } });
  expect(checkConfigure(state).problems.uefiPxeMac).toContain('is not a MAC address');
  expect(checkUefiForm({ ...initialUefiForm, pxeMac: 'DC-A6-32-01-02-03', httpUrl: 'http://10.0.0.1/b.efi', networkOnly: true })).toEqual({});
});
