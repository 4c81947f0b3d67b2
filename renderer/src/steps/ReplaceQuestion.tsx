import { useEffect, useRef } from 'react';
import { BootcardError } from '../../../electron/core/errors.js';
import { OutputErrorCode } from '../../../electron/core/files/output-errors.js';

/** Whether a save was refused only because its files exist (the handler's OUTPUT_EXISTS), so the page may ask. */
export function isExistsRefusal(error: unknown): error is BootcardError {
  return BootcardError.is(error, OutputErrorCode.EXISTS);
}

/**
 * The page's question before a save replaces files that are already there.
 * The handlers never replace a file unless the request says so; this asks the
 * user, in the page (not window.confirm, which a browser may suppress), and
 * only "Replace" resends. Focus starts on "Keep", the choice that loses nothing.
 */
export function ReplaceQuestion({ message, onReplace, onKeep }: { message: string; onReplace: () => void; onKeep: () => void }) {
  const keep = useRef<HTMLButtonElement>(null);
  useEffect(() => keep.current?.focus(), []);
  return (
    <div role="alertdialog" aria-labelledby="replace-title" aria-describedby="replace-message" className="replace-question">
      <p id="replace-title" className="confirm">Replace the existing files?</p>
      <p id="replace-message">{message}</p>
      <div className="row">
        <button type="button" onClick={onReplace}>Replace</button>
        <button type="button" ref={keep} onClick={onKeep}>Keep them</button>
      </div>
    </div>
  );
}
