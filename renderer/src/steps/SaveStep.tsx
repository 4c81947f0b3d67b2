import { useState } from 'react';
import type { EepromBuildResult } from '../../../electron/ipc/channels/eeprom.js';
import { messageOf, useClient } from '../client-context.js';
import { formatBytes } from '../format.js';
import { bootConfOf } from '../wizard/recipe.js';
import type { WizardState } from '../wizard/state.js';
import { Field } from './Field.js';

/** "EEPROM image file only": pieeprom.bin + pieeprom.sig into a folder, for rpi-eeprom-update. */
export function SaveStep({ state, onOutputDir }: { state: WizardState; onOutputDir: (dir: string) => void }) {
  const client = useClient();
  const [result, setResult] = useState<EepromBuildResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const build = () => {
    setBusy(true);
    setError(null);
    setResult(null);
    client
      .call('eeprom.build', { board: state.board, firmwarePath: state.firmwarePath.trim(), config: bootConfOf(state), outputDir: state.outputDir.trim() })
      .then(setResult, (e: unknown) => setError(messageOf(e)))
      .finally(() => setBusy(false));
  };
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Save the EEPROM image</h2>
      <Field id="output-dir" wide label="Folder to save pieeprom.bin and pieeprom.sig in" value={state.outputDir} placeholder="/home/me/pieeprom" onChange={onOutputDir} />
      <button type="button" className="primary" disabled={busy || state.outputDir.trim() === ''} onClick={build}>
        Build and save
      </button>
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {result ? (
        <div role="status" className="result-box">
          <p>Saved <code>{result.imagePath}</code> ({formatBytes(result.size)}) and <code>{result.sigPath}</code>.</p>
          <p>SHA-256 <code className="hash">{result.sha256}</code></p>
          <p className="hint">On the Pi: <code>sudo rpi-eeprom-update -d -f {result.imagePath}</code></p>
        </div>
      ) : null}
    </section>
  );
}
