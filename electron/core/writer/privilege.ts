/**
 * How the privileged writer child is started and what its exit means (pure).
 *
 * pkexec(1): exit 126 when the user dismissed the authentication dialog, 127
 * when not authorised or no authentication agent could ask; the program it runs
 * never starts in either case. pkexec clears the environment, so the child's
 * settings travel through `env NAME=value`.
 */
import { BootcardError } from '../errors.js';
import { WriteErrorCode } from './types.js';

export const PKEXEC_DISMISSED = 126;
export const PKEXEC_NOT_AUTHORIZED = 127;

/** Environment variables the child always needs to see (the Electron-as-Node switch, its I/O thread count). */
export const FORWARDED_ENV = ['ELECTRON_RUN_AS_NODE', 'UV_THREADPOOL_SIZE'] as const;

/**
 * Where the child reads sysfs and the mount and swap tables: overrides that let
 * tests point it at recorded data. The real pkexec never gets them: a user who
 * just gave the administrator password must not be able to hand root a fake
 * mount table in which the system disk looks like a free card. A stand-in
 * pkexec (tests) runs as the user anyway, so it may.
 */
export const RECORDED_DATA_ENV = ['BOOTCARD_SYSFS', 'BOOTCARD_MOUNTINFO', 'BOOTCARD_SWAPS'] as const;

const SYSTEM_PKEXEC = new Set(['pkexec', '/usr/bin/pkexec', '/bin/pkexec']);

export interface ChildCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export function childCommand(options: {
  readonly asRoot: boolean;
  readonly nodePath: string;
  readonly nodeArgs: readonly string[];
  readonly pkexec: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}): ChildCommand {
  if (options.asRoot) return { command: options.nodePath, args: [...options.nodeArgs] };
  const names = SYSTEM_PKEXEC.has(options.pkexec) ? FORWARDED_ENV : [...RECORDED_DATA_ENV, ...FORWARDED_ENV];
  const forwarded = names.filter((k) => options.env[k] !== undefined).map((k) => `${k}=${options.env[k]}`);
  return { command: options.pkexec, args: ['/usr/bin/env', ...forwarded, options.nodePath, ...options.nodeArgs] };
}

/** What the child was started for, in the words of its pkexec errors. */
export interface ChildPurpose {
  /** What did not happen, e.g. "Nothing was written". */
  readonly nothingDone: string;
  /** The action that needs root, e.g. "Writing to cards". */
  readonly action: string;
}

export const WRITE_PURPOSE: ChildPurpose = { nothingDone: 'Nothing was written', action: 'Writing to cards' };

/** The error for a child that ended without finishing; undefined when the exit says nothing special. */
export function pkexecExitError(viaPkexec: boolean, exitCode: number | null, childSpoke: boolean, purpose: ChildPurpose = WRITE_PURPOSE): BootcardError | undefined {
  if (!viaPkexec || childSpoke) return undefined;
  if (exitCode === PKEXEC_DISMISSED) {
    return new BootcardError(
      WriteErrorCode.AUTH_CANCELLED,
      `${purpose.nothingDone}: the password prompt was cancelled. ${purpose.action} needs administrator rights; run again and enter your password.`,
    );
  }
  if (exitCode === PKEXEC_NOT_AUTHORIZED) {
    return new BootcardError(
      WriteErrorCode.AUTH_FAILED,
      `${purpose.nothingDone}: polkit did not authorise bootcard (wrong password, not an administrator, or no polkit authentication agent running). ${purpose.action} needs administrator rights: run bootcard with sudo instead.`,
    );
  }
  return undefined;
}

export function noPolkitError(pkexec: string, purpose: ChildPurpose = WRITE_PURPOSE): BootcardError {
  return new BootcardError(
    WriteErrorCode.NO_POLKIT,
    `${purpose.nothingDone}: ${purpose.action.charAt(0).toLowerCase()}${purpose.action.slice(1)} needs administrator rights, and ${pkexec} (polkit) is not installed. Install polkit (e.g. \`sudo apt install pkexec\`) or run bootcard with sudo.`,
  );
}

/**
 * Node does blocking file and device I/O on libuv's thread pool (4 threads by
 * default). Each card keeps a read and a write in flight, so a station writing
 * many slow cards at once needs about two threads per card, or the cards take
 * turns.
 */
export function ioThreadsFor(targets: number): number {
  return Math.min(128, Math.max(4, targets * 2 + 2));
}
