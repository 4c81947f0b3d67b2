/** Error codes of the network boot server tools (stable API: tests and `--json` output match on them). */
export const NetbootErrorCode = {
  /** A Pi ID that is neither a MAC address, an 8-digit serial number nor a usable TFTP_PREFIX_STR folder name. */
  INVALID_PI_ID: 'NETBOOT_INVALID_PI_ID',
  /** A pis.csv that cannot be read as Pi rows. */
  INVALID_PIS_FILE: 'NETBOOT_INVALID_PIS_FILE',
  /** A first-boot option (user, hostname) bootcard refuses to write. */
  INVALID_FIRST_BOOT: 'NETBOOT_INVALID_FIRST_BOOT',
  /** The OS image has no boot (FAT32) or root (ext4) partition where bootcard looks. */
  IMAGE_LAYOUT: 'NETBOOT_IMAGE_LAYOUT',
  /** A compressed image that could not be decompressed (damaged, or the decompressor is missing). */
  DECOMPRESS_FAILED: 'NETBOOT_DECOMPRESS_FAILED',
  /** A folder in the tree that bootcard did not make: it is never replaced. */
  FOLDER_NOT_OURS: 'NETBOOT_FOLDER_NOT_OURS',
  /** Another `netboot tree` is building the same tree. */
  BUSY: 'NETBOOT_BUSY',
  /** A path in the image that bootcard will not create (`..`, a slash, a link where a folder should be). */
  UNSAFE_PATH: 'NETBOOT_UNSAFE_PATH',
  /** The ext4 root could not be extracted (debugfs missing or failing). */
  EXTRACT_FAILED: 'NETBOOT_EXTRACT_FAILED',
  /** The server configuration disagrees with the EEPROM configuration. */
  CONFIG_MISMATCH: 'NETBOOT_CONFIG_MISMATCH',
  /** `netboot check`: the Pi would not boot from what the server sends. */
  WOULD_NOT_BOOT: 'NETBOOT_WOULD_NOT_BOOT',
  /** A TFTP exchange that failed for a reason other than "file not found" (no answer, an error packet). */
  TFTP_FAILED: 'NETBOOT_TFTP_FAILED',
} as const;
