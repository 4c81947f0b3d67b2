import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { CardPlan } from '../../electron/ipc/channels/card.js';
import type { StationSnapshot } from '../../electron/ipc/channels/station.js';
import { StationPage } from './station/StationPage.js';
import type { BootcardClient } from '../../electron/ipc/client.js';
import { ClientContext, messageOf } from './client-context.js';
import { CardsStep } from './steps/CardsStep.js';
import { ConfigureStep } from './steps/ConfigureStep.js';
import { DoneStep } from './steps/DoneStep.js';
import { LockStep } from './steps/LockStep.js';
import { ReviewStep } from './steps/ReviewStep.js';
import { SaveStep } from './steps/SaveStep.js';
import { WhatStep } from './steps/WhatStep.js';
import { WriteStep } from './steps/WriteStep.js';
import { recipeOf } from './wizard/recipe.js';
import { STEP_TITLES, initialState, reducer, settingsOf, stepsFor, whyNotLeave, type WizardState } from './wizard/state.js';

type Theme = 'auto' | 'light' | 'dark';

/**
 * `initial` given (tests, a fixed start): the wizard starts there. Not given
 * (the real window or page): it starts from the settings it had last time.
 */
export function App({ client, initial }: { client: BootcardClient; initial?: WizardState }) {
  const [state, dispatch] = useReducer(reducer, initial ?? initialState);
  const restoreLast = initial === undefined;
  // The steps wait for the last settings (a moment): a click made before they came would be undone by them.
  const [ready, setReady] = useState(!restoreLast);
  const [theme, setTheme] = useState<Theme>('auto');
  const writing = useRef<AbortController | null>(null);
  const main = useRef<HTMLDivElement>(null);
  const steps = stepsFor(state.recipe);
  const index = steps.indexOf(state.step);
  const isFinal = ['review', 'write', 'done', 'save', 'lock'].includes(state.step);
  const [station, setStation] = useState<StationSnapshot | null>(null);
  const [stationShown, setStationShown] = useState(false);
  const [stationStopping, setStationStopping] = useState(false);
  const [stationError, setStationError] = useState<string | null>(null);

  // The station lives in bootcard, not in this page: a page opened while one runs shows it at once.
  useEffect(() => {
    const controller = new AbortController();
    const watch = () => {
      client.call('station.watch', {}, { signal: controller.signal, onProgress: (s) => setStation(s) }).then(
        (r) => {
          if (r.snapshot) setStation(r.snapshot);
          if (!controller.signal.aborted) watch();
        },
        () => undefined,
      );
    };
    watch();
    return () => controller.abort();
  }, [client]);
  useEffect(() => {
    if (station?.running) setStationShown(true);
  }, [station?.running]);

  const startStation = useCallback((plan: CardPlan) => {
    setStationError(null);
    client.call('station.start', { recipe: recipeOf(state), verify: state.verify, lock: state.lock, timestamp: plan.timestamp }).then(
      (s) => {
        setStation(s);
        setStationShown(true);
      },
      (e: unknown) => {
        setStationError(messageOf(e));
        setStationShown(true);
      },
    );
  }, [client, state]);
  const stopStation = useCallback(() => {
    setStationStopping(true);
    client.call('station.stop', {}).then(
      (s) => setStation(s),
      (e: unknown) => setStationError(messageOf(e)),
    ).finally(() => setStationStopping(false));
  }, [client]);

  useEffect(() => {
    if (theme === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  }, [theme]);

  useEffect(() => {
    if (!restoreLast) return;
    let live = true;
    client
      .call('profiles.list', {})
      .then(
        (r) => live && r.last && dispatch({ type: 'restoreLast', settings: r.last }),
        () => undefined,
      )
      .finally(() => live && setReady(true));
    return () => {
      live = false;
    };
  }, [client, restoreLast]);

  // Moving on from a step keeps the settings for next time (a failure to keep them costs nothing now).
  useEffect(() => {
    if (state.step === 'what') return;
    client.call('profiles.remember', { settings: settingsOf(state) }).catch(() => undefined);
    // Only on a step change: not on every keystroke.
  }, [client, state.step]);

  // Each step starts with the keyboard focus on its heading, so screen readers announce it.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h2')?.focus();
  }, [state.step, ready]);

  const write = useCallback((plan: CardPlan) => {
    const controller = new AbortController();
    writing.current = controller;
    const targets = [...state.targets];
    dispatch({ type: 'writeStarted', targets, plan });
    client
      .call('card.write', { recipe: recipeOf(state), targets, verify: state.verify, lock: state.lock, timestamp: plan.timestamp }, { signal: controller.signal, onProgress: (event) => dispatch({ type: 'writeProgress', event }) })
      .then(
        (r) => dispatch({ type: 'writeFinished', results: r.results, manifest: r.manifest, plan: r.plan }),
        (e: unknown) => dispatch({ type: 'writeFailed', message: messageOf(e) }),
      )
      .finally(() => {
        writing.current = null;
      });
  }, [client, state]);

  const next = steps[index + 1];
  const why = whyNotLeave(state);
  const back = steps[index - 1];
  return (
    <ClientContext.Provider value={client}>
      <div className="app">
        <header className="app-header">
          <h1>bootcard</h1>
          <nav aria-label="Steps">
            <ol className="steps">
              {steps.map((s, i) => (
                <li key={s} aria-current={s === state.step ? 'step' : undefined} className={i < index ? 'past' : undefined}>
                  <span className="step-number">{i + 1}</span> {STEP_TITLES[s]}
                </li>
              ))}
            </ol>
          </nav>
          <button
            type="button"
            className="theme-toggle"
            aria-label={`Colour theme: ${theme}`}
            onClick={() => setTheme(theme === 'auto' ? 'dark' : theme === 'dark' ? 'light' : 'auto')}
          >
            {theme === 'auto' ? '◐' : theme === 'dark' ? '●' : '○'}
          </button>
        </header>
        <main className="step" ref={main}>
          {!ready ? <p aria-busy="true">Opening bootcard…</p> : null}
          {stationShown && (station || stationError) ? (
            <StationPage
              snapshot={station ?? { running: false, startedAt: '', slots: [], counters: { written: 0, failed: 0, skipped: 0, cardsPerHour: 0 }, recent: [] }}
              stopping={stationStopping}
              error={stationError}
              onStop={stopStation}
              onClose={() => {
                setStationShown(false);
                setStationError(null);
              }}
            />
          ) : null}
          {stationShown && (station || stationError) ? null : <>
          {ready && state.step === 'what' ? <WhatStep state={state} dispatch={dispatch} /> : null}
          {state.step === 'configure' ? <ConfigureStep state={state} dispatch={dispatch} /> : null}
          {state.step === 'cards' ? <CardsStep state={state} dispatch={dispatch} /> : null}
          {state.step === 'review' ? <ReviewStep state={state} onWrite={write} onStartStation={startStation} /> : null}
          {state.step === 'write' ? <WriteStep state={state} onCancel={() => writing.current?.abort()} /> : null}
          {state.step === 'done' ? <DoneStep state={state} dispatch={dispatch} /> : null}
          {state.step === 'save' ? <SaveStep state={state} onOutputDir={(value) => dispatch({ type: 'field', field: 'outputDir', value })} /> : null}
          {state.step === 'lock' ? <LockStep state={state} /> : null}
          </>}
        </main>
        <footer className="nav-buttons">
          {stationShown ? <span /> : back && state.step !== 'write' && state.step !== 'done' ? (
            <button type="button" onClick={() => dispatch({ type: 'go', step: back })}>Back</button>
          ) : <span />}
          {next && !isFinal && !stationShown ? (
            <span className="next-group">
              {why ? <span id="next-why" className="next-why">{why}</span> : null}
              <button type="button" className="primary" disabled={why !== null} aria-describedby={why ? 'next-why' : undefined} onClick={() => dispatch({ type: 'go', step: next })}>
                Next
              </button>
            </span>
          ) : null}
          {state.step === 'done' || state.step === 'save' || state.step === 'lock' ? (
            <button type="button" onClick={() => dispatch({ type: 'startOver' })}>Start over</button>
          ) : null}
        </footer>
      </div>
    </ClientContext.Provider>
  );
}
