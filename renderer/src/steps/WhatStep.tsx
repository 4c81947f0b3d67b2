import type { Dispatch } from 'react';
import type { Action, BootPreset, Board, Recipe, WizardState } from '../wizard/state.js';
import { ProfilePanel } from './ProfilePanel.js';
import { BOOT_PRESETS, bootPresetWords } from '../../../electron/core/card/boot-presets.js';

const RECIPES: readonly { value: Recipe; title: string; detail: string }[] = [
  { value: 'eeprom-card', title: 'EEPROM bootloader card', detail: 'A recovery card that sets the Pi 4 or Pi 5 bootloader: boot order, TFTP server, and more.' },
  { value: 'uefi-card', title: 'UEFI network-boot card (Pi 4)', detail: 'The pftf UEFI firmware card, with its settings written in so no keyboard is needed.' },
  { value: 'eeprom-file', title: 'EEPROM image file only', detail: 'pieeprom.bin + pieeprom.sig to save, for rpi-eeprom-update.' },
  { value: 'sdlock', title: 'Lock, unlock or inspect a card', detail: 'The SD card’s own write-protect switch (temporary), and what is on the card: partitions, files, config.txt, bootloader config.' },
];

// The CLI's `card recovery --preset` names, each shown with its order in words for the chosen board.
const PRESETS: readonly { value: BootPreset; title: string; words?: (board: Board) => string }[] = [
  ...BOOT_PRESETS.map((p) => ({ value: p.name, title: p.title, words: (board: Board) => `${p.origin}: ${bootPresetWords(p.name, board)}` })),
  { value: 'custom', title: 'Custom' },
];

export function WhatStep({ state, dispatch }: { state: WizardState; dispatch: Dispatch<Action> }) {
  const eeprom = state.recipe === 'eeprom-card' || state.recipe === 'eeprom-file';
  return (
    <section aria-labelledby="step-title">
      <h2 id="step-title" tabIndex={-1}>What do you want to make?</h2>
      <fieldset className="choices">
        <legend className="visually-hidden">Recipe</legend>
        {RECIPES.map((r) => (
          <label key={r.value} className={`choice${state.recipe === r.value ? ' selected' : ''}`}>
            <input type="radio" name="recipe" value={r.value} checked={state.recipe === r.value} onChange={() => dispatch({ type: 'recipe', recipe: r.value })} />
            <span className="choice-title">{r.title}</span>
            <span className="choice-detail">{r.detail}</span>
          </label>
        ))}
      </fieldset>
      {eeprom ? (
        <div className="row">
          <fieldset className="inline">
            <legend>Board</legend>
            {(['2711', '2712'] as Board[]).map((b) => (
              <label key={b}>
                <input type="radio" name="board" value={b} checked={state.board === b} onChange={() => dispatch({ type: 'board', board: b })} />
                {b === '2711' ? 'Pi 4 / Pi 400 / CM4' : 'Pi 5 / Pi 500 / CM5'}
              </label>
            ))}
          </fieldset>
          <fieldset className="inline">
            <legend>Boot</legend>
            {PRESETS.map((p) => (
              <span key={p.value} className="preset-choice">
                <label>
                  <input type="radio" name="preset" value={p.value} checked={state.preset === p.value} onChange={() => dispatch({ type: 'preset', preset: p.value })} {...(p.words ? { 'aria-describedby': `preset-${p.value}-order` } : {})} />
                  {p.title}
                </label>
                {p.words ? <span id={`preset-${p.value}-order`} className="preset-order" data-testid={`preset-${p.value}-order`}>{p.words(state.board)}</span> : null}
              </span>
            ))}
          </fieldset>
        </div>
      ) : null}
      <ProfilePanel state={state} dispatch={dispatch} />
    </section>
  );
}
