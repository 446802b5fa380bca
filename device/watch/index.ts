// The local functions folder, watched and reloaded while the agent runs (local-reload.ts).
export { LocalReload } from './local-reload.js'
export type { LocalReloadOptions, LocalStart } from './local-reload.js'
export { watchFolder } from './folder-watch.js'
export type { FolderWatch, FolderWatchOptions } from './folder-watch.js'
