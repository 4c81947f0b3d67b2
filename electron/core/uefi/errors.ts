/** Stable error codes of the UEFI NVRAM area (see electron/core/errors.ts for the conventions). */
export const UefiErrorCode = {
  /** No firmware volume with the NV-data FileSystemGuid and `_FVH` signature in the file. */
  NV_REGION_NOT_FOUND: 'UEFI_NV_REGION_NOT_FOUND',
  /** The NV firmware-volume header fails its checks (checksum, revision, lengths). */
  FV_HEADER_INVALID: 'UEFI_FV_HEADER_INVALID',
  /** The variable store header is not a formatted, healthy edk2 store. */
  STORE_HEADER_INVALID: 'UEFI_STORE_HEADER_INVALID',
  /** A variable record runs past the store or has impossible sizes. */
  STORE_CORRUPT: 'UEFI_STORE_CORRUPT',
  /** The space after the last record is not erased flash (0xFF). */
  FREE_SPACE_NOT_ERASED: 'UEFI_FREE_SPACE_NOT_ERASED',
  /** The fault-tolerant-write working block is missing or fails its CRC/signature check. */
  FTW_INVALID: 'UEFI_FTW_INVALID',
  /** The FTW write queue holds a write the firmware would replay at boot. */
  FTW_WRITE_PENDING: 'UEFI_FTW_WRITE_PENDING',
  /** The variable store has no room for the new records. */
  STORE_FULL: 'UEFI_STORE_FULL',
  /** Authenticated (signed) variables such as PK, KEK, db cannot be changed offline. */
  AUTHENTICATED_VARIABLE: 'UEFI_AUTHENTICATED_VARIABLE',
  VARIABLE_NOT_FOUND: 'UEFI_VARIABLE_NOT_FOUND',
  BAD_GUID: 'UEFI_BAD_GUID',
  BAD_VARIABLE: 'UEFI_BAD_VARIABLE',
  /** A named setting has a value outside what the firmware accepts. */
  BAD_SETTING: 'UEFI_BAD_SETTING',
  /** A row or the header of a `card uefi --batch` file is wrong (the message names the line). */
  BAD_BATCH_FILE: 'UEFI_BAD_BATCH_FILE',
} as const;
