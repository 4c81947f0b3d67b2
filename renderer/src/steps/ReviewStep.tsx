import { useEffect, useState } from 'react';
import type { CardPlan } from '../../../electron/ipc/channels/card.js';
import type { UefiSettingsPreview, UefiSettingsRequest } from '../../../electron/ipc/channels/uefi.js';
import { messageOf, useClient } from '../client-context.js';
import { formatExactBytes, formatSize, plural } from '../format.js';
import { recipeOf } from '../wizard/recipe.js';
import type { WizardState } from '../wizard/state.js';

interface Props {
  readonly state: WizardState;
  /** Writes the cards with this plan (its timestamp), so they get exactly what is shown here. */
  readonly onWrite: (plan: CardPlan) => void;
  /** Starts the flashing station with this plan (state.station). */
  readonly onStartStation?: (plan: CardPlan) => void;
}

/** What will be written to which card, and the one confirmation before anything is erased. */
export function ReviewStep({ state, onWrite, onStartStation }: Props) {
  const client = useClient();
  const [plan, setPlan] = useState<CardPlan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  useEffect(() => {
    let live = true;
    client.call('card.plan', { recipe: recipeOf(state) }).then(
      (p) => live && setPlan(p),
      (e: unknown) => live && setError(messageOf(e)),
    );
    return () => {
      live = false;
    };
    // The plan is made once: the recipe cannot change on this step.
  }, [client]);
  const n = state.targets.length;
  const station = state.station && onStartStation !== undefined;
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Review</h2>
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {!plan && !error ? <p aria-busy="true">Preparing the card image…</p> : null}
      {plan ? (
        <div className="columns">
          <div>
            <h3 className="small-heading">On each card</h3>
            <table className="files" aria-label="Files on the card">
              <tbody>
                {plan.files.map((f) => (
                  <tr key={f.name}>
                    <td><code>{f.name}</code></td>
                    <td className="num" title={formatExactBytes(f.size)}>{formatSize(f.size)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="hint">
              A {formatSize(plan.imageSize)} FAT32 card image ({formatExactBytes(plan.imageSize)}); SHA-256 <code className="hash" data-testid="plan-sha256">{plan.sha256.slice(0, 16)}…</code>
            </p>
            {plan.warnings.map((w) => (
              <p key={w} className="warning">{w}</p>
            ))}
          </div>
          <div>
            <h3 className="small-heading">{state.recipe === 'uefi-card' ? 'config.txt' : 'Bootloader config'}</h3>
            <pre className="config-preview">{plan.config}</pre>
            {state.recipe === 'uefi-card' ? <UefiVariablesToWrite state={state} /> : null}
          </div>
        </div>
      ) : null}
      <h3 className="small-heading">Cards</h3>
      {station ? <p>Flashing station: every card put into a reader after the start gets this image; cards already in a reader are left alone.</p> : null}
      <ul className="targets">
        {(station ? [] : state.targets).map((t) => (
          <li key={t}>
            <code>{t}</code>
            {state.targetLabels[t] ? ` — ${state.targetLabels[t]}` : ''}
          </li>
        ))}
      </ul>
      <p>
        {state.verify ? 'Each card is read back and compared. ' : 'Cards are not verified. '}
        {state.lock ? 'Each card is then write-protected.' : ''}
      </p>
      <label className="check confirm">
        <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} />
        {station ? 'Erase every card put in from now on and write it' : <>Erase everything on {n === 1 ? 'this card' : `these ${plural(n, 'card')}`} and write it</>}
      </label>
      <div>
        {station ? (
          <button type="button" className="primary" disabled={!confirmed || !plan} onClick={() => plan && onStartStation(plan)}>
            Start station
          </button>
        ) : (
          <button type="button" className="primary" disabled={!confirmed || !plan} onClick={() => plan && onWrite(plan)}>
            Write {plural(n, 'card')}
          </button>
        )}
      </div>
    </section>
  );
}

/** The UEFI variables the card's RPI_EFI.fd gets, as `bootcard uefi vars list` shows them (the UEFI core's preview). */
function UefiVariablesToWrite({ state }: { state: WizardState }) {
  const client = useClient();
  const [preview, setPreview] = useState<UefiSettingsPreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const recipe = recipeOf(state) as { uefi?: UefiSettingsRequest };
    const firmwarePath = state.firmware?.kind === 'uefi' ? state.firmware.path : state.firmwarePath.trim();
    let live = true;
    client.call('uefi.preview', { firmwarePath, settings: recipe.uefi ?? {} }).then(
      (p) => live && setPreview(p),
      (e: unknown) => live && setError(messageOf(e)),
    );
    return () => {
      live = false;
    };
    // Like the plan: made once, the settings cannot change on this step.
  }, [client]);
  return (
    <>
      <h3 className="small-heading" id="review-uefi-heading">UEFI variables written into RPI_EFI.fd</h3>
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {preview && preview.variables.length === 0 ? <p className="hint">None: the firmware keeps its defaults.</p> : null}
      {preview && preview.variables.length > 0 ? (
        <table className="files uefi-variables" aria-labelledby="review-uefi-heading">
          <tbody>
            {preview.variables.map((v) => (
              <tr key={v.name}>
                <td><code>{v.name}</code></td>
                <td>{v.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
