/**
 * The wizard's state and its one reducer. Each step reads the slice it shows
 * and dispatches small actions; which steps a recipe has, and whether Next is
 * allowed, are derived here so every step component stays a view.
 */
import type { CardPlan, CardResult, CardWriteProgress, ManifestEntry } from '../../../electron/ipc/channels/card.js';
import type { ConfigDiagnostic } from '../../../electron/ipc/channels/eeprom.js';
import type { FirmwareLocation } from '../../../electron/ipc/channels/firmware.js';
import { validateBootConf } from '../../../electron/core/eeprom/validate.js';
import { BOOT_PRESETS as CORE_BOOT_PRESETS, isBootPresetName, type BootPresetName } from '../../../electron/core/card/boot-presets.js';
import { parseConfigTxtEdits } from './configtxt.js';
import { bootOrderHex, mergeBootConf, parseAdvancedLines, type TftpPrefixMode } from './bootconf.js';
import { checkUefiForm, initialUefiForm, type UefiForm, type UefiFormProblemField } from './uefi-form.js';
import type { WizardSettings } from '../../../electron/core/profiles/profile.js';

export type Recipe = 'eeprom-card' | 'uefi-card' | 'eeprom-file' | 'sdlock';
export type Board = '2711' | '2712';
export type BootPreset = BootPresetName | 'custom';
export type StepId = 'what' | 'configure' | 'cards' | 'review' | 'write' | 'done' | 'save' | 'lock';

export const STEP_TITLES: Record<StepId, string> = {
  what: 'What to make',
  configure: 'Configure',
  cards: 'Choose cards',
  review: 'Review',
  write: 'Write',
  done: 'Done',
  save: 'Save image',
  lock: 'Lock / inspect',
};

export function stepsFor(recipe: Recipe): readonly StepId[] {
  switch (recipe) {
    case 'eeprom-card':
    case 'uefi-card':
      return ['what', 'configure', 'cards', 'review', 'write', 'done'];
    case 'eeprom-file':
      return ['what', 'configure', 'save'];
    case 'sdlock':
      return ['what', 'cards', 'lock'];
  }
}

/** BOOT_ORDER presets, first mode tried first: the CLI's `card recovery --preset` list (Imager's three and network-first). */
export const BOOT_PRESETS: Record<BootPresetName, Record<Board, number[]>> = Object.fromEntries(
  CORE_BOOT_PRESETS.map((p) => [p.name, { '2711': [...p.modes['2711']], '2712': [...p.modes['2712']] }]),
) as Record<BootPresetName, Record<Board, number[]>>;

export interface CardProgress {
  readonly phase: 'waiting' | 'write' | 'verify' | 'lock' | 'done' | 'failed';
  readonly bytes: number;
  readonly total: number;
  readonly speed: number | null;
}

export interface WizardState {
  readonly step: StepId;
  readonly recipe: Recipe;
  readonly board: Board;
  readonly preset: BootPreset;
  readonly bootOrder: readonly number[];
  readonly tftpIp: string;
  readonly prefixMode: TftpPrefixMode;
  readonly prefixString: string;
  readonly advanced: string;
  readonly firmwarePath: string;
  readonly firmware: FirmwareLocation | null;
  readonly firmwareError: string | null;
  /** The config already in the base image; the wizard's settings are merged into it. */
  readonly baseConfig: string;
  readonly configTxt: string;
  readonly uefiTimeout: string;
  readonly uefiRamLimit: boolean;
  readonly uefiSystemTable: 'acpi' | 'both' | 'dt';
  /** PXE/HTTP first, network only, CPU clock, fan, asset tag, config.txt presets (uefi-form.ts). */
  readonly uefi: UefiForm;
  readonly outputDir: string;
  readonly targets: readonly string[];
  /** What each picked card is ("SanDisk SC32G, 32 GB"), for the Review step. */
  readonly targetLabels: Readonly<Record<string, string>>;
  readonly verify: boolean;
  readonly lock: boolean;
  /** A flashing station instead of picked cards: every card put in after the start is written. */
  readonly station: boolean;
  readonly plan: CardPlan | null;
  readonly progress: Readonly<Record<string, CardProgress>>;
  readonly results: readonly CardResult[];
  readonly manifest: readonly ManifestEntry[];
  readonly writeError: string | null;
}

export const initialState: WizardState = {
  step: 'what',
  recipe: 'eeprom-card',
  board: '2711',
  preset: 'network-first',
  bootOrder: BOOT_PRESETS['network-first']['2711'],
  tftpIp: '',
  prefixMode: 'serial',
  prefixString: '',
  advanced: '',
  firmwarePath: '',
  firmware: null,
  firmwareError: null,
  baseConfig: '',
  configTxt: '',
  uefiTimeout: '',
  uefiRamLimit: true,
  uefiSystemTable: 'acpi',
  uefi: initialUefiForm,
  outputDir: '',
  targets: [],
  targetLabels: {},
  verify: true,
  lock: false,
  station: false,
  plan: null,
  progress: {},
  results: [],
  manifest: [],
  writeError: null,
};

export type Action =
  | { type: 'go'; step: StepId }
  | { type: 'recipe'; recipe: Recipe }
  | { type: 'board'; board: Board }
  | { type: 'preset'; preset: BootPreset }
  | { type: 'bootOrder'; modes: readonly number[] }
  | { type: 'field'; field: 'tftpIp' | 'prefixString' | 'advanced' | 'firmwarePath' | 'configTxt' | 'uefiTimeout' | 'outputDir'; value: string }
  | { type: 'prefixMode'; mode: TftpPrefixMode }
  | { type: 'uefiRamLimit'; value: boolean }
  | { type: 'uefiSystemTable'; value: 'acpi' | 'both' | 'dt' }
  | { type: 'uefi'; patch: Partial<UefiForm> }
  | { type: 'firmware'; firmware: FirmwareLocation | null; error: string | null; baseConfig: string }
  | { type: 'toggleTarget'; device: string; label: string }
  | { type: 'targets'; devices: readonly string[] }
  | { type: 'option'; option: 'verify' | 'lock' | 'station'; value: boolean }
  | { type: 'writeStarted'; targets: readonly string[]; plan?: CardPlan }
  | { type: 'writeProgress'; event: CardWriteProgress }
  | { type: 'writeFinished'; results: readonly CardResult[]; manifest: readonly ManifestEntry[]; plan: CardPlan }
  | { type: 'writeFailed'; message: string }
  | { type: 'applySettings'; settings: WizardSettings }
  /** The last settings, arriving once the page has asked for them: dropped if the user has already begun. */
  | { type: 'restoreLast'; settings: WizardSettings }
  | { type: 'again' }
  | { type: 'startOver' };

export function reducer(state: WizardState, action: Action): WizardState {
  switch (action.type) {
    case 'go':
      return { ...state, step: action.step };
    case 'recipe':
      return { ...state, recipe: action.recipe, targets: [], firmware: null, firmwareError: null };
    case 'board': {
      const bootOrder = state.preset === 'custom' ? state.bootOrder : BOOT_PRESETS[state.preset][action.board];
      return { ...state, board: action.board, bootOrder, firmware: null, firmwareError: null, baseConfig: '' };
    }
    case 'preset':
      return action.preset === 'custom'
        ? { ...state, preset: 'custom' }
        : { ...state, preset: action.preset, bootOrder: BOOT_PRESETS[action.preset][state.board] };
    case 'bootOrder':
      return { ...state, bootOrder: action.modes, preset: 'custom' };
    case 'field':
      return { ...state, [action.field]: action.value };
    case 'prefixMode':
      return { ...state, prefixMode: action.mode };
    case 'uefiRamLimit':
      return { ...state, uefiRamLimit: action.value };
    case 'uefiSystemTable':
      return { ...state, uefiSystemTable: action.value };
    case 'uefi':
      return { ...state, uefi: { ...state.uefi, ...action.patch } };
    case 'firmware':
      return { ...state, firmware: action.firmware, firmwareError: action.error, baseConfig: action.baseConfig };
    case 'toggleTarget':
      return {
        ...state,
        targetLabels: { ...state.targetLabels, [action.device]: action.label },
        targets: state.targets.includes(action.device) ? state.targets.filter((d) => d !== action.device) : [...state.targets, action.device],
      };
    case 'targets':
      return { ...state, targets: action.devices };
    case 'option':
      return { ...state, [action.option]: action.value };
    case 'writeStarted':
      return {
        ...state,
        step: 'write',
        plan: action.plan ?? state.plan,
        results: [],
        manifest: [],
        writeError: null,
        progress: Object.fromEntries(action.targets.map((d) => [d, { phase: 'waiting', bytes: 0, total: 0, speed: null } satisfies CardProgress])),
      };
    case 'writeProgress': {
      const e = action.event;
      if (e.type === 'planned') return { ...state, plan: e.plan };
      if (e.type === 'progress') {
        return { ...state, progress: { ...state.progress, [e.device]: { phase: e.phase, bytes: e.bytes, total: e.total, speed: e.speed } } };
      }
      const old = state.progress[e.result.device] ?? { bytes: 0, total: 0, speed: null };
      return {
        ...state,
        progress: { ...state.progress, [e.result.device]: { ...old, phase: e.result.ok ? 'done' : 'failed' } },
        results: [...state.results.filter((r) => r.device !== e.result.device), e.result],
      };
    }
    case 'writeFinished':
      return { ...state, step: 'done', results: action.results, manifest: action.manifest, plan: action.plan };
    case 'writeFailed':
      return { ...state, step: 'done', writeError: action.message };
    case 'restoreLast':
      // Any action makes a new state object: the untouched start is the initial one itself.
      return state === initialState ? reducer(state, { type: 'applySettings', settings: action.settings }) : state;
    case 'applySettings': {
      const s = action.settings;
      const bootOrder = s.bootOrder.length > 0 ? s.bootOrder : state.bootOrder;
      const board = s.board ?? state.board;
      // A named preset only where the saved order is that preset's (settings saved when "network" still meant 0xf12 come back as Custom with their order).
      const preset: BootPreset =
        isBootPresetName(s.preset) && BOOT_PRESETS[s.preset][board].join() === bootOrder.join() ? s.preset : 'custom';
      // The firmware is found again from its path (it may have changed since); nothing picked or written carries over.
      return {
        ...state,
        ...s,
        preset,
        bootOrder,
        uefi: { ...state.uefi, ...s.uefi },
        firmware: null,
        firmwareError: null,
        baseConfig: '',
        targets: [],
        targetLabels: {},
      };
    }
    case 'again':
      return { ...state, step: 'cards', targets: [], progress: {}, results: [], manifest: [], writeError: null };
    case 'startOver':
      // The settings stay (a station makes the same kind of card again); the cards just written are no longer picked.
      return { ...state, step: 'what', targets: [], targetLabels: {}, progress: {}, results: [], manifest: [], writeError: null, plan: null };
  }
}

/** What a profile keeps of the wizard's state: the settings, not the cards or results. */
export function settingsOf(state: WizardState): WizardSettings {
  return {
    recipe: state.recipe,
    board: state.board,
    preset: state.preset,
    bootOrder: [...state.bootOrder],
    tftpIp: state.tftpIp,
    prefixMode: state.prefixMode,
    prefixString: state.prefixString,
    advanced: state.advanced,
    firmwarePath: state.firmwarePath,
    configTxt: state.configTxt,
    uefiTimeout: state.uefiTimeout,
    uefiRamLimit: state.uefiRamLimit,
    uefiSystemTable: state.uefiSystemTable,
    uefi: { ...state.uefi, presets: [...state.uefi.presets] },
    outputDir: state.outputDir,
    verify: state.verify,
    lock: state.lock,
  };
}

/** The boot.conf edits the wizard's fields make (null removes a key). */
export function bootConfEdits(state: WizardState): Record<string, string | null> {
  const usesNetwork = state.bootOrder.includes(0x2);
  const edits: Record<string, string | null> = {
    BOOT_ORDER: bootOrderHex(state.bootOrder),
    TFTP_IP: usesNetwork && state.tftpIp !== '' ? state.tftpIp : null,
    TFTP_PREFIX: usesNetwork && state.prefixMode !== 'serial' ? String(state.prefixMode === 'string' ? 1 : 2) : null,
    TFTP_PREFIX_STR: usesNetwork && state.prefixMode === 'string' ? state.prefixString : null,
  };
  return { ...edits, ...parseAdvancedLines(state.advanced).edits };
}

/** The firmware keeps the timeout in a 16-bit variable (uefiSettingsSchema's bound). */
const MAX_UEFI_TIMEOUT_SECONDS = 65535;

type ProblemField = 'tftpIp' | 'prefixString' | 'advanced' | 'bootOrder' | 'firmware' | 'uefiTimeout' | 'config' | UefiFormProblemField;

export interface ConfigCheck {
  /** The boot.conf that goes on the card: the base image's config with the wizard's edits. */
  readonly config: string;
  /** The EEPROM core's validator findings (the same `bootcard eeprom validate` prints). */
  readonly diagnostics: readonly ConfigDiagnostic[];
  /** What blocks Next, by field, in words. */
  readonly problems: Partial<Record<ProblemField, string>>;
}

/** The Configure step's config and every problem with it, from the core's validator. */
export function checkConfigure(state: WizardState): ConfigCheck {
  const problems: Partial<Record<ProblemField, string>> = {};
  if (state.recipe === 'uefi-card') {
    if (!state.firmware) problems.firmware = state.firmwareError ?? 'Name the UEFI firmware zip or folder.';
    if (state.uefiTimeout !== '' && !/^\d+$/.test(state.uefiTimeout)) problems.uefiTimeout = 'The boot timeout is a whole number of seconds.';
    else if (Number(state.uefiTimeout) > MAX_UEFI_TIMEOUT_SECONDS) problems.uefiTimeout = `The boot timeout is at most ${MAX_UEFI_TIMEOUT_SECONDS} seconds.`;
    const configTxt = parseConfigTxtEdits(state.configTxt).problems;
    if (configTxt.length > 0) problems.config = configTxt.join(' ');
    Object.assign(problems, checkUefiForm(state.uefi));
    return { config: '', diagnostics: [], problems };
  }
  const advanced = parseAdvancedLines(state.advanced);
  if (advanced.problems.length > 0) problems.advanced = advanced.problems.join(' ');
  if (state.bootOrder.length === 0) problems.bootOrder = 'Add at least one boot mode.';
  if (state.prefixMode === 'string' && state.prefixString === '') problems.prefixString = 'Type the folder name the Pi should ask for, such as pi4/.';
  if (!state.firmware) problems.firmware = state.firmwareError ?? 'Name the bootloader firmware folder (with pieeprom and recovery.bin).';
  let config = '';
  let diagnostics: ConfigDiagnostic[] = [];
  try {
    config = mergeBootConf(state.baseConfig, bootConfEdits(state));
    diagnostics = validateBootConf(config, { board: state.board });
  } catch (error) {
    problems.config = error instanceof Error ? error.message : String(error);
  }
  const fieldOfKey: Record<string, ProblemField> = { TFTP_IP: 'tftpIp', TFTP_PREFIX_STR: 'prefixString', BOOT_ORDER: 'bootOrder' };
  for (const d of diagnostics) {
    if (d.severity !== 'error') continue;
    const field = (d.key !== undefined && !(d.key in advanced.edits) ? fieldOfKey[d.key] : undefined) ?? (d.key !== undefined && d.key in advanced.edits ? 'advanced' : 'config');
    problems[field] ??= d.message;
  }
  return { config, diagnostics, problems };
}

/** Why Next is off, in the words shown beside it (null when it is on). */
export function whyNotLeave(state: WizardState): string | null {
  if (canLeave(state)) return null;
  if (state.step === 'configure') {
    const problems = Object.values(checkConfigure(state).problems);
    const first = problems[0] ?? '';
    return problems.length === 1 ? first : `${problems.length} things to fix, first: ${first}`;
  }
  if (state.step === 'cards') {
    if (state.recipe === 'sdlock') return 'Pick the card to lock, unlock or inspect.';
    return 'Pick at least one card to write.';
  }
  return null;
}

export function canLeave(state: WizardState): boolean {
  switch (state.step) {
    case 'what':
      return true;
    case 'configure':
      return Object.keys(checkConfigure(state).problems).length === 0;
    case 'cards':
      return state.recipe === 'sdlock' ? state.targets.length === 1 : state.targets.length > 0 || state.station;
    default:
      return true;
  }
}
