import type { ReactNode } from 'react';

interface Props {
  readonly id: string;
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly problem?: string | undefined;
  readonly hint?: ReactNode;
  readonly placeholder?: string;
  readonly wide?: boolean;
}

/** A labelled text field whose problem is shown inline and announced. */
export function Field({ id, label, value, onChange, problem, hint, placeholder, wide }: Props) {
  const described = [hint ? `${id}-hint` : null, problem ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${wide ? ' wide' : ''}`}>
      <label htmlFor={id}>{label}</label>
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
      />
      {hint ? <p id={`${id}-hint`} className="hint">{hint}</p> : null}
      {problem ? <p id={`${id}-error`} className="field-error" role="alert">{problem}</p> : null}
    </div>
  );
}
