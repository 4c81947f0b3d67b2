import type { DragEvent, ReactNode } from 'react';

interface Props {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly problem?: string | undefined;
  readonly hint?: ReactNode;
  readonly placeholder?: string;
  readonly wide?: boolean;
  /** Beside the input (a Choose… button). */
  readonly action?: ReactNode;
  /** A file dropped on the input. */
  readonly onDropFile?: (file: File) => void;
}

/** A labelled text field whose problem is shown inline and announced. */
export function Field({ id, label, value, onChange, problem, hint, placeholder, wide, action, onDropFile }: Props) {
  const described = [hint ? `${id}-hint` : null, problem ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  const drop = onDropFile
    ? {
        onDragOver: (e: DragEvent<HTMLInputElement>) => e.preventDefault(),
        onDrop: (e: DragEvent<HTMLInputElement>) => {
          const file = e.dataTransfer.files[0];
          if (!file) return;
          e.preventDefault();
          onDropFile(file);
        },
      }
    : {};
  const input = (
    <input
      id={id}
      type="text"
      value={value}
      placeholder={placeholder}
      spellCheck={false}
      autoComplete="off"
      aria-invalid={problem ? true : undefined}
      aria-describedby={described}
      onChange={(e) => onChange(e.target.value)}
      {...drop}
    />
  );
  return (
    <div className={`field${wide ? ' wide' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {/* Always the same wrapper: a button that appears later (once the front end is known) must not remount the input mid-typing. */}
      <div className="field-with-action">
        {input}
        {action}
      </div>
      {hint ? <p id={`${id}-hint`} className="hint">{hint}</p> : null}
      {problem ? <p id={`${id}-error`} className="field-error" role="alert">{problem}</p> : null}
    </div>
  );
}
