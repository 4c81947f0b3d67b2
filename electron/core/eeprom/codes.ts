/** Stable error and diagnostic codes of the bootloader EEPROM area. */
export const EepromErrorCode = {
  /** The file is not 512 KiB or 2 MiB. */
  BAD_IMAGE_SIZE: 'EEPROM_BAD_IMAGE_SIZE',
  /** The section chain is broken. */
  CORRUPT: 'EEPROM_CORRUPT',
  /** The image has no such modifiable file (e.g. no updatetime before 2021). */
  FILE_NOT_IN_IMAGE: 'EEPROM_FILE_NOT_IN_IMAGE',
  /** bootconf.txt over 4076 bytes. */
  CONFIG_TOO_LARGE: 'EEPROM_CONFIG_TOO_LARGE',
  /** bootconf.txt over the free space the image really has for it. */
  NO_SPACE: 'EEPROM_NO_SPACE',
  /** Another modifiable file that does not fit. */
  FILE_TOO_LARGE: 'EEPROM_FILE_TOO_LARGE',
  CONFIG_NOT_TEXT: 'EEPROM_CONFIG_NOT_TEXT',
  /** Validation found errors (details.diagnostics lists them). */
  INVALID_CONFIG: 'EEPROM_INVALID_CONFIG',
  BAD_BOOT_ORDER: 'EEPROM_BAD_BOOT_ORDER',
  BAD_TIMESTAMP: 'EEPROM_BAD_TIMESTAMP',
  BAD_SET: 'EEPROM_BAD_SET',
  BAD_BATCH: 'EEPROM_BAD_BATCH',
  BAD_SIG: 'EEPROM_BAD_SIG',
  /** A public key that is not RSA-2048. */
  BAD_KEY: 'EEPROM_BAD_KEY',
  /** A private key protected by a passphrase, and no passphrase given. */
  KEY_NEEDS_PASSPHRASE: 'EEPROM_KEY_NEEDS_PASSPHRASE',
  /** A signature that does not verify (wrong key, another file, or changed bytes). */
  SIG_MISMATCH: 'EEPROM_SIG_MISMATCH',
  /** recovery.bin is not the recovery loader for this board. */
  BAD_RECOVERY_BIN: 'EEPROM_BAD_RECOVERY_BIN',
  /** A boot folder or OS image that cannot become a boot.img. */
  BAD_BOOT_IMAGE: 'EEPROM_BAD_BOOT_IMAGE',
  /** Not enough free space for a batch's files. */
  NO_DISK_SPACE: 'EEPROM_NO_DISK_SPACE',
  /** An output file exists and --force was not given. */
  OUTPUT_EXISTS: 'EEPROM_OUTPUT_EXISTS',
} as const;

/** Codes of validation findings (Diagnostic.code). */
export const EepromDiagnosticCode = {
  UNKNOWN_KEY: 'EEPROM_UNKNOWN_KEY',
  UNDOCUMENTED_KEY: 'EEPROM_UNDOCUMENTED_KEY',
  KEY_NOT_ON_BOARD: 'EEPROM_KEY_NOT_ON_BOARD',
  BAD_VALUE: 'EEPROM_BAD_VALUE',
  VALUE_OUT_OF_RANGE: 'EEPROM_VALUE_OUT_OF_RANGE',
  BOOT_ORDER_UNDEFINED_MODE: 'EEPROM_BOOT_ORDER_UNDEFINED_MODE',
  BOOT_ORDER_NO_END: 'EEPROM_BOOT_ORDER_NO_END',
  BOOT_ORDER_MODE_NOT_ON_BOARD: 'EEPROM_BOOT_ORDER_MODE_NOT_ON_BOARD',
  BOOT_ORDER_RPIBOOT_NOT_LAST: 'EEPROM_BOOT_ORDER_RPIBOOT_NOT_LAST',
  BAD_LINE: 'EEPROM_BAD_LINE',
  /** `KEY=VALUE # words`: the bootloader takes # as a comment only at the start of a line, so the words are part of the value. */
  TRAILING_COMMENT: 'EEPROM_TRAILING_COMMENT',
  /** --unset of a key the config does not set. */
  UNSET_NOT_SET: 'EEPROM_UNSET_NOT_SET',
  BAD_SECTION: 'EEPROM_BAD_SECTION',
  UNSUPPORTED_SECTION: 'EEPROM_UNSUPPORTED_SECTION',
  DUPLICATE_KEY: 'EEPROM_DUPLICATE_KEY',
  TOO_LARGE: 'EEPROM_CONFIG_TOO_LARGE',
  NO_SPACE: 'EEPROM_NO_SPACE',
  LINE_TOO_LONG: 'EEPROM_LINE_TOO_LONG',
  NOT_ASCII: 'EEPROM_NOT_ASCII',
  CRLF: 'EEPROM_CRLF',
  /** A custom HTTP_HOST with no public key in the image: the bootloader refuses your boot.img. */
  HTTP_HOST_WITHOUT_KEY: 'EEPROM_HTTP_HOST_WITHOUT_KEY',
  CACERT_HASH_MISMATCH: 'EEPROM_CACERT_HASH_MISMATCH',
  /** BOOT_ORDER asks for HTTP boot from a Pi 4 bootloader older than 2022-03-10. */
  HTTP_BOOT_NOT_IN_IMAGE: 'EEPROM_HTTP_BOOT_NOT_IN_IMAGE',
} as const;
