import { useEffect, useState, type ReactNode } from 'react';
import type { ChooserEntry, ChooserListing, ChooserRoot } from '../../../electron/core/files/chooser.js';
import type { PickPurpose } from '../../../electron/ipc/channels/files.js';
import type { BootcardClient } from '../../../electron/ipc/client.js';
import { formatSize } from '../format.js';
import { messageOf, useClient } from '../client-context.js';
import { Field } from './Field.js';

/** Which front end the page runs in decides the picker: the native dialog, or the station's chooser. */
const frontEnds = new WeakMap<BootcardClient, Promise<'electron' | 'serve'>>();
function useFrontEnd(): 'electron' | 'serve' | null {
  const client = useClient();
  const [frontEnd, setFrontEnd] = useState<'electron' | 'serve' | null>(null);
  useEffect(() => {
    let known = frontEnds.get(client);
    if (!known) {
      known = client.call('app.info', {}).then((info) => info.frontEnd, () => 'serve' as const);
      frontEnds.set(client, known);
    }
    let live = true;
    void known.then((f) => live && setFrontEnd(f));
    return () => {
      live = false;
    };
  }, [client]);
  return frontEnd;
}

interface Props {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly purpose: PickPurpose;
  readonly problem?: string | undefined;
  readonly hint?: ReactNode;
  readonly placeholder?: string;
  readonly wide?: boolean;
}

/**
 * A path field whose value is picked, not typed (typing still works): in the
 * desktop app "Choose…" opens the native dialog and a dropped file fills it
 * in; behind `bootcard serve` "Browse…" lists the station's output and cache
 * folders (the only places it shows).
 */
export function PathField({ purpose, onChange, ...field }: Props) {
  const client = useClient();
  const frontEnd = useFrontEnd();
  const [browsing, setBrowsing] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const choose = () => {
    setNote(null);
    client.call('dialogs.open', { purpose }).then(
      (r) => r.path !== null && onChange(r.path),
      (e: unknown) => setNote(messageOf(e)),
    );
  };
  const bridge = typeof window !== 'undefined' ? window.bootcardTransport : undefined;
  const onDropFile = (file: File) => {
    const dropped = bridge?.pathForFile?.(file) ?? '';
    if (dropped !== '') {
      setNote(null);
      onChange(dropped);
    } else {
      setNote('A file dropped in the browser stays on this computer; bootcard works with files on the station: use Browse….');
    }
  };
  const action =
    frontEnd === 'electron' ? (
      <button type="button" onClick={choose} title={`Choose with a file dialog: ${field.label}`}>Choose…</button>
    ) : frontEnd === 'serve' ? (
      <button type="button" onClick={() => setBrowsing((b) => !b)} aria-expanded={browsing} title={`Browse the station's folders: ${field.label}`}>Browse…</button>
    ) : null;
  return (
    <>
      <Field {...field} onChange={onChange} action={action} onDropFile={onDropFile} />
      {note ? <p className="hint" role="status">{note}</p> : null}
      {browsing ? (
        <FileChooser
          purpose={purpose}
          title={field.label}
          onPick={(path) => {
            onChange(path);
            setBrowsing(false);
          }}
          onClose={() => setBrowsing(false)}
        />
      ) : null}
    </>
  );
}

const ROOT_WORDS: Record<ChooserRoot, string> = { output: 'Output folder', cache: 'Download cache' };

/** What a pick gives: a folder to save in, relative to the output root (as saves take it); anything else by its absolute path. */
function pickedPath(listing: ChooserListing, entry: ChooserEntry | null, purpose: PickPurpose): string {
  if (entry === null) return purpose === 'output-folder' && listing.root === 'output' ? listing.relative || '.' : listing.path;
  return `${listing.path}/${entry.name}`;
}

/** The station's chooser: the folders under its output root and bootcard's cache, one level at a time; links are never followed. */
export function FileChooser({ purpose, title, onPick, onClose }: { purpose: PickPurpose; title: string; onPick: (path: string) => void; onClose: () => void }) {
  const client = useClient();
  const folderPick = purpose === 'output-folder' || purpose === 'firmware-eeprom';
  const fileWanted = purpose !== 'output-folder';
  const [roots, setRoots] = useState<Partial<Record<ChooserRoot, string>> | null>(null);
  const [where, setWhere] = useState<{ root: ChooserRoot; path: string }>({ root: 'output', path: '' });
  const [listing, setListing] = useState<ChooserListing | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client.call('files.roots', {}).then((r) => setRoots(r.roots), (e: unknown) => setError(messageOf(e)));
  }, [client]);
  useEffect(() => {
    let live = true;
    setError(null);
    client.call('files.list', where).then(
      (l) => live && setListing(l),
      (e: unknown) => {
        if (!live) return;
        setListing(null);
        setError(messageOf(e));
      },
    );
    return () => {
      live = false;
    };
  }, [client, where.root, where.path]);
  const up = listing && listing.relative !== '' ? listing.relative.split('/').slice(0, -1).join('/') : null;
  return (
    <div className="file-chooser" role="dialog" aria-label={`Browse the station: ${title}`}>
      <div className="row">
        {(['output', 'cache'] as const).filter((r) => purpose !== 'output-folder' || r === 'output').map((r) => (
          <button key={r} type="button" aria-pressed={where.root === r} disabled={roots !== null && roots[r] === undefined} onClick={() => setWhere({ root: r, path: '' })}>
            {ROOT_WORDS[r]}
          </button>
        ))}
        <button type="button" onClick={onClose}>Close</button>
      </div>
      {listing ? (
        <p className="hint" data-testid="chooser-where"><code>{listing.path}</code></p>
      ) : null}
      {error ? <p role="alert" className="field-error">{error}</p> : null}
      {listing ? (
        <ul className="chooser-entries" aria-label="Folder contents">
          {up !== null ? (
            <li><button type="button" onClick={() => setWhere({ root: listing.root, path: up })}>↑ Up</button></li>
          ) : null}
          {listing.entries.map((e) => (
            <li key={e.name}>
              {e.kind === 'folder' ? (
                <button type="button" onClick={() => setWhere({ root: listing.root, path: listing.relative ? `${listing.relative}/${e.name}` : e.name })}>📁 {e.name}/</button>
              ) : e.kind === 'file' ? (
                <button type="button" disabled={!fileWanted} onClick={() => onPick(pickedPath(listing, e, purpose))}>
                  {e.name} <span className="file-size">{formatSize(e.size ?? 0)}</span>
                </button>
              ) : (
                <span className="hint">{e.name} (a link: not followed)</span>
              )}
            </li>
          ))}
          {listing.entries.length === 0 ? <li className="hint">(empty)</li> : null}
        </ul>
      ) : null}
      {listing && folderPick ? (
        <button type="button" className="primary" onClick={() => onPick(pickedPath(listing, null, purpose))}>Use this folder</button>
      ) : null}
      {listing?.truncated ? <p className="hint">Only the first 2,000 entries are listed.</p> : null}
    </div>
  );
}
