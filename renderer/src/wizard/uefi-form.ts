/**
 * The UEFI card's network and hardware settings in the wizard (PXE first, HTTP first, network options
 * only, CPU clock, fan, asset tag, config.txt presets), checked by the UEFI core's own validators so the
 * wizard refuses exactly what `bootcard card uefi` refuses, in the same words.
 */
import { wizardMessageOf } from '../../../electron/core/errors.js';
import { CONFIG_TXT_PRESETS, type ConfigTxtEdit } from '../../../electron/core/configtxt/config-txt.js';
import { validateBootUri } from '../../../electron/core/uefi/device-path.js';
import { parseMacAddress } from '../../../electron/core/uefi/network-boot.js';
import { validateUefiSettings, type UefiSettings } from '../../../electron/core/uefi/settings.js';

export interface UefiForm {
  /** The Pi's MAC for PXE first; empty for none. */
  readonly pxeMac: string;
  /** HTTP boot URL; empty for none. */
  readonly httpUrl: string;
  readonly networkOnly: boolean;
  /** '' (firmware default), 'low', 'max', or 'custom' with cpuMhz. */
  readonly cpuClock: '' | 'low' | 'max' | 'custom';
  readonly cpuMhz: string;
  /** '' (no fan) or the GPIO number. */
  readonly fanGpio: '' | '14' | '18' | '19';
  readonly fanTemp: string;
  readonly assetTag: string;
  /** Names from CONFIG_TXT_PRESETS. */
  readonly presets: readonly string[];
}

export const initialUefiForm: UefiForm = {
  pxeMac: '',
  httpUrl: '',
  networkOnly: false,
  cpuClock: '',
  cpuMhz: '',
  fanGpio: '',
  fanTemp: '',
  assetTag: '',
  presets: [],
};

export type UefiFormProblemField = 'uefiPxeMac' | 'uefiHttpUrl' | 'uefiNetworkOnly' | 'uefiCpuMhz' | 'uefiFanTemp' | 'uefiAssetTag';

/** The core's message in the wizard's words (its CLI wording names --pxe-boot-first and the like). */
const messageOf = wizardMessageOf;

/** The settings the form adds to the card's UefiSettings (only what differs from the firmware's defaults). */
export function uefiFormSettings(form: UefiForm): UefiSettings {
  const pxe = form.pxeMac.trim();
  const url = form.httpUrl.trim();
  return {
    ...(pxe ? { pxeBootFirstMac: pxe } : {}),
    ...(url ? { httpBootFirstUrl: url } : {}),
    ...(form.networkOnly ? { networkBootOnly: true } : {}),
    ...(form.cpuClock === 'low' || form.cpuClock === 'max' ? { cpuClock: form.cpuClock } : {}),
    ...(form.cpuClock === 'custom' && /^\d+$/.test(form.cpuMhz.trim()) ? { cpuClock: Number(form.cpuMhz.trim()) } : {}),
    ...(form.fanGpio ? { fanGpio: Number(form.fanGpio) } : {}),
    ...(form.fanGpio && /^\d+$/.test(form.fanTemp.trim()) ? { fanTempCelsius: Number(form.fanTemp.trim()) } : {}),
    ...(form.assetTag !== '' ? { assetTag: form.assetTag } : {}),
  };
}

export function uefiFormConfigTxtEdits(form: UefiForm): ConfigTxtEdit[] {
  return form.presets.flatMap((name) => [...(CONFIG_TXT_PRESETS[name]?.edits ?? [])]);
}

/** What blocks Next, by field, in the core's words. */
export function checkUefiForm(form: UefiForm): Partial<Record<UefiFormProblemField, string>> {
  const problems: Partial<Record<UefiFormProblemField, string>> = {};
  const check = (field: UefiFormProblemField, run: () => void) => {
    try {
      run();
    } catch (error) {
      problems[field] = messageOf(error);
    }
  };
  if (form.pxeMac.trim()) check('uefiPxeMac', () => parseMacAddress(form.pxeMac));
  if (form.httpUrl.trim()) check('uefiHttpUrl', () => validateBootUri(form.httpUrl.trim()));
  if (form.networkOnly && !form.pxeMac.trim() && !form.httpUrl.trim()) problems.uefiNetworkOnly = 'Network options only needs PXE first (a MAC) or HTTP first (a URL): otherwise the Pi has nothing to boot.';
  if (form.cpuClock === 'custom') {
    if (!/^\d+$/.test(form.cpuMhz.trim())) problems.uefiCpuMhz = 'Type the CPU clock in MHz (100 to 2200).';
    else check('uefiCpuMhz', () => validateUefiSettings({ cpuClock: Number(form.cpuMhz.trim()) }));
  }
  if (form.fanGpio && form.fanTemp.trim() !== '') {
    if (!/^\d+$/.test(form.fanTemp.trim())) problems.uefiFanTemp = 'The fan temperature is a whole number of °C (50 to 80).';
    else check('uefiFanTemp', () => validateUefiSettings({ fanTempCelsius: Number(form.fanTemp.trim()) }));
  }
  if (form.assetTag !== '') check('uefiAssetTag', () => validateUefiSettings({ assetTag: form.assetTag }));
  return problems;
}
