import { createContext, useContext } from 'react';
import type { BootcardClient } from '../../electron/ipc/client.js';

export const ClientContext = createContext<BootcardClient | null>(null);

export function useClient(): BootcardClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside <ClientContext.Provider>');
  return client;
}

/** A BootcardError-like message for display. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
