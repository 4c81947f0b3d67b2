import { createContext, useContext } from 'react';
import type { BootcardClient } from '../../electron/ipc/client.js';
import { wizardMessageOf } from '../../electron/core/errors.js';

export const ClientContext = createContext<BootcardClient | null>(null);

export function useClient(): BootcardClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside <ClientContext.Provider>');
  return client;
}

/**
 * An error as the wizard shows it: in the wizard's own words where the error
 * has them (its CLI message names flags the page does not have), else its message.
 */
export function messageOf(error: unknown): string {
  return wizardMessageOf(error);
}
