/**
 * EFI_GUID as stored in firmware: { UINT32 Data1; UINT16 Data2; UINT16 Data3; UINT8 Data4[8] },
 * the first three fields little-endian, so the text form
 * `8be4df61-93ca-11d2-aa0d-00e098032b8c` is stored as 61 df e4 8b ca 93 d2 11 aa 0d 00 e0 98 03 2b 8c.
 * Text form here is always lower case.
 */
import { BootcardError } from '../errors.js';
import { UefiErrorCode } from './errors.js';

export const GUID_SIZE = 16;

const GUID_TEXT = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

export function isGuidText(text: string): boolean {
  return GUID_TEXT.test(text);
}

/** Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` into the 16 bytes firmware stores. */
export function guidToBytes(text: string): Uint8Array {
  const m = GUID_TEXT.exec(text);
  if (!m) {
    throw new BootcardError(UefiErrorCode.BAD_GUID, `"${text}" is not a GUID (expected the form 8be4df61-93ca-11d2-aa0d-00e098032b8c).`, { guid: text });
  }
  const hex = (s: string) => Array.from({ length: s.length / 2 }, (_, i) => parseInt(s.slice(i * 2, i * 2 + 2), 16));
  const [, d1, d2, d3, d4, d5] = m as unknown as [string, string, string, string, string, string];
  return Uint8Array.from([...hex(d1).reverse(), ...hex(d2).reverse(), ...hex(d3).reverse(), ...hex(d4), ...hex(d5)]);
}

/** Formats the 16 bytes at `offset` as a lower-case GUID string. */
export function guidFromBytes(bytes: Uint8Array, offset = 0): string {
  const b = bytes.subarray(offset, offset + GUID_SIZE);
  const h = (i: number) => b[i]!.toString(16).padStart(2, '0');
  const run = (idx: number[]) => idx.map(h).join('');
  return `${run([3, 2, 1, 0])}-${run([5, 4])}-${run([7, 6])}-${run([8, 9])}-${run([10, 11, 12, 13, 14, 15])}`;
}

export function guidEquals(bytes: Uint8Array, offset: number, guid: Uint8Array): boolean {
  if (offset < 0 || offset + GUID_SIZE > bytes.length) return false;
  for (let i = 0; i < GUID_SIZE; i++) if (bytes[offset + i] !== guid[i]) return false;
  return true;
}

/** GUIDs bootcard knows by name (sources: MdePkg/MdeModulePkg headers, edk2-platforms RaspberryPi.dec). */
export const KnownGuid = {
  /** gEfiSystemNvDataFvGuid: FileSystemGuid of the firmware volume that holds the NV variable store. */
  SYSTEM_NV_DATA_FV: 'fff12b8d-7696-4c8b-a985-2747075b4f50',
  /** gEfiAuthenticatedVariableGuid: signature of a store whose records carry authentication fields. */
  AUTHENTICATED_VARIABLE_STORE: 'aaf32c78-947b-439a-a180-2e144ec37792',
  /** gEfiVariableGuid: signature of a store with plain records. */
  VARIABLE_STORE: 'ddcf3616-3275-4164-98b6-fe85707ffe7d',
  /** gEdkiiWorkingBlockSignatureGuid: signature of the fault-tolerant-write working block. */
  FTW_WORKING_BLOCK: '9e58292b-7c68-497d-a0ce-6500fd9f1b95',
  /** gEfiGlobalVariableGuid: Boot####, BootOrder, Timeout, ... */
  EFI_GLOBAL_VARIABLE: '8be4df61-93ca-11d2-aa0d-00e098032b8c',
  /** gEfiImageSecurityDatabaseGuid: db, dbx. */
  IMAGE_SECURITY_DATABASE: 'd719b2cb-3d3a-4596-a3bc-dad00e67656f',
  /** gConfigDxeFormSetGuid: the Raspberry Pi settings (Device Manager > Raspberry Pi Configuration). */
  RPI_CONFIG: 'cd7cc258-31db-22e6-9f22-63b0b8eed6b5',
  /** gRaspberryPiTokenSpaceGuid: a few more Raspberry Pi variables (ResetDelay, Columns, Rows). */
  RPI_TOKEN_SPACE: 'cd7cc258-31db-11e6-9fd3-63b0b8eed6b5',
} as const;

const GUID_NAMES: Readonly<Record<string, string>> = {
  [KnownGuid.EFI_GLOBAL_VARIABLE]: 'EFI global variable',
  [KnownGuid.IMAGE_SECURITY_DATABASE]: 'image security database',
  [KnownGuid.RPI_CONFIG]: 'Raspberry Pi configuration',
  [KnownGuid.RPI_TOKEN_SPACE]: 'Raspberry Pi token space',
};

export function guidName(guid: string): string | undefined {
  return GUID_NAMES[guid.toLowerCase()];
}
