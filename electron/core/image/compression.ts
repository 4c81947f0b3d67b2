/**
 * Compressed OS images, recognised by their first bytes (not the file name:
 * downloads get renamed):
 *   gzip   1f 8b                 (RFC 1952)
 *   xz     fd 37 7a 58 5a 00     ("\xFD7zXZ\0", the .xz container)
 *   zstd   28 b5 2f fd           (frame magic 0xFD2FB528, little endian)
 *   bzip2  42 5a 68 '1'..'9'     ("BZh" and the block size)
 *   zip    50 4b 03 04           ("PK\3\4", a local file header; the archive must hold one image)
 */
export type Compression = 'none' | 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'zip';

/** How many leading bytes `compressionOf` looks at. */
export const COMPRESSION_MAGIC_BYTES = 6;

const startsWith = (head: Uint8Array, magic: readonly number[]) => magic.every((b, i) => head[i] === b);

export function compressionOf(head: Uint8Array): Compression {
  if (startsWith(head, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  if (startsWith(head, [0x42, 0x5a, 0x68]) && head[3]! >= 0x31 && head[3]! <= 0x39) return 'bzip2';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'zip';
  return 'none';
}

/** The Debian package that holds each external decompressor (gzip and zip's deflate are Node's own zlib). */
export const DECOMPRESSOR: Readonly<Record<Exclude<Compression, 'none' | 'gzip' | 'zip'>, { readonly command: string; readonly debianPackage: string }>> = {
  xz: { command: 'xz', debianPackage: 'xz-utils' },
  zstd: { command: 'zstd', debianPackage: 'zstd' },
  bzip2: { command: 'bzip2', debianPackage: 'bzip2' },
};
