/** The two Electron IPC channel names the preload bridge uses; the typed contract rides inside them. */
export const IPC_TO_MAIN = 'bootcard:to-main';
export const IPC_FROM_MAIN = 'bootcard:from-main';
