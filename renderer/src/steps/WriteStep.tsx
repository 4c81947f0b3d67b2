import { formatDuration, formatExactBytes, formatSize, plural } from '../format.js';
import type { CardProgress, WizardState } from '../wizard/state.js';

const PHASE_LABEL: Record<CardProgress['phase'], string> = {
  waiting: 'Waiting',
  write: 'Writing',
  verify: 'Verifying',
  lock: 'Locking',
  done: 'Done',
  failed: 'Failed',
};

/** A progress bar per card: phase, bytes, speed and time left; one Cancel for all. */
export function WriteStep({ state, onCancel }: { state: WizardState; onCancel: () => void }) {
  const imageSize = state.plan?.imageSize ?? null;
  const cards = Object.keys(state.progress).length;
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Writing</h2>
      {imageSize !== null ? (
        <p className="hint" data-testid="write-header">
          The {formatSize(imageSize)} card image ({formatExactBytes(imageSize)}) to {plural(cards, 'card')}.
        </p>
      ) : null}
      <ul className="progress-list">
        {Object.entries(state.progress).map(([device, p]) => {
          const fraction = p.phase === 'done' ? 1 : p.total > 0 ? p.bytes / p.total : 0;
          const left = p.speed && p.total > p.bytes ? (p.total - p.bytes) / p.speed : null;
          const id = `progress-${device.replace(/\W/g, '-')}`;
          return (
            <li key={device} className={`card-progress ${p.phase}`} data-testid={id}>
              <div className="progress-head">
                <span id={`${id}-label`}><code>{device}</code> — {PHASE_LABEL[p.phase]}</span>
                <span className="progress-meta">
                  {/* Each card's share of the same image the header names: one total on the page. */}
                  {p.total > 0 || p.phase === 'done' ? `${Math.floor(fraction * 100)} %${imageSize !== null ? ` of ${formatSize(imageSize)}` : ''}` : ''}
                  {p.speed ? ` · ${formatSize(p.speed)}/s` : ''}
                  {left !== null ? ` · ${formatDuration(left)} left` : ''}
                </span>
              </div>
              <progress aria-labelledby={`${id}-label`} max={1} value={fraction} />
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={onCancel}>Cancel</button>
    </section>
  );
}
