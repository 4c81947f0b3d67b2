/** Error codes of the FAT32 composer and reader (stable API: tests and `--json` output match on them). */
export const FatErrorCode = {
  /** The partition is too small for a FAT32 file system (fewer than 65,525 clusters). */
  TOO_SMALL: 'FAT_TOO_SMALL',
  /** The partition is too large for FAT32 with 512-byte sectors. */
  TOO_LARGE: 'FAT_TOO_LARGE',
  /** The files do not fit in the partition. */
  NO_SPACE: 'FAT_NO_SPACE',
  /** A path that FAT cannot store (empty part, `.`/`..`, a forbidden character, too long). */
  INVALID_NAME: 'FAT_INVALID_NAME',
  /** Two paths that FAT would see as the same (names are case-insensitive). */
  DUPLICATE_NAME: 'FAT_DUPLICATE_NAME',
  /** A file of 4 GiB or more (FAT32 stores sizes in 32 bits). */
  FILE_TOO_LARGE: 'FAT_FILE_TOO_LARGE',
  /** A folder with more entries than FAT allows (65,536 slots). */
  DIRECTORY_FULL: 'FAT_DIRECTORY_FULL',
  /** A volume label that FAT cannot store. */
  INVALID_LABEL: 'FAT_INVALID_LABEL',
  /** Bad geometry options (size not a multiple of 512, partition outside the image, ...). */
  INVALID_LAYOUT: 'FAT_INVALID_LAYOUT',
  /** The reader found no MBR partition table. */
  NO_PARTITION_TABLE: 'FAT_NO_PARTITION_TABLE',
  /** The reader found no FAT32 file system where it looked. */
  NOT_FAT32: 'FAT_NOT_FAT32',
  /** A FAT32 file system whose structures are damaged (chain loops, clusters out of range, ...). */
  CORRUPT: 'FAT_CORRUPT',
  /** A partition table or file system that runs past the end of the image: the file was cut short. */
  TRUNCATED: 'FAT_IMAGE_TRUNCATED',
  /** A path that is not on the card. */
  NOT_FOUND: 'FAT_NOT_FOUND',
} as const;
