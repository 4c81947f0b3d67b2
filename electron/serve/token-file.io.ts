/**
 * `bootcard serve --token-file FILE`: the access token kept across restarts,
 * so the URL a station's operator bookmarked keeps working.
 *
 * The file is the key to the station, so it is treated like an SSH key: a
 * missing file is created with mode 0600 (O_EXCL, never through a link); an
 * existing one is opened without following a link, and the opened handle
 * (not the name) must be a regular file of this user that no one else can
 * read or write. Anything else is refused, never repaired: a file someone
 * else could read means the token may already be known.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError } from '../core/errors.js';

export const TokenFileErrorCode = {
  UNSAFE: 'SERVE_TOKEN_FILE_UNSAFE',
  UNREADABLE: 'SERVE_TOKEN_FILE_UNREADABLE',
  MALFORMED: 'SERVE_TOKEN_FILE_MALFORMED',
} as const;

/** The token serve makes (32 random bytes, base64url) and any of similar strength a user wrote in. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{32,256}$/;
const MAX_TOKEN_FILE_BYTES = 1024;

export function newServeToken(): string {
  return randomBytes(32).toString('base64url');
}

export interface TokenFileResult {
  readonly token: string;
  /** True when the file did not exist and was created with a new token. */
  readonly created: boolean;
}

/** The token in `file`, or a new one written there (mode 0600) when the file does not exist. */
export async function loadOrCreateTokenFile(file: string): Promise<TokenFileResult> {
  const existing = await openExisting(file);
  if (existing) {
    try {
      return { token: await readToken(existing, file), created: false };
    } finally {
      await existing.close();
    }
  }
  const token = newServeToken();
  let handle: FileHandle;
  try {
    // O_EXCL with O_CREAT never follows a link, even a dangling one planted after the check above.
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw unsafe(file, 'it appeared while bootcard was creating it (or is a link)');
    if (code === 'ENOENT' || code === 'ENOTDIR') throw unreadable(file, `its folder ${path.dirname(file)} does not exist; create it first`);
    throw unreadable(file, `it cannot be created (${code ?? String(error)})`);
  }
  try {
    // The umask could only narrow 0600; make sure of the exact mode anyway.
    await handle.chmod(0o600);
    await handle.writeFile(`${token}\n`);
    await handle.sync();
  } catch (error) {
    // An empty or half-written file would make every later start refuse it as malformed: leave nothing.
    await handle.close().catch(() => undefined);
    await unlink(file).catch(() => undefined);
    throw unreadable(file, `it could not be written (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  await handle.close();
  return { token, created: true };
}

async function openExisting(file: string): Promise<FileHandle | null> {
  try {
    // O_NONBLOCK: opening a FIFO planted here must not hang serve's start.
    return await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw unsafe(file, 'it is a symbolic link; name the file itself');
    if (code === 'EACCES' || code === 'EPERM') throw unreadable(file, 'bootcard may not read it');
    throw unreadable(file, `it cannot be opened (${code ?? String(error)})`);
  }
}

async function readToken(handle: FileHandle, file: string): Promise<string> {
  const info = await handle.stat();
  if (!info.isFile()) throw unsafe(file, 'it is not a regular file');
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) throw unsafe(file, `it belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o077) !== 0) {
    throw unsafe(file, `other users can read or change it (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')}); make a new token: delete the file, or run chmod 600 on it only if you know no one read it`);
  }
  if (info.size > MAX_TOKEN_FILE_BYTES) throw malformed(file);
  const token = (await handle.readFile('utf8')).trim();
  if (!TOKEN_PATTERN.test(token)) throw malformed(file);
  return token;
}

function unsafe(file: string, why: string): BootcardError {
  return new BootcardError(TokenFileErrorCode.UNSAFE, `The token file ${file} is refused: ${why}.`, { path: file });
}

function unreadable(file: string, why: string): BootcardError {
  return new BootcardError(TokenFileErrorCode.UNREADABLE, `The token file ${file} cannot be used: ${why}.`, { path: file });
}

function malformed(file: string): BootcardError {
  return new BootcardError(
    TokenFileErrorCode.MALFORMED,
    `The token file ${file} does not hold a token (one line of 32 to 256 letters, digits, - or _). Delete it and bootcard serve makes a new one.`,
    { path: file },
  );
}
