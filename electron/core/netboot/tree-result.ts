/** What building a netboot tree reports (pure types, shared by `bootcard netboot tree` and the wizard's netboot.tree channel). */

/** What was copied out of the image's ext4 root file system for the NFS roots. */
export interface ExtractSummary {
  readonly entries: number;
  readonly hardLinks: number;
  readonly devices: number;
  readonly xattrs: number;
  readonly skippedSockets: number;
}

export interface PiTreeResult {
  readonly folder: string;
  readonly kind: string;
  readonly tftpFolder: string;
  readonly nfsFolder: string | null;
  readonly bootFiles: number;
  readonly replaced: boolean;
}

export interface TreeResult {
  readonly pis: readonly PiTreeResult[];
  readonly sharedFiles: number;
  readonly sharedBytes: number;
  readonly bootcode: 'written' | 'kept' | 'absent' | 'not-ours';
  readonly root: ExtractSummary | null;
  readonly compression: string;
}
