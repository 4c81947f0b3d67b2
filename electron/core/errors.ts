/**
 * The one error type of bootcard.
 *
 * Every failure a user can hit is a `BootcardError` with a stable `code`
 * (SCREAMING_SNAKE, prefixed by the area: `EEPROM_`, `FAT_`, `DRIVE_`, ...),
 * a message that says what to do, and optional JSON-safe details. Errors
 * cross process boundaries (IPC, the privileged writer's stdio, the
 * WebSocket of `bootcard serve`) as plain JSON and come back intact through
 * `BootcardError.fromJSON`.
 *
 * Codes are stable API: tests, the GUI and scripts reading `--json` output
 * match on them, so rename one only with a migration note.
 */

export type ErrorDetails = Record<string, unknown>;

export interface BootcardErrorJSON {
  readonly name: 'BootcardError';
  readonly code: string;
  readonly message: string;
  readonly details?: ErrorDetails;
}

/** Codes shared by every area. Feature modules declare their own next to their code. */
export const CommonErrorCode = {
  /** A command line or request that does not fit the schema: the CLI exits 2. */
  USAGE: 'USAGE',
  /** An IPC request whose payload fails validation. */
  INVALID_REQUEST: 'INVALID_REQUEST',
  UNKNOWN_CHANNEL: 'UNKNOWN_CHANNEL',
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  FILE_UNREADABLE: 'FILE_UNREADABLE',
  FILE_WRITE_FAILED: 'FILE_WRITE_FAILED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  CANCELLED: 'CANCELLED',
  /** A bug: something the code did not expect. The message says to report it. */
  INTERNAL: 'INTERNAL',
} as const;

export class BootcardError extends Error {
  override readonly name = 'BootcardError';
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  toJSON(): BootcardErrorJSON {
    return this.details === undefined
      ? { name: 'BootcardError', code: this.code, message: this.message }
      : { name: 'BootcardError', code: this.code, message: this.message, details: jsonSafe(this.details) };
  }

  static fromJSON(value: unknown): BootcardError {
    if (isBootcardErrorJSON(value)) {
      return new BootcardError(value.code, value.message, value.details);
    }
    return new BootcardError(CommonErrorCode.INTERNAL, `Malformed error received: ${safeStringify(value)}`);
  }

  static is(value: unknown, code?: string): value is BootcardError {
    return value instanceof BootcardError && (code === undefined || value.code === code);
  }
}

/**
 * The details key of a message in the wizard's words. An error's `message` is
 * the CLI's, which may name a flag (`--firmware FILE`, `--version`); where it
 * does, the error also carries `details.wizardMessage`: the same problem with
 * what to do in the wizard (which field, which button). Each front end shows
 * its own: the CLI the message, the wizard `wizardMessageOf`.
 */
export const WIZARD_MESSAGE_DETAIL = 'wizardMessage';

/** `{ wizardMessage }` for an error's details. */
export function inWizardWords(text: string): { readonly wizardMessage: string } {
  return { [WIZARD_MESSAGE_DETAIL]: text } as { readonly wizardMessage: string };
}

/** What the wizard shows for `error`: its wizard wording where it has one, else its message. */
export function wizardMessageOf(error: unknown): string {
  if (error instanceof BootcardError) {
    const text = error.details?.[WIZARD_MESSAGE_DETAIL];
    return typeof text === 'string' && text !== '' ? text : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function isBootcardErrorJSON(value: unknown): value is BootcardErrorJSON {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    v.name === 'BootcardError' &&
    typeof v.code === 'string' &&
    typeof v.message === 'string' &&
    (v.details === undefined || (typeof v.details === 'object' && v.details !== null))
  );
}

/**
 * Turns anything thrown into a BootcardError. Node system errors get a code a
 * user can act on; anything else is INTERNAL, carrying the original message.
 */
export function toBootcardError(error: unknown, context?: string): BootcardError {
  if (error instanceof BootcardError) return error;
  const prefix = context ? `${context}: ` : '';
  if (isNodeSystemError(error)) {
    const where = error.path ? ` (${error.path})` : '';
    switch (error.code) {
      case 'ENOENT':
        return new BootcardError(CommonErrorCode.FILE_NOT_FOUND, `${prefix}no such file or device${where}.`, { path: error.path }, { cause: error });
      case 'EACCES':
      case 'EPERM':
        return new BootcardError(CommonErrorCode.PERMISSION_DENIED, `${prefix}${permissionWords(error.path, error.syscall)}`, { path: error.path }, { cause: error });
      case 'EISDIR':
        return new BootcardError(CommonErrorCode.FILE_UNREADABLE, `${prefix}expected a file but found a folder${where}.`, { path: error.path }, { cause: error });
      case 'ENOTDIR':
        return new BootcardError(CommonErrorCode.FILE_NOT_FOUND, `${prefix}a part of the path is a file, not a folder${where}.`, { path: error.path }, { cause: error });
      case 'EROFS':
        return new BootcardError(CommonErrorCode.FILE_WRITE_FAILED, `${prefix}the file system is read-only${where}.`, { path: error.path }, { cause: error });
      case 'ENOSPC':
        return new BootcardError(CommonErrorCode.FILE_WRITE_FAILED, `${prefix}no space left on the device${where}.`, { path: error.path }, { cause: error });
      default:
        break;
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new BootcardError(
    CommonErrorCode.INTERNAL,
    `${prefix}${message} (unexpected error; please report it)`,
    undefined,
    { cause: error },
  );
}

interface NodeSystemError extends Error {
  code: string;
  path?: string;
  syscall?: string;
}

/**
 * Which file, and what the user can do about it. Only writing cards goes through the
 * password prompt, so the words never promise one: reading a file, writing an output or
 * opening a card to read it is done with the user's own rights.
 */
function permissionWords(file: string | undefined, syscall: string | undefined): string {
  if (file === undefined) return 'permission denied: your user may not do this. Run it as the user who owns the files, or with sudo.';
  const changes = syscall !== undefined && ['mkdir', 'rename', 'unlink', 'rmdir', 'chmod', 'chown', 'symlink', 'link'].includes(syscall);
  if (file.startsWith('/dev/')) {
    return `permission denied: your user may not open ${file}. Reading a card needs read access to its device: add your user to the group that owns it (ls -l ${file}; often "disk"), or run this command with sudo. (Writing cards asks for a password by itself.)`;
  }
  return `permission denied: your user may not ${changes ? 'change' : 'open'} ${file}. Check its owner and mode (ls -ld ${file}): choose a file or folder you own, or have its owner give you access.`;
}

function isNodeSystemError(error: unknown): error is NodeSystemError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
}

function jsonSafe(details: ErrorDetails): ErrorDetails {
  try {
    return JSON.parse(JSON.stringify(details, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as ErrorDetails;
  } catch {
    return { unserialisable: true };
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
