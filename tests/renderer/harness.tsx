/**
 * Renders the wizard against the real handler table (the same one `bootcard
 * serve` and Electron use) through an in-memory transport that round-trips
 * every message through JSON, as on the wire. Tests may replace a handler
 * where the real one needs hardware the test machine lacks.
 */
import { render } from '@testing-library/react';
import { App } from '../../renderer/src/App.js';
import { createClient, type Transport } from '../../electron/ipc/client.js';
import { createDispatcher, type Handlers } from '../../electron/ipc/dispatcher.js';
import type { WireFromMain, WireToMain } from '../../electron/ipc/define.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { initialState, type WizardState } from '../../renderer/src/wizard/state.js';

export function wireTransport(handlers: Handlers): Transport & { sent: WireToMain[] } {
  const dispatcher = createDispatcher(handlers);
  const listeners = new Set<(m: WireFromMain) => void>();
  const sent: WireToMain[] = [];
  return {
    sent,
    send(message) {
      sent.push(message);
      void dispatcher.receive(JSON.parse(JSON.stringify(message)), (reply) => {
        for (const l of listeners) l(JSON.parse(JSON.stringify(reply)) as WireFromMain);
      });
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function renderWizard(options: { handlers?: Partial<Handlers>; state?: Partial<WizardState>; cwd?: string } = {}) {
  const handlers = { ...createHandlers({ frontEnd: 'serve', ...(options.cwd ? { cwd: options.cwd } : {}) }), ...options.handlers } as Handlers;
  const transport = wireTransport(handlers);
  const client = createClient(transport);
  const view = render(<App client={client} initial={{ ...initialState, ...options.state }} />);
  return { ...view, transport };
}
