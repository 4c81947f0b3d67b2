import { useEffect, useState } from 'react';
import type { SdLockView } from '../../../electron/ipc/channels/sdlock.js';
import { messageOf, useClient } from '../client-context.js';
import { CardInspectionView } from './CardInspectionView.js';
import type { WizardState } from '../wizard/state.js';

const STATE_TEXT: Record<SdLockView['state'], string> = {
  off: 'Not write-protected: the card can be written.',
  temporary: 'Write-protected (temporary): no reader will write it until it is unlocked.',
  permanent: 'Permanently write-protected: this can never be undone.',
};

/** The chosen card's write-protect state, with Lock and Unlock, and what is on it. */
export function LockStep({ state }: { state: WizardState }) {
  const client = useClient();
  const device = state.targets[0] ?? '';
  const [status, setStatus] = useState<SdLockView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!device) return;
    client.call('sdlock.status', { device }).then(setStatus, (e: unknown) => setError(messageOf(e)));
  }, [client, device]);
  const run = (channel: 'sdlock.lock' | 'sdlock.unlock') => {
    setBusy(true);
    setError(null);
    client
      .call(channel, { device })
      .then(setStatus, (e: unknown) => setError(messageOf(e)))
      .finally(() => setBusy(false));
  };
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>Lock or unlock <code>{device}</code></h2>
      {status ? <p role="status" data-testid="lock-state">{STATE_TEXT[status.state]}</p> : error ? null : <p aria-busy="true">Reading the write-protect state…</p>}
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      <div className="row">
        <button type="button" disabled={busy || status?.state !== 'off'} onClick={() => run('sdlock.lock')}>Lock</button>
        <button type="button" disabled={busy || status?.state !== 'temporary'} onClick={() => run('sdlock.unlock')}>Unlock</button>
      </div>
      {device ? <CardInspectionView target={{ device }} /> : null}
    </section>
  );
}
