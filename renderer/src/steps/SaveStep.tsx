import { useState } from 'react';
import type { EepromBuildResult } from '../../../electron/ipc/channels/eeprom.js';
import { messageOf, useClient } from '../client-context.js';
import { formatExactBytes, formatSize } from '../format.js';
import { bootConfOf } from '../wizard/recipe.js';
import type { WizardState } from '../wizard/state.js';
import { PathField } from './PathField.js';
import { isExistsRefusal, ReplaceQuestion } from './ReplaceQuestion.js';

type BuildRequest = { board: WizardState['board']; firmwarePath: string; config: string; outputDir: string; signKeyPath?: string; signKeyPassphrase?: string };

/** "EEPROM image file only": pieeprom.bin + pieeprom.sig into a folder, for rpi-eeprom-update. */
export function SaveStep({ state, onOutputDir }: { state: WizardState; onOutputDir: (dir: string) => void }) {
  const client = useClient();
  const [result, setResult] = useState<EepromBuildResult | null>(null);
  /** The refusal and the request it was about: changing what is asked for takes it away. */
  const [failure, setFailure] = useState<{ request: BuildRequest; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  /** Signed boot: a private key on the machine bootcard runs on (optional), and its passphrase. */
  const [signKey, setSignKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  /** The request refused because its files exist, and the handler's words for it: asked about before it is resent. */
  const [question, setQuestion] = useState<{ request: BuildRequest; message: string } | null>(null);
  const send = (request: BuildRequest, replace: boolean) => {
    setBusy(true);
    setFailure(null);
    setResult(null);
    setQuestion(null);
    client
      .call('eeprom.build', replace ? { ...request, replace: true } : request)
      .then(setResult, (e: unknown) => (isExistsRefusal(e) && !replace ? setQuestion({ request, message: e.message }) : setFailure({ request, message: messageOf(e) })))
      .finally(() => setBusy(false));
  };
  const signing = signKey.trim() !== '' ? { signKeyPath: signKey.trim(), ...(passphrase !== '' ? { signKeyPassphrase: passphrase } : {}) } : {};
  const current: BuildRequest = { board: state.board, firmwarePath: state.firmwarePath.trim(), config: bootConfOf(state), outputDir: state.outputDir.trim(), ...signing };
  const build = () => send(current, false);
  const error = failure && sameRequest(failure.request, current) ? failure.message : null;
  // The answer is about one folder: naming another one takes the question back.
  const asked = question && question.request.outputDir === state.outputDir.trim() ? question : null;
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Save the EEPROM image</h2>
      <PathField id="output-dir" purpose="output-folder" wide label="Folder to save pieeprom.bin and pieeprom.sig in" value={state.outputDir} placeholder="pieeprom (an existing folder, relative to the output folder)" onChange={onOutputDir} />
      <PathField id="sign-key" purpose="signing-key" wide label="Signing key (optional, for signed boot)" value={signKey} placeholder="private.pem: an RSA-2048 private key" hint="The config is signed and the key's public half goes into the image (bootconf.sig, pubkey.bin)." onChange={setSignKey} />
      {signKey.trim() !== '' ? (
        <div className="field wide">
          <label htmlFor="sign-key-passphrase">Key passphrase (if it has one)</label>
          <input id="sign-key-passphrase" type="password" value={passphrase} autoComplete="off" onChange={(e) => setPassphrase(e.target.value)} />
        </div>
      ) : null}
      <button type="button" className="primary" disabled={busy || asked !== null || state.outputDir.trim() === ''} onClick={build}>
        Build and save
      </button>
      {asked ? <ReplaceQuestion message={asked.message} onReplace={() => send(asked.request, true)} onKeep={() => setQuestion(null)} /> : null}
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {result ? (
        <div role="status" className="result-box">
          <p>Saved <code>{result.imagePath}</code> ({formatSize(result.size)}, {formatExactBytes(result.size)}) and <code>{result.sigPath}</code>.</p>
          {result.signed ? <p>The config is signed; the public key is in the image.</p> : null}
          <p>SHA-256 <code className="hash">{result.sha256}</code></p>
          <p className="hint">On the Pi: <code>sudo rpi-eeprom-update -d -f {result.imagePath}</code></p>
        </div>
      ) : null}
    </section>
  );
}

function sameRequest(a: BuildRequest, b: BuildRequest): boolean {
  return a.outputDir === b.outputDir && a.signKeyPath === b.signKeyPath && a.signKeyPassphrase === b.signKeyPassphrase && a.firmwarePath === b.firmwarePath && a.config === b.config;
}
