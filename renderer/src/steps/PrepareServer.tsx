import { useRef, useState } from 'react';
import type { NetbootTreeResult } from '../../../electron/ipc/channels/netboot.js';
import { messageOf, useClient } from '../client-context.js';
import type { WizardState } from '../wizard/state.js';
import { Field } from './Field.js';
import { PathField } from './PathField.js';
import { plural } from '../format.js';

/** What the Pis these cards program will ask for, in the words of the EEPROM's TFTP_PREFIX. */
function askedBy(state: WizardState): { hint: string; initial: string } {
  if (state.prefixMode === 'string') {
    const name = state.prefixString.replace(/\/$/, '');
    return { hint: `These cards make every Pi ask for the folder ${name}/ (TFTP_PREFIX=1).`, initial: name ? `str:${name}` : '' };
  }
  if (state.prefixMode === 'mac') return { hint: 'These cards make each Pi ask for its MAC-address folder (TFTP_PREFIX=2): one MAC per line, e.g. dc:a6:32:01:36:c2. The Pi shows it on the HDMI diagnostics screen.', initial: '' };
  return { hint: 'These cards make each Pi ask for its serial-number folder (TFTP_PREFIX=0): one 8-digit serial per line, e.g. 9ffefdef. The Pi shows it on the HDMI diagnostics screen.', initial: '' };
}

/**
 * "Prepare the server" after network-boot EEPROM cards: the same step as
 * `bootcard netboot tree`, per-Pi TFTP folders (and NFS roots) from an OS image.
 */
export function PrepareServer({ state }: { state: WizardState }) {
  const client = useClient();
  const asked = askedBy(state);
  const [image, setImage] = useState('');
  const [tftpRoot, setTftpRoot] = useState('tftp');
  const [nfsRoot, setNfsRoot] = useState('');
  const [server, setServer] = useState(state.tftpIp);
  const [pis, setPis] = useState(asked.initial);
  const [ssh, setSsh] = useState(false);
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<string | null>(null);
  const [result, setResult] = useState<NetbootTreeResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);
  const ids = pis.split(/[\s,]+/).filter((p) => p.length > 0);
  const prepare = () => {
    setRunning(true);
    setResult(null);
    setError(null);
    controller.current = new AbortController();
    client
      .call(
        'netboot.tree',
        { image, tftpRoot, ...(nfsRoot ? { nfsRoot } : {}), ...(server ? { server } : {}), pis: ids, ...(ssh ? { ssh: true } : {}) },
        { signal: controller.current.signal, onProgress: (p) => setProgress(p.text) },
      )
      .then(setResult, (e: unknown) => setError(messageOf(e)))
      .finally(() => {
        setRunning(false);
        setProgress(null);
      });
  };
  return (
    <fieldset className="prepare-server">
      <legend>Prepare the server</legend>
      <p className="hint">Per-Pi TFTP folders (and NFS roots) from a Raspberry Pi OS image, as <code>bootcard netboot tree</code> makes them; then serve them with <code>bootcard netboot config</code>.</p>
      <PathField id="netboot-image" purpose="os-image" wide label="OS image" value={image} placeholder="raspios-bookworm-arm64-lite.img.xz" onChange={setImage} />
      <PathField id="netboot-tftp" purpose="output-folder" wide label="TFTP folder" value={tftpRoot} placeholder="an existing folder, relative to the output folder" onChange={setTftpRoot} />
      <PathField id="netboot-nfs" purpose="output-folder" wide label="NFS root folder (optional)" value={nfsRoot} placeholder="an existing folder; copies the image's root for each Pi (needs root)" onChange={setNfsRoot} />
      <Field id="netboot-server" label="Server address" value={server} placeholder="10.42.0.211" onChange={setServer} />
      <div className="field wide">
        <label htmlFor="netboot-pis">Pis</label>
        <textarea id="netboot-pis" rows={4} value={pis} spellCheck={false} aria-describedby="netboot-pis-hint" onChange={(e) => setPis(e.target.value)} />
        <p id="netboot-pis-hint" className="hint">{asked.hint}</p>
      </div>
      <label><input type="checkbox" checked={ssh} onChange={(e) => setSsh(e.target.checked)} /> Turn SSH on at first boot</label>
      <button type="button" disabled={running || ids.length === 0 || image === '' || tftpRoot === ''} onClick={prepare}>Prepare the server</button>
      {running ? <button type="button" onClick={() => controller.current?.abort()}>Cancel</button> : null}
      {progress ? <p role="status">{progress}</p> : null}
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {result ? (
        <div role="status" className="ok-text" data-testid="netboot-result">
          <p>Built {plural(result.pis.length, 'Pi folder')}; {plural(result.sharedFiles, 'boot file')} shared between them.</p>
          <ul>
            {result.pis.map((p) => (
              <li key={p.folder}><code>{p.tftpFolder}</code>{p.nfsFolder ? <> · root <code>{p.nfsFolder}</code></> : null}{p.replaced ? ' (updated)' : ''}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </fieldset>
  );
}
