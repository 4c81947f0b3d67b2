import { useEffect, useState, type Dispatch } from 'react';
import type { DriveView } from '../../../electron/ipc/channels/drives.js';
import { messageOf, useClient } from '../client-context.js';
import { formatExactBytes, formatSize, plural } from '../format.js';
import { blockingProblems, byDeviceName, driveNote, problemText } from '../wizard/drives.js';
import type { Action, WizardState } from '../wizard/state.js';
import { DEFAULT_CARD_IMAGE_SIZE } from '../../../electron/core/card/size.js';

type Props = { state: WizardState; dispatch: Dispatch<Action> };

/** The live drive list (hot-plug updates), several cards at once; unusable ones disabled with their reason. */
export function CardsStep({ state, dispatch }: Props) {
  const client = useClient();
  const [drives, setDrives] = useState<readonly DriveView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showAll, setShowAll] = useState(false);
  const single = state.recipe === 'sdlock';

  useEffect(() => {
    const controller = new AbortController();
    // Every card the wizard writes is a default-size image, so a card too small for it is refused here, not at Write.
    const request = single ? {} : { imageSize: DEFAULT_CARD_IMAGE_SIZE };
    client.call('drives.list', request).then(
      (r) => !controller.signal.aborted && setDrives(r.drives),
      (e: unknown) => !controller.signal.aborted && setError(messageOf(e)),
    );
    client
      .call('drives.watch', request, { signal: controller.signal, onProgress: (event) => {
        // The list came after all: whatever kept it away is over.
        setError(null);
        setDrives(event.drives);
      } })
      .catch(() => undefined);
    return () => controller.abort();
  }, [client, single]);

  // A card that vanished or became unusable is no longer selected.
  useEffect(() => {
    if (!drives) return;
    const usable = new Set(drives.filter((d) => blockingProblems(d, state.recipe).length === 0).map((d) => d.device));
    const kept = state.targets.filter((t) => usable.has(t));
    if (kept.length !== state.targets.length) dispatch({ type: 'targets', devices: kept });
  }, [drives, state.targets, state.recipe, dispatch]);

  const shown = (drives ?? []).filter((d) => showAll || !d.hiddenByDefault).sort(byDeviceName);
  const imageSize = single ? null : DEFAULT_CARD_IMAGE_SIZE;
  const hiddenCount = (drives ?? []).length - shown.length;
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>{single ? 'Choose the card' : 'Choose the cards to write'}</h2>
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {drives === null && !error ? <p aria-busy="true">Looking for cards…</p> : null}
      {drives !== null && shown.length === 0 ? <p className="empty">No cards found. Insert an SD card; the list updates by itself.</p> : null}
      <fieldset className="drives">
        <legend className="visually-hidden">Cards</legend>
        {shown.map((d) => {
          const problems = blockingProblems(d, state.recipe);
          const disabled = problems.length > 0;
          const note = disabled ? null : driveNote(d, state.recipe);
          const checked = state.targets.includes(d.device);
          const reasonId = `reason-${d.device.replace(/\W/g, '-')}`;
          const label = `${d.description || d.device}, ${formatSize(d.size)}${note ? `, ${note}` : ''}`;
          return (
            <label key={d.device} className={`drive${disabled ? ' disabled' : ''}${checked ? ' selected' : ''}`}>
              <input
                type={single ? 'radio' : 'checkbox'}
                name="drive"
                value={d.device}
                checked={checked}
                disabled={disabled}
                aria-describedby={disabled || note ? reasonId : undefined}
                onChange={() => (single ? dispatch({ type: 'targets', devices: [d.device] }) : dispatch({ type: 'toggleTarget', device: d.device, label }))}
              />
              <span className="drive-name">{d.description || d.device}</span>
              <span className="drive-meta">
                {d.device} · <span title={formatExactBytes(d.size)}>{formatSize(d.size)}</span>
                {d.isCard ? ' · SD card' : d.isRemovable ? ' · removable' : ''}
              </span>
              {disabled ? (
                <span className="drive-reason" id={reasonId}>
                  {problems.map((p) => problemText(p, d, imageSize)).join(' ')}
                </span>
              ) : note ? (
                <span className="drive-note" id={reasonId}>
                  {note[0]!.toUpperCase() + note.slice(1)}.
                </span>
              ) : null}
            </label>
          );
        })}
      </fieldset>
      {hiddenCount > 0 || showAll ? (
        <label className="check">
          <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} />
          Show all drives{hiddenCount > 0 ? ` (${plural(hiddenCount, 'drive')} hidden: system and other non-card drives)` : ''}
        </label>
      ) : null}
      {!single ? (
        <div className="row options">
          <label className="check">
            <input type="checkbox" checked={state.verify} onChange={(e) => dispatch({ type: 'option', option: 'verify', value: e.target.checked })} />
            Verify each card after writing
          </label>
          <label className="check">
            <input type="checkbox" checked={state.lock} onChange={(e) => dispatch({ type: 'option', option: 'lock', value: e.target.checked })} />
            Write-protect each card afterwards (SD lock)
          </label>
          <label className="check">
            <input type="checkbox" checked={state.station} onChange={(e) => dispatch({ type: 'option', option: 'station', value: e.target.checked })} />
            Flashing station instead: write every card put into a reader after the start
          </label>
        </div>
      ) : null}
    </section>
  );
}
