/** Error codes of OS images read as a whole (stable API: tests and `--json` output match on them). */
export const ImageErrorCode = {
  /** A compressed image that could not be decompressed (damaged, or the decompressor is missing). */
  DECOMPRESS_FAILED: 'IMAGE_DECOMPRESS_FAILED',
  /** A .zip that does not hold exactly one image file, or holds it in a way bootcard does not read. */
  ZIP_NOT_ONE_IMAGE: 'IMAGE_ZIP_NOT_ONE_IMAGE',
  /** The folder the image is decompressed into (TMPDIR) filled up. */
  NO_SPACE: 'IMAGE_NO_SPACE',
  /** What the image decompresses to is not a whole number of 512-byte sectors. */
  NOT_WHOLE_SECTORS: 'IMAGE_NOT_WHOLE_SECTORS',
} as const;
