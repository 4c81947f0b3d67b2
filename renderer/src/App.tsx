import { useEffect, useState } from 'react';
import type { BootcardClient } from '../../electron/ipc/client.js';
import type { AppInfo } from '../../electron/ipc/channels/app.js';

export function App({ client }: { client: BootcardClient }) {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.call('app.info', {}).then(setInfo, (e: Error) => setError(e.message));
  }, [client]);

  return (
    <main className="app">
      <header className="app-header">
        <h1>bootcard</h1>
        <p className="tagline">Raspberry Pi network-boot cards, done right.</p>
      </header>
      {error ? <p role="alert">{error}</p> : null}
      {info ? (
        <p data-testid="app-version">
          Version {info.version} on {info.platform}-{info.arch}
        </p>
      ) : (
        <p aria-busy="true">Connecting…</p>
      )}
    </main>
  );
}
