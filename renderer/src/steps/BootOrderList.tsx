import { useState } from 'react';
import { bootOrderHex } from '../wizard/bootconf.js';
import { bootModeLabel, bootModesFor, bootOrderWarnings, explainModes, withModeAdded } from '../wizard/boot-modes.js';
import type { Board } from '../wizard/state.js';

interface Props {
  readonly board: Board;
  readonly modes: readonly number[];
  readonly onChange: (modes: readonly number[]) => void;
  readonly problem?: string | undefined;
}

/**
 * BOOT_ORDER as an ordered list: drag a row, or use its Up/Down buttons (the
 * keyboard way), remove it, or add a mode from the list below. The hex value
 * and the sentence the CLI prints stay beside it.
 */
export function BootOrderList({ board, modes, onChange, problem }: Props) {
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const available = bootModesFor(board).filter((m) => !modes.includes(m.value));
  const [toAdd, setToAdd] = useState<string>('');
  const move = (from: number, to: number) => {
    if (to < 0 || to >= modes.length || from === to) return;
    const next = [...modes];
    const [item] = next.splice(from, 1);
    next.splice(to, 0, item!);
    onChange(next);
  };
  const { warnings, unreachable } = bootOrderWarnings(board, modes);
  const addValue = toAdd !== '' && available.some((m) => String(m.value) === toAdd) ? Number(toAdd) : available[0]?.value;
  return (
    <fieldset className="boot-order">
      <legend>Boot order</legend>
      <p className="hint">The Pi tries these from the top. Drag a row, or use its arrows.</p>
      <ol aria-label="Boot order" className="boot-order-list">
        {modes.map((mode, i) => {
          const label = bootModeLabel(board, mode);
          return (
            <li
              key={mode}
              draggable
              data-testid={`boot-mode-${mode.toString(16)}`}
              className={[dragFrom === i ? 'dragging' : '', unreachable.has(i) ? 'unreachable' : ''].filter(Boolean).join(' ') || undefined}
              onDragStart={(e) => {
                setDragFrom(i);
                e.dataTransfer.effectAllowed = 'move';
              }}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => {
                e.preventDefault();
                if (dragFrom !== null) move(dragFrom, i);
                setDragFrom(null);
              }}
              onDragEnd={() => setDragFrom(null)}
            >
              <span className="grip" aria-hidden="true">⋮⋮</span>
              <span className="mode-name">{label}</span>
              {unreachable.has(i) ? <span className="never-tried">never tried</span> : null}
              <span className="row-actions">
                <button type="button" aria-label={`Move ${label} up`} disabled={i === 0} onClick={() => move(i, i - 1)}>↑</button>
                <button type="button" aria-label={`Move ${label} down`} disabled={i === modes.length - 1} onClick={() => move(i, i + 1)}>↓</button>
                <button type="button" aria-label={`Remove ${label}`} onClick={() => onChange(modes.filter((m) => m !== mode))}>✕</button>
              </span>
            </li>
          );
        })}
      </ol>
      {available.length > 0 && modes.length < 8 ? (
        <div className="add-mode">
          <label>
            Add a mode{' '}
            <select value={addValue === undefined ? '' : String(addValue)} onChange={(e) => setToAdd(e.target.value)}>
              {available.map((m) => (
                <option key={m.value} value={String(m.value)}>{m.label}</option>
              ))}
            </select>
          </label>{' '}
          <button type="button" onClick={() => addValue !== undefined && onChange(withModeAdded(modes, addValue))}>Add</button>
        </div>
      ) : null}
      <p className="boot-order-value">
        <code data-testid="boot-order-hex">BOOT_ORDER={bootOrderHex(modes)}</code>{' '}
        <span data-testid="boot-order-sentence">{explainModes(board, modes)}</span>
      </p>
      {warnings.length > 0 ? (
        <ul className="diagnostics boot-order-warnings" aria-label="Boot order warnings">
          {warnings.map((w) => (
            <li key={w} className="warning"><strong>Warning</strong>: {w}</li>
          ))}
        </ul>
      ) : null}
      {problem ? <p className="field-error" role="alert">{problem}</p> : null}
    </fieldset>
  );
}
