/** What the station's file chooser lists (file-chooser.io.ts reads it; the wizard shows it). */
export type ChooserRoot = 'output' | 'cache';

export interface ChooserEntry {
  readonly name: string;
  readonly kind: 'folder' | 'file' | 'link';
  /** Bytes, for a file. */
  readonly size?: number;
}

export interface ChooserListing {
  readonly root: ChooserRoot;
  /** The root's real path, as the page shows it. */
  readonly rootPath: string;
  /** The listed folder, relative to the root ('' for the root itself). */
  readonly relative: string;
  /** The listed folder's absolute path: a file in it is `${path}/${name}`. */
  readonly path: string;
  readonly entries: readonly ChooserEntry[];
  /** True when the folder held more than MAX_ENTRIES entries (the rest are not listed). */
  readonly truncated: boolean;
}
