import { useEffect, useState, type Dispatch } from 'react';
import type { ProfileSummary } from '../../../electron/ipc/channels/profiles.js';
import { messageOf, useClient } from '../client-context.js';
import { settingsOf, type Action, type WizardState } from '../wizard/state.js';

const RECIPE_WORDS: Record<ProfileSummary['recipe'], string> = {
  'eeprom-card': 'bootloader card',
  'uefi-card': 'UEFI card',
  'eeprom-file': 'EEPROM image',
  sdlock: 'lock / inspect',
};

/**
 * Named profiles ("rack A netboot"): choose one to fill in every setting, or
 * save the current settings under a name. The CLI takes the same profiles
 * (`bootcard card recovery --profile NAME`).
 */
export function ProfilePanel({ state, dispatch, choose = true }: { state: WizardState; dispatch: Dispatch<Action>; choose?: boolean }) {
  const client = useClient();
  const [profiles, setProfiles] = useState<readonly ProfileSummary[]>([]);
  const [picked, setPicked] = useState('');
  const [name, setName] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = () =>
    client.call('profiles.list', {}).then(
      (r) => setProfiles(r.profiles),
      () => setProfiles([]),
    );
  useEffect(() => {
    void refresh();
    // Listed once per view; a save refreshes it.
  }, [client]);
  const use = () => {
    setError(null);
    client.call('profiles.load', { name: picked }).then(
      (p) => {
        dispatch({ type: 'applySettings', settings: p.settings });
        setStatus(`Using the profile “${p.name}”.`);
      },
      (e: unknown) => setError(messageOf(e)),
    );
  };
  const save = () => {
    setError(null);
    client.call('profiles.save', { name: name.trim(), settings: settingsOf(state) }).then(
      (p) => {
        setStatus(`Saved the profile “${p.name}”.`);
        setName('');
        void refresh();
      },
      (e: unknown) => setError(messageOf(e)),
    );
  };
  return (
    <fieldset className="profiles">
      <legend>Profiles</legend>
      {choose && profiles.length > 0 ? (
        <div className="row">
          <label htmlFor="profile-pick">Saved settings</label>
          <select id="profile-pick" value={picked} onChange={(e) => setPicked(e.target.value)}>
            <option value="">choose a profile…</option>
            {profiles.map((p) => (
              <option key={p.name} value={p.name}>{p.name} ({RECIPE_WORDS[p.recipe]})</option>
            ))}
          </select>
          <button type="button" disabled={picked === ''} onClick={use}>Use</button>
        </div>
      ) : null}
      <div className="row">
        <label htmlFor="profile-name">Save these settings as</label>
        <input id="profile-name" type="text" value={name} placeholder="rack A netboot" spellCheck={false} autoComplete="off" onChange={(e) => setName(e.target.value)} />
        <button type="button" disabled={name.trim() === ''} onClick={save}>Save profile</button>
      </div>
      {status ? <p role="status" className="ok-text">{status}</p> : null}
      {error ? <p role="alert" className="field-error">{error}</p> : null}
    </fieldset>
  );
}
