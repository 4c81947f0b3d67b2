/**
 * The NV region of a firmware file as one thing: the firmware volume (firmware-volume.ts), the variable
 * store inside it (variable-store.ts) and the FTW working block after the store (ftw.ts). Everything here
 * works on bytes: `readNvram` validates, `listUefiVariables` lists, `editUefiVariables` returns a new
 * copy of the file with the edits applied and every byte outside the written records unchanged.
 */
import { BootcardError } from '../errors.js';
import { UefiErrorCode } from './errors.js';
import { findFtwWorkingBlock, readFtwWorkingBlock, type FtwWorkingBlock } from './ftw.js';
import { locateNvFirmwareVolume, type NvFirmwareVolume } from './firmware-volume.js';
import { guidName } from './guid.js';
import { describeVariable } from './known-variables.js';
import {
  applyVariableEdits,
  liveRecords,
  readVariableStore,
  type StoreEditResult,
  type VariableEdit,
  type VariableRecord,
  type VariableStore,
} from './variable-store.js';

export interface Nvram {
  readonly fv: NvFirmwareVolume;
  readonly store: VariableStore;
  readonly ftw: FtwWorkingBlock;
}

/** Finds and validates the FV header, the store header and records, and the FTW working block. */
export function readNvram(fd: Uint8Array): Nvram {
  const fv = locateNvFirmwareVolume(fd);
  const fvEnd = fv.offset + fv.length;
  const store = readVariableStore(fd, fv.offset + fv.headerLength, fvEnd);
  const ftwOffset = findFtwWorkingBlock(fd, store.end, fvEnd);
  if (ftwOffset === undefined) {
    throw new BootcardError(
      UefiErrorCode.FTW_INVALID,
      'The firmware volume has no fault-tolerant-write working block after its variable store, so bootcard cannot tell whether the firmware has a write pending. Use an unmodified RPI_EFI.fd from the pftf/RPi4 release zip.',
      { fvOffset: fv.offset },
    );
  }
  const ftw = readFtwWorkingBlock(fd, ftwOffset, fvEnd);
  return { fv, store, ftw };
}

export interface UefiVariableInfo {
  readonly name: string;
  readonly guid: string;
  /** A readable name for well-known vendor GUIDs. */
  readonly guidName?: string;
  readonly attributes: number;
  /** 'NV+BS+RT' and so on. */
  readonly attributeNames: string;
  readonly state: number;
  readonly status: VariableRecord['status'];
  /** Whether GetVariable would return this copy. */
  readonly live: boolean;
  readonly offset: number;
  readonly size: number;
  readonly data: Uint8Array;
  /** A decoded value for variables bootcard knows (RamLimitTo3GB: "0 (off: use all RAM)", BootOrder: "0001,0000", ...). */
  readonly value?: string;
}

export interface UefiVariableListing {
  readonly layout: string;
  readonly releases?: string;
  readonly fvOffset: number;
  readonly fvLength: number;
  readonly storeFormat: VariableStore['format'];
  readonly storeOffset: number;
  readonly storeSize: number;
  readonly freeBytes: number;
  readonly freeSpaceErased: boolean;
  readonly ftwOffset: number;
  readonly ftwPendingWrite: boolean;
  readonly variables: readonly UefiVariableInfo[];
}

const ATTRIBUTE_NAMES: readonly [number, string][] = [
  [0x01, 'NV'],
  [0x02, 'BS'],
  [0x04, 'RT'],
  [0x08, 'HR'],
  [0x10, 'AW'],
  [0x20, 'AT'],
  [0x40, 'AP'],
];

export function attributeNames(attributes: number): string {
  const names = ATTRIBUTE_NAMES.filter(([bit]) => attributes & bit).map(([, n]) => n);
  const unknown = attributes & ~0x7f;
  if (unknown) names.push(`0x${unknown.toString(16)}`);
  return names.join('+') || '0';
}

/** Lists every record (live and deleted, in store order), each marked live or not, decoded where known. */
export function listUefiVariables(fd: Uint8Array): UefiVariableListing {
  const { fv, store, ftw } = readNvram(fd);
  const live = new Set(liveRecords(store).map((r) => r.offset));
  const variables = store.records.map((r): UefiVariableInfo => {
    const gName = guidName(r.guid);
    const value = describeVariable(r.name, r.guid, r.data);
    return {
      name: r.name,
      guid: r.guid,
      ...(gName ? { guidName: gName } : {}),
      attributes: r.attributes,
      attributeNames: attributeNames(r.attributes),
      state: r.state,
      status: r.status,
      live: live.has(r.offset),
      offset: r.offset,
      size: r.length,
      data: r.data,
      ...(value !== undefined ? { value } : {}),
    };
  });
  return {
    layout: fv.layout,
    ...(fv.releases ? { releases: fv.releases } : {}),
    fvOffset: fv.offset,
    fvLength: fv.length,
    storeFormat: store.format,
    storeOffset: store.offset,
    storeSize: store.size,
    freeBytes: store.end - store.freeOffset,
    freeSpaceErased: store.freeSpaceErased,
    ftwOffset: ftw.offset,
    ftwPendingWrite: ftw.pendingWrite,
    variables,
  };
}

/** Returns the value GetVariable would return, or undefined. */
export function getUefiVariable(fd: Uint8Array, name: string, guid: string): VariableRecord | undefined {
  const { store } = readNvram(fd);
  return liveRecords(store).find((r) => r.name === name && r.guid === guid.toLowerCase());
}

export interface NvramEditResult extends StoreEditResult {
  /** A new copy of the whole file; the input is never changed. */
  readonly fd: Uint8Array;
  readonly changed: boolean;
}

/**
 * Applies set/delete edits to a copy of the file. Refuses (throws, nothing changed) when the NV region
 * is missing or damaged, when an FTW write is pending, when the free space is not erased, or when the
 * store is full. The FV header and FTW block are never touched, so their checksums stay valid.
 */
export function editUefiVariables(fd: Uint8Array, edits: readonly VariableEdit[]): NvramEditResult {
  const { store, ftw } = readNvram(fd);
  if (ftw.pendingWrite) {
    throw new BootcardError(
      UefiErrorCode.FTW_WRITE_PENDING,
      'The firmware has an unfinished write queued in its fault-tolerant-write block; it would replay it at the next boot and could undo these settings. Boot the Pi once with this RPI_EFI.fd (so the firmware finishes the write), or use a fresh RPI_EFI.fd from the release zip.',
      { ftwOffset: ftw.offset },
    );
  }
  // new Uint8Array(fd) copies for a Uint8Array and a Node Buffer alike (Buffer#slice is a view).
  const copy = new Uint8Array(fd);
  const result = applyVariableEdits(copy, store, edits);
  if (result.written.length === 0) return { fd: copy, changed: false, ...result };
  // Self-check: the edited store must read back cleanly and hold exactly what was asked.
  const after = readNvram(copy);
  const lastEdit = new Map(edits.map((e) => [`${e.guid.toLowerCase()}\0${e.name}`, e]));
  for (const edit of lastEdit.values()) {
    const found = liveRecords(after.store).filter((r) => r.name === edit.name && r.guid === edit.guid.toLowerCase());
    const ok = edit.op === 'delete' ? found.length === 0 : found.length === 1;
    if (!ok) throw new BootcardError(UefiErrorCode.STORE_CORRUPT, `Internal error: ${edit.name} did not read back as written (please report it).`, { name: edit.name });
  }
  return { fd: copy, changed: true, ...result };
}
