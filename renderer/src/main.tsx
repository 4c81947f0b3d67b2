import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createClient } from '../../electron/ipc/client.js';
import { App } from './App.js';
import { detectTransport } from './transport.js';
import './styles.css';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App client={createClient(detectTransport())} />
    </StrictMode>,
  );
}
