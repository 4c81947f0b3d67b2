/**
 * edk2's non-volatile variable store (MdeModulePkg/Include/Guid/VariableFormat.h and
 * AuthenticatedVariableFormat.h): reading it, and editing it the way the firmware itself does, by
 * appending records to erased flash and clearing state bits, never rewriting a record in place.
 *
 * VARIABLE_STORE_HEADER (28 bytes), right after the firmware-volume header:
 *   0x00  EFI_GUID Signature   aaf32c78-947b-439a-a180-2e144ec37792 (gEfiAuthenticatedVariableGuid: records
 *                              carry authentication fields) or ddcf3616-3275-4164-98b6-fe85707ffe7d
 *                              (gEfiVariableGuid: plain records)
 *   0x10  UINT32   Size        store size including this header
 *   0x14  UINT8    Format      0x5A VARIABLE_STORE_FORMATTED
 *   0x15  UINT8    State       0xFE VARIABLE_STORE_HEALTHY
 *   0x16  UINT16   Reserved;  0x18 UINT32 Reserved1
 * Records start at the next 4-byte boundary (HEADER_ALIGN), one after another, each 4-byte aligned.
 *
 * AUTHENTICATED_VARIABLE_HEADER (60 bytes)         VARIABLE_HEADER (32 bytes, plain stores)
 *   0x00 UINT16 StartId 0x55AA                       0x00 UINT16 StartId 0x55AA
 *   0x02 UINT8  State                                0x02 UINT8  State
 *   0x03 UINT8  Reserved (0)                         0x03 UINT8  Reserved (0)
 *   0x04 UINT32 Attributes                           0x04 UINT32 Attributes
 *   0x08 UINT64 MonotonicCount                       0x08 UINT32 NameSize
 *   0x10 EFI_TIME TimeStamp (16 bytes)               0x0C UINT32 DataSize
 *   0x20 UINT32 PubKeyIndex                          0x10 EFI_GUID VendorGuid
 *   0x24 UINT32 NameSize
 *   0x28 UINT32 DataSize
 *   0x2C EFI_GUID VendorGuid
 * then the name (UTF-16LE with its NUL, NameSize bytes), the data (DataSize bytes), and 0xFF padding to
 * the next 4-byte boundary. The list ends at the first slot without StartId 0x55AA; everything from there
 * to the end of the store must be erased flash (0xFF), or the firmware reclaims (rewrites) the store.
 *
 * State is a byte of flags that are cleared, never set, on NOR flash (erased = 0xFF), so a state change
 * is an AND: VAR_HEADER_VALID_ONLY 0x7F, VAR_ADDED 0x3F, VAR_IN_DELETED_TRANSITION 0xFE, VAR_DELETED 0xFD.
 * A record is live when State is 0x3F, or 0x3E (added, then in deleted transition: edk2 still honours it
 * when no 0x3F copy exists). Replacing a variable = appending the new record (State 0x3F) and ANDing the
 * old copy's State with VAR_DELETED (0x3F -> 0x3D).
 */
import { BootcardError } from '../errors.js';
import { UefiErrorCode } from './errors.js';
import { guidEquals, guidFromBytes, guidToBytes, KnownGuid } from './guid.js';

export const VARIABLE_STORE_HEADER_SIZE = 28;
export const VARIABLE_STORE_FORMATTED = 0x5a;
export const VARIABLE_STORE_HEALTHY = 0xfe;
export const VARIABLE_START_ID = 0x55aa;
export const AUTHENTICATED_VARIABLE_HEADER_SIZE = 60;
export const VARIABLE_HEADER_SIZE = 32;
export const HEADER_ALIGNMENT = 4;
export const ERASED_BYTE = 0xff;

export const VariableState = {
  HEADER_VALID_ONLY: 0x7f,
  ADDED: 0x3f,
  IN_DELETED_TRANSITION: 0xfe,
  DELETED: 0xfd,
} as const;

export const VariableAttribute = {
  NON_VOLATILE: 0x01,
  BOOTSERVICE_ACCESS: 0x02,
  RUNTIME_ACCESS: 0x04,
  HARDWARE_ERROR_RECORD: 0x08,
  AUTHENTICATED_WRITE_ACCESS: 0x10,
  TIME_BASED_AUTHENTICATED_WRITE_ACCESS: 0x20,
  APPEND_WRITE: 0x40,
} as const;

/** NV + BS + RT: what the Raspberry Pi settings, Timeout, Boot#### and BootOrder use. */
export const ATTRIBUTES_NV_BS_RT = VariableAttribute.NON_VOLATILE | VariableAttribute.BOOTSERVICE_ACCESS | VariableAttribute.RUNTIME_ACCESS;
const SIGNED_ATTRIBUTES = VariableAttribute.AUTHENTICATED_WRITE_ACCESS | VariableAttribute.TIME_BASED_AUTHENTICATED_WRITE_ACCESS;

export type VariableStoreFormat = 'authenticated' | 'plain';
export type VariableStatus = 'live' | 'in-deleted-transition' | 'deleted' | 'incomplete';

export interface VariableRecord {
  /** File offset of the record header. */
  readonly offset: number;
  /** Bytes the record occupies up to the next record (header + name + data + padding). */
  readonly length: number;
  readonly state: number;
  readonly status: VariableStatus;
  readonly attributes: number;
  readonly name: string;
  readonly guid: string;
  readonly data: Uint8Array;
  readonly monotonicCount?: bigint;
  readonly timeStamp?: Uint8Array;
  readonly pubKeyIndex?: number;
}

export interface VariableStore {
  readonly format: VariableStoreFormat;
  /** File offset of the store header. */
  readonly offset: number;
  readonly size: number;
  readonly recordHeaderSize: number;
  /** File offset of the first record slot. */
  readonly firstRecordOffset: number;
  /** File offset of the first free slot (end of the record list). */
  readonly freeOffset: number;
  /** File offset just past the store. */
  readonly end: number;
  /** True when everything from freeOffset to end is 0xFF. */
  readonly freeSpaceErased: boolean;
  readonly records: readonly VariableRecord[];
}

const AUTH_SIGNATURE = guidToBytes(KnownGuid.AUTHENTICATED_VARIABLE_STORE);
const PLAIN_SIGNATURE = guidToBytes(KnownGuid.VARIABLE_STORE);
const utf16 = new TextDecoder('utf-16le');

export function alignUp(n: number, alignment = HEADER_ALIGNMENT): number {
  return Math.ceil(n / alignment) * alignment;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function statusOfState(state: number): VariableStatus {
  if (state === VariableState.ADDED) return 'live';
  if (state === (VariableState.ADDED & VariableState.IN_DELETED_TRANSITION)) return 'in-deleted-transition';
  if ((state & ~VariableState.ADDED & 0xff) !== 0) return 'incomplete'; // header-only or never-finished (0x7F, 0xFF)
  return 'deleted';
}

/** Decodes a NUL-terminated UTF-16LE name of `size` bytes. */
export function decodeVariableName(bytes: Uint8Array): string {
  const text = utf16.decode(bytes);
  const nul = text.indexOf('\0');
  return nul >= 0 ? text.slice(0, nul) : text;
}

export function encodeVariableName(name: string): Uint8Array {
  const out = new Uint8Array((name.length + 1) * 2);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    out[i * 2] = c & 0xff;
    out[i * 2 + 1] = c >> 8;
  }
  return out;
}

/** Reads and checks the store whose header is at `offset` and must end by `limit` (the FV end). */
export function readVariableStore(fd: Uint8Array, offset: number, limit: number): VariableStore {
  const dv = view(fd);
  const bad = (why: string): never => {
    throw new BootcardError(
      UefiErrorCode.STORE_HEADER_INVALID,
      `The UEFI variable store header at 0x${offset.toString(16)} is not valid (${why}). Use an unmodified RPI_EFI.fd from the pftf/RPi4 release zip.`,
      { offset, why },
    );
  };
  if (offset + VARIABLE_STORE_HEADER_SIZE > limit) bad('truncated');
  const format: VariableStoreFormat = guidEquals(fd, offset, AUTH_SIGNATURE)
    ? 'authenticated'
    : guidEquals(fd, offset, PLAIN_SIGNATURE)
      ? 'plain'
      : bad(`unknown signature ${guidFromBytes(fd, offset)}`);
  const size = dv.getUint32(offset + 0x10, true);
  const formatByte = fd[offset + 0x14]!;
  const stateByte = fd[offset + 0x15]!;
  if (formatByte !== VARIABLE_STORE_FORMATTED) bad(`format byte 0x${formatByte.toString(16)}, expected 0x5a`);
  if (stateByte !== VARIABLE_STORE_HEALTHY) bad(`state byte 0x${stateByte.toString(16)}, expected 0xfe (healthy)`);
  if (size <= VARIABLE_STORE_HEADER_SIZE || offset + size > limit) bad(`size 0x${size.toString(16)} does not fit the firmware volume`);

  const recordHeaderSize = format === 'authenticated' ? AUTHENTICATED_VARIABLE_HEADER_SIZE : VARIABLE_HEADER_SIZE;
  const end = offset + size;
  const firstRecordOffset = alignUp(offset + VARIABLE_STORE_HEADER_SIZE);
  const records: VariableRecord[] = [];
  let at = firstRecordOffset;
  while (at + recordHeaderSize <= end && dv.getUint16(at, true) === VARIABLE_START_ID) {
    const record = readRecord(fd, dv, at, end, format);
    records.push(record);
    at += record.length;
  }
  const freeOffset = Math.min(at, end);
  let freeSpaceErased = true;
  for (let i = freeOffset; i < end; i++) {
    if (fd[i] !== ERASED_BYTE) {
      freeSpaceErased = false;
      break;
    }
  }
  return { format, offset, size, recordHeaderSize, firstRecordOffset, freeOffset, end, freeSpaceErased, records };
}

function readRecord(fd: Uint8Array, dv: DataView, at: number, end: number, format: VariableStoreFormat): VariableRecord {
  const auth = format === 'authenticated';
  const headerSize = auth ? AUTHENTICATED_VARIABLE_HEADER_SIZE : VARIABLE_HEADER_SIZE;
  const nameSize = dv.getUint32(at + (auth ? 0x24 : 0x08), true);
  const dataSize = dv.getUint32(at + (auth ? 0x28 : 0x0c), true);
  const guidOffset = at + (auth ? 0x2c : 0x10);
  const nameOffset = at + headerSize;
  const length = alignUp(headerSize + nameSize + dataSize);
  if (nameSize > end - nameOffset || dataSize > end - nameOffset - nameSize || at + length > end) {
    throw new BootcardError(
      UefiErrorCode.STORE_CORRUPT,
      `The UEFI variable record at 0x${at.toString(16)} runs past the end of the store (name ${nameSize} bytes, data ${dataSize} bytes): the store is damaged. Use an unmodified RPI_EFI.fd.`,
      { offset: at, nameSize, dataSize },
    );
  }
  const state = fd[at + 2]!;
  const base = {
    offset: at,
    length,
    state,
    status: statusOfState(state),
    attributes: dv.getUint32(at + 4, true),
    name: decodeVariableName(fd.subarray(nameOffset, nameOffset + nameSize)),
    guid: guidFromBytes(fd, guidOffset),
    data: new Uint8Array(fd.subarray(nameOffset + nameSize, nameOffset + nameSize + dataSize)),
  };
  return auth
    ? { ...base, monotonicCount: dv.getBigUint64(at + 8, true), timeStamp: new Uint8Array(fd.subarray(at + 0x10, at + 0x20)), pubKeyIndex: dv.getUint32(at + 0x20, true) }
    : base;
}

/** The records edk2's GetVariable would return: 0x3F copies, or a 0x3E copy when no 0x3F copy exists. */
export function liveRecords(store: VariableStore): VariableRecord[] {
  const key = (r: VariableRecord) => `${r.guid}\0${r.name}`;
  const added = new Set(store.records.filter((r) => r.status === 'live').map(key));
  return store.records.filter((r) => r.status === 'live' || (r.status === 'in-deleted-transition' && !added.has(key(r))));
}

/** Encodes one record (State VAR_ADDED, authentication fields zero) with its 0xFF alignment padding. */
export function encodeVariableRecord(format: VariableStoreFormat, variable: { name: string; guid: string; attributes: number; data: Uint8Array }): Uint8Array {
  const auth = format === 'authenticated';
  const headerSize = auth ? AUTHENTICATED_VARIABLE_HEADER_SIZE : VARIABLE_HEADER_SIZE;
  const name = encodeVariableName(variable.name);
  const length = alignUp(headerSize + name.length + variable.data.length);
  const out = new Uint8Array(length).fill(ERASED_BYTE);
  out.fill(0, 0, headerSize);
  const dv = view(out);
  dv.setUint16(0, VARIABLE_START_ID, true);
  out[2] = VariableState.ADDED;
  dv.setUint32(4, variable.attributes, true);
  dv.setUint32(auth ? 0x24 : 0x08, name.length, true);
  dv.setUint32(auth ? 0x28 : 0x0c, variable.data.length, true);
  out.set(guidToBytes(variable.guid), auth ? 0x2c : 0x10);
  out.set(name, headerSize);
  out.set(variable.data, headerSize + name.length);
  return out;
}

export type VariableEdit =
  | { readonly op: 'set'; readonly name: string; readonly guid: string; readonly attributes: number; readonly data: Uint8Array }
  | { readonly op: 'delete'; readonly name: string; readonly guid: string };

export interface WrittenRange {
  readonly offset: number;
  readonly length: number;
}

export interface StoreEditResult {
  /** Byte ranges changed: appended records and the state bytes of replaced copies. */
  readonly written: readonly WrittenRange[];
  /** Edits that changed nothing (a set to the value already live). */
  readonly unchanged: readonly string[];
}

/**
 * Applies the edits to `fd` IN PLACE (callers pass a copy). Checks everything first, so it either
 * applies all edits or throws with `fd` untouched.
 */
export function applyVariableEdits(fd: Uint8Array, store: VariableStore, edits: readonly VariableEdit[]): StoreEditResult {
  if (!store.freeSpaceErased) {
    throw new BootcardError(
      UefiErrorCode.FREE_SPACE_NOT_ERASED,
      `The free space of the UEFI variable store (from 0x${store.freeOffset.toString(16)}) is not erased flash, so a record cannot be appended safely. Use an unmodified RPI_EFI.fd, or boot the Pi once so the firmware reclaims its store.`,
      { freeOffset: store.freeOffset },
    );
  }
  // Plan on a simulated list of live records, then write.
  // Every copy edk2 might still return: 0x3F copies and 0x3E (in deleted transition) copies.
  const candidates = store.records.filter((r) => r.status === 'live' || r.status === 'in-deleted-transition');
  const effective = new Set(liveRecords(store).map((r) => r.offset));
  const toDelete = new Set<number>(); // record offsets whose State gets ANDed with VAR_DELETED
  const appends: Uint8Array[] = [];
  const appendedLive = new Map<string, { index: number; attributes: number; data: Uint8Array }>();
  const unchanged: string[] = [];
  const key = (name: string, guid: string) => `${guid.toLowerCase()}\0${name}`;

  for (const edit of edits) {
    validateEditName(edit.name);
    guidToBytes(edit.guid);
    const k = key(edit.name, edit.guid);
    const existing = candidates.filter((r) => key(r.name, r.guid) === k && !toDelete.has(r.offset));
    const pending = appendedLive.get(k);
    const signed = existing.find((r) => (r.attributes & SIGNED_ATTRIBUTES) !== 0);
    if (signed || (edit.op === 'set' && (edit.attributes & SIGNED_ATTRIBUTES) !== 0)) {
      throw new BootcardError(
        UefiErrorCode.AUTHENTICATED_VARIABLE,
        `${edit.name} (${edit.guid}) is an authenticated (signed) variable; bootcard does not change those offline. Use the firmware's Secure Boot setup instead.`,
        { name: edit.name, guid: edit.guid },
      );
    }
    if (edit.op === 'set') {
      if ((edit.attributes & VariableAttribute.NON_VOLATILE) === 0) {
        throw new BootcardError(UefiErrorCode.BAD_VARIABLE, `${edit.name}: only non-volatile variables (attribute bit 0x1) are stored in the firmware file.`, { name: edit.name });
      }
      const current = pending ?? (existing.length === 1 && effective.has(existing[0]!.offset) ? existing[0] : undefined);
      if (current && current.attributes === edit.attributes && sameBytes(current.data, edit.data)) {
        unchanged.push(edit.name);
        continue;
      }
      for (const r of existing) toDelete.add(r.offset);
      if (pending) appends[pending.index] = new Uint8Array(0); // superseded within this batch: never written
      const record = encodeVariableRecord(store.format, edit);
      appendedLive.set(k, { index: appends.length, attributes: edit.attributes, data: edit.data });
      appends.push(record);
    } else {
      if (existing.length === 0 && !pending) {
        throw new BootcardError(UefiErrorCode.VARIABLE_NOT_FOUND, `There is no variable ${edit.name} (${edit.guid}) in the store to delete.`, { name: edit.name, guid: edit.guid });
      }
      for (const r of existing) toDelete.add(r.offset);
      if (pending) {
        appends[pending.index] = new Uint8Array(0);
        appendedLive.delete(k);
      }
    }
  }

  const needed = appends.reduce((n, a) => n + a.length, 0);
  const free = store.end - store.freeOffset;
  if (needed > free) {
    throw new BootcardError(
      UefiErrorCode.STORE_FULL,
      `The UEFI variable store has ${free} bytes free but the new settings need ${needed}. Boot the Pi once (the firmware compacts its store) and read the file back, or use a fresh RPI_EFI.fd.`,
      { free, needed },
    );
  }

  const written: WrittenRange[] = [];
  for (const offset of [...toDelete].sort((a, b) => a - b)) {
    fd[offset + 2] = fd[offset + 2]! & VariableState.DELETED;
    written.push({ offset: offset + 2, length: 1 });
  }
  let at = store.freeOffset;
  for (const record of appends) {
    if (record.length === 0) continue;
    fd.set(record, at);
    written.push({ offset: at, length: record.length });
    at += record.length;
  }
  return { written, unchanged };
}

function validateEditName(name: string): void {
  if (name.length === 0 || name.length > 256 || name.includes('\0')) {
    throw new BootcardError(UefiErrorCode.BAD_VARIABLE, `"${name}" is not a usable UEFI variable name (1 to 256 characters, no NUL).`, { name });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
