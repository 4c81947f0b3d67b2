/**
 * The error codes of writing the wizard's output files (output-root.io.ts).
 * A module of its own, importing nothing, so the renderer can match on them.
 */
export const OutputErrorCode = {
  /** The request names a path outside the output root (absolute elsewhere, or `..` out of it). */
  OUTSIDE_ROOT: 'OUTPUT_OUTSIDE_ROOT',
  /** A component of the path, or the file itself, is a symbolic link. */
  SYMLINK: 'OUTPUT_SYMLINK',
  /** A folder on the way is owned by another user or writable by group/others. */
  UNSAFE_FOLDER: 'OUTPUT_UNSAFE_FOLDER',
  /** A folder on the way does not exist (bootcard does not create folders for the wizard). */
  FOLDER_MISSING: 'OUTPUT_FOLDER_MISSING',
  /** Something that is not a folder stands where a folder belongs. */
  NOT_A_FOLDER: 'OUTPUT_NOT_A_FOLDER',
  /** A folder, FIFO, device or socket stands where the file belongs. */
  NOT_A_FILE: 'OUTPUT_NOT_A_FILE',
  /** The file exists and the request did not say replace: the page asks the user, then resends. details.files names them. */
  EXISTS: 'OUTPUT_EXISTS',
  /** The file name is empty, `.`/`..` or holds a `/` or NUL. */
  BAD_NAME: 'OUTPUT_BAD_NAME',
} as const;
