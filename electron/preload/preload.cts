/**
 * The sandboxed preload: exposes exactly one object, `window.bootcardTransport`,
 * with send and onMessage. It cannot import project modules (sandboxed
 * preloads may only require 'electron'), hence the channel names repeated from
 * channel-names.ts; a unit test keeps the two equal.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';

const IPC_TO_MAIN = 'bootcard:to-main';
const IPC_FROM_MAIN = 'bootcard:from-main';

contextBridge.exposeInMainWorld('bootcardTransport', {
  send(message: unknown): void {
    ipcRenderer.send(IPC_TO_MAIN, message);
  },
  onMessage(listener: (message: unknown) => void): () => void {
    const wrapped = (_event: IpcRendererEvent, message: unknown) => listener(message);
    ipcRenderer.on(IPC_FROM_MAIN, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_FROM_MAIN, wrapped);
    };
  },
  /** The path of a file dropped on the page (Electron no longer puts it on File): the wizard takes dropped files. */
  pathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
});
