import { useEffect, useMemo, useState, type Dispatch } from 'react';
import type { ConfigDiagnostic } from '../../../electron/ipc/channels/eeprom.js';
import { messageOf, useClient } from '../client-context.js';
import { tftpPreview, type TftpPrefixMode } from '../wizard/bootconf.js';
import { checkConfigure, type Action, type WizardState } from '../wizard/state.js';
import { recipeOf } from '../wizard/recipe.js';
import { parseConfigTxtEdits } from '../wizard/configtxt.js';
import { applyConfigTxtEdits } from '../../../electron/core/configtxt/config-txt.js';
import type { UefiSettingsPreview, UefiSettingsRequest } from '../../../electron/ipc/channels/uefi.js';
import { CONFIG_TXT_PRESETS } from '../../../electron/core/configtxt/config-txt.js';
import { MAC_HELP } from '../../../electron/core/uefi/network-boot.js';
import { uefiFormConfigTxtEdits } from '../wizard/uefi-form.js';
import { BootOrderList } from './BootOrderList.js';
import { bootOrderWarnings } from '../wizard/boot-modes.js';
import { Field } from './Field.js';
import { PathField } from './PathField.js';
import { useDebounced } from './useDebounced.js';

type Props = { state: WizardState; dispatch: Dispatch<Action> };

export function ConfigureStep({ state, dispatch }: Props) {
  return state.recipe === 'uefi-card' ? <UefiConfigure state={state} dispatch={dispatch} /> : <EepromConfigure state={state} dispatch={dispatch} />;
}

function useFirmwareLocation(state: WizardState, dispatch: Dispatch<Action>) {
  const client = useClient();
  const path = useDebounced(state.firmwarePath.trim(), 250);
  const kind = state.recipe === 'uefi-card' ? 'uefi' : 'eeprom';
  useEffect(() => {
    if (path === '') {
      dispatch({ type: 'firmware', firmware: null, error: null, baseConfig: '' });
      return;
    }
    let live = true;
    const request = kind === 'uefi' ? ({ kind: 'uefi', path } as const) : ({ kind: 'eeprom', board: state.board, path } as const);
    client.call('firmware.locate', request).then(
      (firmware) => live && dispatch({ type: 'firmware', firmware, error: null, baseConfig: firmware.kind === 'eeprom' ? firmware.currentConfig : '' }),
      (error: unknown) => live && dispatch({ type: 'firmware', firmware: null, error: messageOf(error), baseConfig: '' }),
    );
    return () => {
      live = false;
    };
  }, [client, dispatch, path, kind, state.board]);
}

function FirmwareField({ state, dispatch, problem }: Props & { problem?: string | undefined }) {
  const uefi = state.recipe === 'uefi-card';
  const found = state.firmware;
  return (
    <PathField
      id="firmware-path"
      purpose={uefi ? 'firmware-uefi' : 'firmware-eeprom'}
      wide
      label={uefi ? 'UEFI firmware (zip or folder)' : 'Bootloader firmware (folder or pieeprom .bin)'}
      placeholder={uefi ? `/home/me/Downloads/RPi4_UEFI_Firmware_${PFTF_DEFAULT_RELEASE}.zip` : '/home/me/rpi-eeprom/firmware-2711/default'}
      value={state.firmwarePath}
      onChange={(value) => dispatch({ type: 'field', field: 'firmwarePath', value })}
      problem={state.firmwarePath.trim() === '' ? undefined : problem}
      hint={
        found?.kind === 'eeprom' ? (
          <span data-testid="firmware-found">Using {found.basePath} and {found.recoveryPath}</span>
        ) : found?.kind === 'uefi' ? (
          <span data-testid="firmware-found">{found.fileCount} files from {found.path}</span>
        ) : (
          'A path on the machine running bootcard.'
        )
      }
    />
  );
}

function EepromConfigure({ state, dispatch }: Props) {
  useFirmwareLocation(state, dispatch);
  // Live validation by the EEPROM core itself (a pure module), as the CLI validates.
  const { config, diagnostics, problems } = useMemo(() => checkConfigure(state), [state]);
  const network = state.bootOrder.includes(0x2);
  const shownBesideList = new Set(bootOrderWarnings(state.board, state.bootOrder).warnings);
  return (
    <section aria-labelledby="step-title" className="configure">
      <h2 id="step-title" tabIndex={-1}>Configure the bootloader</h2>
      <div className="columns">
        <div>
          <BootOrderList board={state.board} modes={state.bootOrder} onChange={(modes) => dispatch({ type: 'bootOrder', modes })} problem={problems.bootOrder} />
          {network ? (
            <fieldset className="tftp">
              <legend>Network boot</legend>
              <Field
                id="tftp-ip"
                label="TFTP server (TFTP_IP)"
                placeholder="from DHCP"
                value={state.tftpIp}
                onChange={(value) => dispatch({ type: 'field', field: 'tftpIp', value })}
                problem={problems.tftpIp}
                hint="Leave empty to use the server DHCP names."
              />
              <div className="field">
                <label htmlFor="tftp-prefix">Folder on the server (TFTP_PREFIX)</label>
                <select id="tftp-prefix" value={state.prefixMode} onChange={(e) => dispatch({ type: 'prefixMode', mode: e.target.value as TftpPrefixMode })}>
                  <option value="serial">the Pi’s serial number</option>
                  <option value="string">a fixed name</option>
                  <option value="mac">the Pi’s MAC address</option>
                </select>
              </div>
              {state.prefixMode === 'string' ? (
                <Field
                  id="tftp-prefix-str"
                  label="Fixed folder (TFTP_PREFIX_STR)"
                  placeholder="pi4/"
                  value={state.prefixString}
                  onChange={(value) => dispatch({ type: 'field', field: 'prefixString', value })}
                  problem={problems.prefixString}
                />
              ) : null}
              <p className="preview">
                The Pi will ask for <code data-testid="tftp-preview">{tftpPreview(state, state.board)}</code>
              </p>
            </fieldset>
          ) : null}
          <details className="advanced">
            <summary>Advanced keys</summary>
            <div className="field wide">
              <label htmlFor="advanced">More settings, one KEY=value a line</label>
              <textarea
                id="advanced"
                rows={3}
                spellCheck={false}
                value={state.advanced}
                placeholder="NET_BOOT_MAX_RETRIES=3"
                aria-invalid={problems.advanced ? true : undefined}
                onChange={(e) => dispatch({ type: 'field', field: 'advanced', value: e.target.value })}
              />
              {problems.advanced ? <p className="field-error" role="alert">{problems.advanced}</p> : null}
            </div>
          </details>
        </div>
        <div>
          <FirmwareField state={state} dispatch={dispatch} problem={problems.firmware} />
          <h3 className="small-heading" id="bootconf-heading">The bootloader config</h3>
          <pre className="config-preview" aria-labelledby="bootconf-heading" data-testid="bootconf-preview">{config}</pre>
          {/* The boot order's own warnings stand beside the list. */}
          <Diagnostics diagnostics={diagnostics.filter((d) => !(d.key === 'BOOT_ORDER' && d.severity === 'warning' && shownBesideList.has(d.message)))} />
        </div>
      </div>
    </section>
  );
}

function Diagnostics({ diagnostics }: { diagnostics: readonly ConfigDiagnostic[] }) {
  if (diagnostics.length === 0) return null;
  return (
    <ul className="diagnostics" aria-label="Config check">
      {diagnostics.map((d, i) => (
        <li key={i} className={d.severity}>
          <strong>{d.severity === 'error' ? 'Error' : 'Warning'}</strong>
          {d.line ? ` (line ${d.line})` : ''}: {d.message}
        </li>
      ))}
    </ul>
  );
}

function UefiConfigure({ state, dispatch }: Props) {
  useFirmwareLocation(state, dispatch);
  const { problems } = checkConfigure(state);
  const preview = useUefiPreview(state, Object.keys(problems).every((k) => k === 'firmware' || k === 'config'));
  return (
    <section aria-labelledby="step-title" className="configure">
      <h2 id="step-title" tabIndex={-1}>Configure the UEFI card</h2>
      <div className="columns">
        <div>
          <FirmwareField state={state} dispatch={dispatch} problem={problems.firmware} />
          <FirmwareDownload found={state.firmware !== null} onDownloaded={(path) => dispatch({ type: 'field', field: 'firmwarePath', value: path })} />
          <UefiNetworkFields state={state} dispatch={dispatch} problems={problems} />
          <fieldset>
            <legend>UEFI settings</legend>
            <Field
              id="uefi-timeout"
              label="Boot menu timeout (seconds)"
              placeholder="firmware default"
              value={state.uefiTimeout}
              onChange={(value) => dispatch({ type: 'field', field: 'uefiTimeout', value })}
              problem={problems.uefiTimeout}
            />
            <div className="field">
              <label htmlFor="uefi-table">System table</label>
              <select id="uefi-table" value={state.uefiSystemTable} onChange={(e) => dispatch({ type: 'uefiSystemTable', value: e.target.value as 'acpi' | 'both' | 'dt' })}>
                <option value="acpi">ACPI</option>
                <option value="both">ACPI + Devicetree</option>
                <option value="dt">Devicetree</option>
              </select>
            </div>
            <label className="check">
              <input type="checkbox" checked={state.uefiRamLimit} onChange={(e) => dispatch({ type: 'uefiRamLimit', value: e.target.checked })} />
              Limit RAM to 3 GB (for OSes that cannot use more)
            </label>
            <UefiHardwareFields state={state} dispatch={dispatch} problems={problems} />
          </fieldset>
          <fieldset>
            <legend>Written into RPI_EFI.fd</legend>
            {preview && preview.variables.length > 0 ? (
              <ul className="uefi-preview" aria-label="Written into RPI_EFI.fd">
                {preview.variables.map((v) => (
                  <li key={v.name}>
                    <code>{v.name}</code> = {v.value}
                  </li>
                ))}
              </ul>
            ) : null}
            {preview && preview.variables.length === 0 ? <p className="hint">Nothing: the firmware keeps its defaults.</p> : null}
            {preview?.warnings.map((w) => (
              <p key={w} className="warning">{w}</p>
            ))}
          </fieldset>
        </div>
        <div>
          <fieldset className="presets">
            <legend>config.txt presets</legend>
            {Object.entries(CONFIG_TXT_PRESETS).map(([name, preset]) => (
              <label key={name} className="check">
                <input
                  type="checkbox"
                  checked={state.uefi.presets.includes(name)}
                  onChange={(e) =>
                    dispatch({ type: 'uefi', patch: { presets: e.target.checked ? [...state.uefi.presets, name] : state.uefi.presets.filter((p) => p !== name) } })
                  }
                />
                <code>{name}</code>: {preset.description}
              </label>
            ))}
          </fieldset>
          <div className="field wide">
            <label htmlFor="config-txt">config.txt changes, one key=value a line</label>
            <textarea
              id="config-txt"
              rows={5}
              spellCheck={false}
              value={state.configTxt}
              placeholder={'arm_boost=1\ndtoverlay=disable-bt\nhdmi_group='}
              aria-invalid={problems.config ? true : undefined}
              onChange={(e) => dispatch({ type: 'field', field: 'configTxt', value: e.target.value })}
            />
            <p className="hint">KEY=VALUE sets a key, [SECTION]KEY=VALUE sets it in a section, KEY= removes it.</p>
            {problems.config ? <p className="field-error" role="alert">{problems.config}</p> : null}
          </div>
          {state.firmware?.kind === 'uefi' ? (
            <>
              <h3 className="small-heading" id="configtxt-heading">config.txt on the card</h3>
              <pre className="config-preview" aria-labelledby="configtxt-heading" data-testid="configtxt-preview">
                {applyConfigTxtEdits(state.firmware.configTxt, [...uefiFormConfigTxtEdits(state.uefi), ...parseConfigTxtEdits(state.configTxt).edits])}
              </pre>
            </>
          ) : null}
        </div>
      </div>
    </section>
  );
}

/** The release `bootcard card uefi` downloads by default (firmware-download.io.ts, PFTF_DEFAULT_VERSION). */
const PFTF_DEFAULT_RELEASE = 'v1.34';

type UefiFieldProps = Props & { problems: ReturnType<typeof checkConfigure>['problems'] };

/** PXE first, HTTP first, network options only: the settings the UEFI network-boot card is named for. */
function UefiNetworkFields({ state, dispatch, problems }: UefiFieldProps) {
  const form = state.uefi;
  return (
    <fieldset className="uefi-network">
      <legend>Network boot</legend>
      <Field
        id="uefi-pxe-mac"
        wide
        label="PXE boot first: this Pi’s Ethernet MAC"
        placeholder="dc:a6:32:01:02:03"
        value={form.pxeMac}
        onChange={(value) => dispatch({ type: 'uefi', patch: { pxeMac: value } })}
        problem={problems.uefiPxeMac}
        hint={`A PXE boot option names the Pi's MAC, so the card is for this one Pi (for a fleet: bootcard card uefi --batch). ${MAC_HELP.replace(/`/g, '')} A Pi 4's MAC is not derived from its serial.`}
      />
      <Field
        id="uefi-http-url"
        wide
        label="HTTP boot first (after PXE): URL of the boot file"
        placeholder="http://192.168.1.10/boot/bootaa64.efi"
        value={form.httpUrl}
        onChange={(value) => dispatch({ type: 'uefi', patch: { httpUrl: value } })}
        problem={problems.uefiHttpUrl}
        hint="Needs no MAC: works on every Pi."
      />
      <label className="check">
        <input type="checkbox" checked={form.networkOnly} onChange={(e) => dispatch({ type: 'uefi', patch: { networkOnly: e.target.checked } })} />
        Network options only (delete every other boot option)
      </label>
      {problems.uefiNetworkOnly ? <p className="field-error" role="alert">{problems.uefiNetworkOnly}</p> : null}
    </fieldset>
  );
}

/** CPU clock, fan and asset tag, as `--cpu-clock`, `--fan-gpio`, `--fan-temp` and `--asset-tag` have them. */
function UefiHardwareFields({ state, dispatch, problems }: UefiFieldProps) {
  const form = state.uefi;
  return (
    <>
      <div className="field">
        <label htmlFor="uefi-cpu-clock">CPU clock</label>
        <select id="uefi-cpu-clock" value={form.cpuClock} onChange={(e) => dispatch({ type: 'uefi', patch: { cpuClock: e.target.value as typeof form.cpuClock } })}>
          <option value="">firmware default (1500 MHz)</option>
          <option value="low">low</option>
          <option value="max">max</option>
          <option value="custom">custom</option>
        </select>
      </div>
      {form.cpuClock === 'custom' ? (
        <Field id="uefi-cpu-mhz" label="Custom CPU clock (MHz)" placeholder="1800" value={form.cpuMhz} onChange={(value) => dispatch({ type: 'uefi', patch: { cpuMhz: value } })} problem={problems.uefiCpuMhz} />
      ) : null}
      <div className="field">
        <label htmlFor="uefi-fan-gpio">Fan switched by the firmware</label>
        <select id="uefi-fan-gpio" value={form.fanGpio} onChange={(e) => dispatch({ type: 'uefi', patch: { fanGpio: e.target.value as typeof form.fanGpio } })}>
          <option value="">none</option>
          <option value="14">GPIO 14</option>
          <option value="18">GPIO 18</option>
          <option value="19">GPIO 19</option>
        </select>
      </div>
      {form.fanGpio ? (
        <Field id="uefi-fan-temp" label="Fan on at (°C)" placeholder="60" value={form.fanTemp} onChange={(value) => dispatch({ type: 'uefi', patch: { fanTemp: value } })} problem={problems.uefiFanTemp} />
      ) : null}
      <Field id="uefi-asset-tag" label="Asset tag (SMBIOS)" placeholder="rack2-slot14" value={form.assetTag} onChange={(value) => dispatch({ type: 'uefi', patch: { assetTag: value } })} problem={problems.uefiAssetTag} />
    </>
  );
}

/** Downloads the pftf release zip (into bootcard's cache) with its progress, then uses it. */
function FirmwareDownload({ found, onDownloaded }: { found: boolean; onDownloaded: (path: string) => void }) {
  const client = useClient();
  const [progress, setProgress] = useState<{ received: number; total: number | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A failed download no longer matters once firmware is found (named by hand, or picked).
  useEffect(() => {
    if (found) setError(null);
  }, [found]);
  const start = () => {
    setError(null);
    setProgress({ received: 0, total: null });
    client
      .call('firmware.download', {}, { onProgress: (p) => setProgress({ received: p.received, total: p.total }) })
      .then((r) => onDownloaded(r.path), (e: unknown) => setError(messageOf(e)))
      .finally(() => setProgress(null));
  };
  return (
    <div className="download">
      <button type="button" disabled={progress !== null} onClick={start}>Download the pftf firmware</button>
      {progress ? (
        <progress aria-label="Firmware download" max={progress.total ?? undefined} value={progress.total ? progress.received : undefined} />
      ) : null}
      {error ? <p className="field-error" role="alert">{error}</p> : null}
    </div>
  );
}

/** What the UEFI settings will write into the firmware's RPI_EFI.fd, from the UEFI core. */
function useUefiPreview(state: WizardState, valid: boolean): UefiSettingsPreview | null {
  const client = useClient();
  const [preview, setPreview] = useState<UefiSettingsPreview | null>(null);
  const firmwarePath = state.firmware?.kind === 'uefi' ? state.firmware.path : null;
  const request = useDebounced(
    JSON.stringify(firmwarePath && valid ? { firmwarePath, settings: (recipeOf(state) as { uefi?: UefiSettingsRequest }).uefi ?? {} } : null),
    250,
  );
  useEffect(() => {
    const parsed = JSON.parse(request) as { firmwarePath: string; settings: UefiSettingsRequest } | null;
    if (!parsed) {
      setPreview(null);
      return;
    }
    let live = true;
    client.call('uefi.preview', parsed).then(
      (p) => live && setPreview(p),
      () => live && setPreview(null),
    );
    return () => {
      live = false;
    };
  }, [client, request]);
  return preview;
}
