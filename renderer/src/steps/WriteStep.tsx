import { formatBytes, formatDuration } from '../format.js';
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
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Writing</h2>
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
                  {p.total > 0 ? `${formatBytes(p.bytes)} of ${formatBytes(p.total)}` : ''}
                  {p.speed ? ` · ${formatBytes(p.speed)}/s` : ''}
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
