/**
 * The Electron main process: app lifecycle, the one window, and the IPC wiring
 * to the shared dispatcher. Everything the app does lives in the core.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { createDispatcher } from '../ipc/dispatcher.js';
import { createHandlers } from '../ipc/handlers/index.js';
import { CONTENT_SECURITY_POLICY, isTrustedSenderUrl, secureWebPreferences } from './security.js';
import { IPC_TO_MAIN, IPC_FROM_MAIN } from '../preload/channel-names.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const distRoot = path.resolve(here, '..', '..');
const rendererIndex = path.join(distRoot, 'renderer', 'index.html');
const rendererIndexUrl = pathToFileURL(rendererIndex).href;
const preloadPath = path.join(distRoot, 'electron', 'preload', 'preload.cjs');
const iconPath = path.join(distRoot, '..', 'resources', 'icon.png');

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // Relative paths the user types (the manifest's default name) land in their home folder, not wherever the launcher started us.
  let window: BrowserWindow | null = null;
  const dispatcher = createDispatcher(
    createHandlers({
      frontEnd: 'electron',
      cwd: app.getPath('home'),
      // Files are picked, not typed: the native dialog, on top of the one window.
      showOpenDialog: (spec) => (window ? dialog.showOpenDialog(window, { ...spec, properties: [...spec.properties] }) : Promise.resolve({ canceled: true, filePaths: [] })),
    }),
  );

  app.on('second-instance', () => {
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });

  // No page of bootcard ever navigates, opens windows or attaches webviews.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  ipcMain.on(IPC_TO_MAIN, (event, message: unknown) => {
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedSenderUrl(url, rendererIndexUrl)) return;
    void dispatcher.receive(message, (reply) => {
      if (!event.sender.isDestroyed()) event.sender.send(IPC_FROM_MAIN, reply);
    });
  });

  void app.whenReady().then(() => {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    // No default menu: its Reload and DevTools entries have no place in a tool that writes disks.
    Menu.setApplicationMenu(null);
    window = new BrowserWindow({
      width: 1100,
      height: 760,
      minWidth: 1024,
      minHeight: 700,
      title: 'bootcard',
      icon: iconPath,
      show: false,
      webPreferences: secureWebPreferences(preloadPath),
    });
    window.once('ready-to-show', () => window?.show());
    // A page that (re)loads has lost track of what the old one started: cancel it rather than leave writes nobody watches.
    window.webContents.on('did-start-loading', () => dispatcher.cancelAll());
    window.on('closed', () => {
      dispatcher.cancelAll();
      window = null;
    });
    void window.loadFile(rendererIndex);
  });

  app.on('window-all-closed', () => app.quit());
}
