import { useMemo, useState, type Dispatch } from 'react';
import { formatManifest, manifestFileName, type ManifestFormat } from '../../../electron/core/manifest/manifest.js';
import { messageOf, useClient } from '../client-context.js';
import type { Action, WizardState } from '../wizard/state.js';
import { isExistsRefusal, ReplaceQuestion } from './ReplaceQuestion.js';
import { PrepareServer } from './PrepareServer.js';

/** A row per card (ok, or the error and what to do), the manifest to save, and "write more". */
export function DoneStep({ state, dispatch }: { state: WizardState; dispatch: Dispatch<Action> }) {
  const client = useClient();
  const [format, setFormat] = useState<ManifestFormat>('csv');
  const [path, setPath] = useState(() => manifestFileName(new Date(), 'csv'));
  const [saved, setSaved] = useState<string | null>(null);
  /** The refusal and the file it was about: another name or format takes it away. */
  const [saveFailure, setSaveFailure] = useState<{ path: string; format: ManifestFormat; message: string } | null>(null);
  /** The file name and format refused because the file exists, and the handler's words: asked about before resending. */
  const [question, setQuestion] = useState<{ path: string; format: ManifestFormat; message: string } | null>(null);
  const text = useMemo(() => (state.manifest.length > 0 ? formatManifest(state.manifest, format) : ''), [state.manifest, format]);
  const okCount = state.results.filter((r) => r.ok).length;
  const pickFormat = (f: ManifestFormat) => {
    setFormat(f);
    setPath((p) => p.replace(/\.(json|csv)$/, `.${f}`));
  };
  const send = (target: { path: string; format: ManifestFormat }, replace: boolean) => {
    setSaved(null);
    setSaveFailure(null);
    setQuestion(null);
    client.call('manifest.save', { ...target, entries: [...state.manifest], ...(replace ? { replace: true } : {}) }).then(
      (r) => setSaved(`Saved ${r.path}`),
      (e: unknown) => (isExistsRefusal(e) && !replace ? setQuestion({ ...target, message: e.message }) : setSaveFailure({ ...target, message: messageOf(e) })),
    );
  };
  const save = () => send({ path, format }, false);
  const saveError = saveFailure && saveFailure.path === path && saveFailure.format === format ? saveFailure.message : null;
  // The answer is about one file: another name or format takes the question back.
  const asked = question && question.path === path && question.format === format ? question : null;
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Done</h2>
      {state.writeError ? (
        <p role="alert" className="field-error">{state.writeError}</p>
      ) : (
        <p className="summary" data-testid="done-summary">
          {okCount} of {state.results.length} {state.results.length === 1 ? 'card' : 'cards'} written{state.verify ? ' and verified' : ''}.
        </p>
      )}
      <table className="results" aria-label="Results">
        <thead>
          <tr><th scope="col">Card</th><th scope="col">Serial</th><th scope="col">Result</th></tr>
        </thead>
        <tbody>
          {state.results.map((r) => (
            <tr key={r.device} className={r.ok ? 'ok' : 'failed'}>
              <td><code>{r.device}</code></td>
              <td>{r.cardSerial ?? '—'}</td>
              <td>{r.ok ? `OK${r.verified ? ', verified' : ''}${r.locked ? ', locked' : ''}${r.error ? `; not locked: ${r.error.message}` : ''}` : r.error?.message ?? 'Failed'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {state.manifest.length > 0 ? (
        <fieldset className="manifest">
          <legend>Manifest</legend>
          <div className="row">
            <label><input type="radio" name="manifest-format" checked={format === 'csv'} onChange={() => pickFormat('csv')} /> CSV</label>
            <label><input type="radio" name="manifest-format" checked={format === 'json'} onChange={() => pickFormat('json')} /> JSON</label>
            <label className="grow" htmlFor="manifest-path">Save as</label>
            <input id="manifest-path" className="grow" type="text" value={path} spellCheck={false} onChange={(e) => setPath(e.target.value)} />
            <button type="button" disabled={asked !== null} onClick={save}>Save manifest</button>
          </div>
          {asked ? <ReplaceQuestion message={asked.message} onReplace={() => send({ path: asked.path, format: asked.format }, true)} onKeep={() => setQuestion(null)} /> : null}
          {saved ? <p role="status" className="ok-text">{saved}</p> : null}
          {saveError ? <p role="alert" className="field-error">{saveError}</p> : null}
          <pre className="config-preview manifest-preview" aria-label="Manifest preview">{text}</pre>
        </fieldset>
      ) : null}
      {state.recipe === 'eeprom-card' && state.bootOrder.includes(0x2) && okCount > 0 ? <PrepareServer state={state} /> : null}
      <button type="button" className="primary" onClick={() => dispatch({ type: 'again' })}>Write more with the same settings</button>
    </section>
  );
}
