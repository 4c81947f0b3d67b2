/**
 * Renders the wizard against the real handler table (the same one `bootcard
 * serve` and Electron use) through the in-memory wire transport of
 * tests/helpers/wire.ts. Tests may replace a handler where the real one needs
 * hardware the test machine lacks.
 */
import { configure, render } from '@testing-library/react';
import type React from 'react';
import { App } from '../../renderer/src/App.js';
import { ClientContext } from '../../renderer/src/client-context.js';
import { createClient } from '../../electron/ipc/client.js';
import type { Handlers } from '../../electron/ipc/dispatcher.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { initialState, type WizardState } from '../../renderer/src/wizard/state.js';
import { wireTransport } from '../helpers/wire.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Profiles and remembered settings of these tests: never the user's own ~/.config/bootcard. */
export const TEST_CONFIG_DIR = mkdtempSync(path.join(os.tmpdir(), 'bootcard-renderer-config-'));

// The real handlers compose images, read firmware and parse zips: on a loaded 2-core CI machine running
// every test file at once that can take more than findBy*/waitFor's default 1 s. A pass is still found as
// soon as it happens; only a failure waits this long.
configure({ asyncUtilTimeout: 15_000 });

export function renderWizard(options: { handlers?: Partial<Handlers>; state?: Partial<WizardState>; cwd?: string; fresh?: boolean } = {}) {
  const handlers = { ...createHandlers({ frontEnd: 'serve', configDir: TEST_CONFIG_DIR, ...(options.cwd ? { cwd: options.cwd } : {}) }), ...options.handlers } as Handlers;
  const transport = wireTransport(handlers);
  const client = createClient(transport);
  // `fresh`: as the real window opens, with no fixed start (it restores the last settings).
  const view = render(options.fresh ? <App client={client} /> : <App client={client} initial={{ ...initialState, ...options.state }} />);
  return { ...view, transport };
}

/** Renders one component inside the client context, over the same real handler table. */
export function renderWithClient(ui: React.ReactElement, options: { handlers?: Partial<Handlers>; cwd?: string } = {}) {
  const handlers = { ...createHandlers({ frontEnd: 'serve', configDir: TEST_CONFIG_DIR, ...(options.cwd ? { cwd: options.cwd } : {}) }), ...options.handlers } as Handlers;
  const client = createClient(wireTransport(handlers));
  return render(<ClientContext.Provider value={client}>{ui}</ClientContext.Provider>);
}
