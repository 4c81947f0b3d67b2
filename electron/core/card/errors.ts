/** Error codes of the card recipes (stable API). */
export const CardErrorCode = {
  /** The archive or folder is not the pftf RPi4 UEFI firmware (RPI_EFI.fd, start4.elf or config.txt missing). */
  NOT_PFTF_FIRMWARE: 'CARD_NOT_PFTF_FIRMWARE',
  /** An archive entry with an absolute path, a `..` part, or a backslash. */
  UNSAFE_PATH: 'CARD_UNSAFE_PATH',
  /** An archive entry that is a link (symbolic or hard). */
  LINK_IN_ARCHIVE: 'CARD_LINK_IN_ARCHIVE',
  /** The files are larger than the partition. */
  FIRMWARE_TOO_LARGE: 'CARD_FIRMWARE_TOO_LARGE',
  /** The zip could not be read (damaged, truncated, not a zip). */
  BAD_ARCHIVE: 'CARD_BAD_ARCHIVE',
  /** An entry that unpacks to more than it declares (a zip bomb, or damage). */
  ENTRY_SIZE_MISMATCH: 'CARD_ENTRY_SIZE_MISMATCH',
  /** An archive or folder with far more entries than a firmware has. */
  TOO_MANY_ENTRIES: 'CARD_TOO_MANY_ENTRIES',
  /** An entry name that is not valid UTF-8 (flagged UTF-8), or not ASCII (not flagged): it would change on the card. */
  BAD_ENTRY_NAME: 'CARD_BAD_ENTRY_NAME',
  /** A version that is not like v1.34. */
  BAD_VERSION: 'CARD_BAD_VERSION',
  /** The download failed (network, HTTP status, connection dropped). */
  DOWNLOAD_FAILED: 'CARD_DOWNLOAD_FAILED',
  /** The firmware cache folder (or one above it) belongs to another user or can be written by others. */
  UNSAFE_CACHE: 'CARD_UNSAFE_CACHE',
  /** A cached download whose SHA-256 differs from the one recorded when it was downloaded. */
  CHECKSUM_MISMATCH: 'CARD_CHECKSUM_MISMATCH',
  /** A size that is not a number with an optional unit, or `whole` without a card. */
  BAD_SIZE: 'CARD_BAD_SIZE',
  /** An EEPROM card partition of 32 GB or more (the bootloader reads only smaller ones). */
  PARTITION_TOO_LARGE: 'CARD_PARTITION_TOO_LARGE',
  /** The pieeprom image is for the other board. */
  BOARD_MISMATCH: 'CARD_BOARD_MISMATCH',
  /** A bootloader firmware folder without the files a recovery card needs. */
  FIRMWARE_DIR_INCOMPLETE: 'CARD_FIRMWARE_DIR_INCOMPLETE',
  /** vl805.bin given for a Pi 5, which has no VL805 USB controller. */
  VL805_NOT_FOR_BOARD: 'CARD_VL805_NOT_FOR_BOARD',
  /** An unknown preset name. */
  UNKNOWN_PRESET: 'CARD_UNKNOWN_PRESET',
  /** config.txt edits asked for, but the firmware's config.txt is not UTF-8 text. */
  CONFIG_TXT_NOT_TEXT: 'CARD_CONFIG_TXT_NOT_TEXT',
  /** The transformRpiEfiFd hook returned something that is not firmware bytes. */
  BAD_RPI_EFI_FD: 'CARD_BAD_RPI_EFI_FD',
  /** An inspect target that is neither a whole disk the drive layer lists nor a regular image file. */
  NOT_INSPECTABLE: 'CARD_NOT_INSPECTABLE',
} as const;
