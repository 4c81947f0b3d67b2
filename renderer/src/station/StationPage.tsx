import type { StationLogLine, StationSlot, StationSnapshot } from '../../../electron/ipc/channels/station.js';
import { formatSize } from '../format.js';
import { problemText } from '../wizard/drives.js';
import './station.css';

interface Props {
  readonly snapshot: StationSnapshot;
  readonly onStop: () => void;
  readonly stopping: boolean;
  /** After the station stopped: back to the wizard. */
  readonly onClose: () => void;
  readonly error: string | null;
}

const STATE_WORDS: Record<StationSlot['state'], string> = {
  present: 'There at the start: not written',
  empty: 'Waiting for a card',
  refused: 'Refused',
  writing: 'Writing',
  verifying: 'Verifying',
  verified: 'Verified',
  locked: 'Verified and locked',
  failed: 'Failed',
  skipped: 'Written already',
};

/** One tile per reader slot, big enough to read across a room: what the card is doing, its Pi's name, why it failed. */
function SlotTile({ slot }: { slot: StationSlot }) {
  const busy = slot.state === 'writing' || slot.state === 'verifying';
  return (
    <li className={`station-tile station-${slot.state}`} data-testid={`slot-${slot.device}`} aria-label={`${slot.device}: ${STATE_WORDS[slot.state]}`}>
      <span className="station-device">{slot.device}</span>
      {slot.row ? <span className="station-row" data-testid="slot-row">{slot.row.name}</span> : null}
      <span className="station-state" data-testid="slot-state">
        {STATE_WORDS[slot.state]}
        {busy ? ` ${slot.percent ?? 0}%` : ''}
      </span>
      {busy ? <progress max={100} value={slot.percent ?? 0} aria-label={`${slot.device} ${slot.state}`} /> : null}
      {slot.reason && (slot.state === 'failed' || slot.state === 'refused' || slot.state === 'skipped') ? <span className="station-reason">{slotReason(slot)}</span> : null}
    </li>
  );
}

/** Why a card was not written, in the wizard's words: a refused card's drive problems as the Cards step says them (no CLI flags). */
function slotReason(slot: StationSlot): string | undefined {
  return slot.problems ? slot.problems.map((p) => problemText(p, slot, null)).join(' ') : slot.reason;
}

function logText(l: StationLogLine): string {
  const when = l.time.slice(11, 19);
  const row = l.row ? ` ${l.row.name}` : '';
  if (l.ok) return `${when} ${l.device}${row}: written and verified${l.locked ? ', locked' : ''} (${formatSize(l.bytesWritten)})`;
  if (l.skipped) return `${when} ${l.device}: written already, skipped`;
  return `${when} ${l.device}${row}: ${l.incomplete ? 'incomplete' : 'failed'}: ${l.error?.message ?? ''}`;
}

/** The flashing station: the slots, the counters, the log, and the one Stop. */
export function StationPage({ snapshot, onStop, stopping, onClose, error }: Props) {
  const c = snapshot.counters;
  return (
    <section aria-labelledby="step-title" className="station">
      <h2 id="step-title" tabIndex={-1}>{snapshot.running ? 'Flashing station' : 'Flashing station (stopped)'}</h2>
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      <p className="hint">
        {snapshot.running
          ? 'Put cards into the readers: each one is written, verified and logged by itself. This page may be closed; the station keeps running in bootcard.'
          : 'The station has stopped; cards it was writing are incomplete.'}
      </p>
      <dl className="station-counters" data-testid="station-counters">
        <div><dt>Written</dt><dd data-testid="count-written">{c.written}</dd></div>
        <div><dt>Failed</dt><dd data-testid="count-failed">{c.failed}</dd></div>
        <div><dt>Skipped</dt><dd>{c.skipped}</dd></div>
        <div><dt>Cards per hour</dt><dd>{c.cardsPerHour}</dd></div>
        {snapshot.rowsTotal !== undefined ? <div><dt>Pis left</dt><dd>{snapshot.rowsLeft} of {snapshot.rowsTotal}</dd></div> : null}
      </dl>
      {snapshot.slots.length === 0 ? <p className="empty">No reader has a card. Put one in.</p> : null}
      <ul className="station-slots" aria-label="Reader slots">
        {snapshot.slots.map((s) => <SlotTile key={s.device} slot={s} />)}
      </ul>
      <h3 className="small-heading">Log</h3>
      <ol className="station-log" aria-label="Station log" data-testid="station-log">
        {[...snapshot.recent].reverse().map((l) => (
          <li key={`${l.time}-${l.device}`} className={l.ok ? 'ok' : 'bad'}>{logText(l)}</li>
        ))}
      </ol>
      <div className="station-actions">
        {snapshot.running ? (
          <button type="button" className="primary station-stop" disabled={stopping} onClick={onStop}>{stopping ? 'Stopping…' : 'Stop the station'}</button>
        ) : (
          <button type="button" onClick={onClose}>Back to the wizard</button>
        )}
      </div>
    </section>
  );
}
