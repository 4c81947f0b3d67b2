/**
 * How the privileged writer child is started and what its exit means (pure).
 *
 * pkexec(1): exit 126 when the user dismissed the authentication dialog, 127
 * when not authorised or no authentication agent could ask; the program it runs
 * never starts in either case. pkexec clears the environment, sets PKEXEC_UID to
 * the caller's uid and marks every descriptor above 2 close-on-exec, so the
 * child's few settings travel through `env NAME=value` and its data only
 * through the stdio pipes.
 *
 * Installed from the .deb, pkexec runs bootcard's own helper
 * (INSTALLED_WRITER_HELPER, resources/polkit/bootcard-writer) rather than
 * node: polkit's action for that exact path (POLKIT_ACTION_ID,
 * auth_admin_keep) lets an operator authenticate once per sitting instead of
 * once per write or card-state read. The helper takes nothing from its caller:
 * it starts the installed child with a fixed command line and environment.
 */
import { BootcardError } from '../errors.js';
import { WriteErrorCode } from './types.js';

export const PKEXEC_DISMISSED = 126;
export const PKEXEC_NOT_AUTHORIZED = 127;

/**
 * The only environment the child gets through pkexec (which clears the rest):
 * the Electron-as-Node switch and its I/O thread count. Test overrides
 * (BOOTCARD_SYSFS, BOOTCARD_MOUNTINFO, ...) are never forwarded: a user who was
 * just given the administrator password must not be able to hand root a fake
 * mount table in which the system disk looks like a free card. The child drops
 * every BOOTCARD_* variable itself when it runs through pkexec (see
 * `overridesToIgnore`), so this list is not the only guard.
 */
export const FORWARDED_ENV = ['ELECTRON_RUN_AS_NODE', 'UV_THREADPOOL_SIZE'] as const;

/** What a forwarded variable may hold: both are small numbers, so nothing else can ride along on the command line. */
const FORWARDED_VALUE = /^\d{1,3}$/;

/** polkit's action for the writer helper (resources/polkit/org.bootcard.writer.policy). */
export const POLKIT_ACTION_ID = 'org.bootcard.writer';
/** Where the .deb installs the helper; the policy's org.freedesktop.policykit.exec.path names exactly this path. */
export const INSTALLED_WRITER_HELPER = '/usr/lib/bootcard/bootcard-writer';
/** Where the .deb installs the app (electron-builder: /opt/<productName>); the helper starts the child found there. */
export const INSTALLED_APP_DIR = '/opt/bootcard';
/**
 * Where pkexec is looked for: absolute paths only. A search through PATH
 * fails on any unreadable folder in it ("spawn pkexec EACCES") and would let
 * whatever a user put first in PATH stand in for pkexec.
 */
export const PKEXEC_LOCATIONS = ['/usr/bin/pkexec', '/bin/pkexec'] as const;

/**
 * Whether the installed helper starts the same child this bootcard would: only
 * when this bootcard is the installed app. A checkout on a machine that also
 * has the .deb must not hand its requests to another version's child.
 */
export function isInstalledChildEntry(entry: string): boolean {
  return entry.startsWith(`${INSTALLED_APP_DIR}/`);
}

/** The note for a bootcard that asks through pkexec without the helper: it works, but asks every time. */
export function helperMissingNote(where: { readonly fromCheckout: true } | { readonly helper: string }): string {
  const why =
    'helper' in where
      ? `bootcard's polkit helper ${where.helper} is not installed (or not root's alone)`
      : `this bootcard is not the installed app (a checkout or an AppImage), so it does not use the polkit helper ${INSTALLED_WRITER_HELPER}`;
  return `bootcard: note: ${why}; pkexec runs node itself and asks for the password at every write and card-state read. Install the .deb to be asked once per sitting.`;
}

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
  /** The installed writer helper, when it is there: pkexec then runs it alone, without arguments. */
  readonly helper?: string | undefined;
}): ChildCommand {
  if (options.asRoot) return { command: options.nodePath, args: [...options.nodeArgs] };
  if (options.helper !== undefined) return { command: options.pkexec, args: [options.helper] };
  const forwarded = FORWARDED_ENV.filter((k) => FORWARDED_VALUE.test(options.env[k] ?? '')).map((k) => `${k}=${options.env[k]}`);
  return { command: options.pkexec, args: ['/usr/bin/env', ...forwarded, options.nodePath, ...options.nodeArgs] };
}

/**
 * The environment variables the child must delete before anything reads them:
 * every BOOTCARD_* override (recorded sysfs, mount and swap tables, lsblk
 * output, test switches) when it runs through pkexec ($PKEXEC_UID set), whatever
 * it was sent and however it was started. Started directly by root, root
 * chose them.
 */
export function overridesToIgnore(env: Readonly<Record<string, string | undefined>>): string[] {
  if (env.PKEXEC_UID === undefined) return [];
  return Object.keys(env).filter((name) => name.startsWith('BOOTCARD_'));
}

/** Why the privileged writer refuses loop devices for a user (the child says it; the parent says it before a password prompt that could not help). */
export const LOOP_THROUGH_PKEXEC_REFUSAL =
  'Nothing was written: loop devices (--include-loop) are for tests and image builders run as root; the privileged writer does not write them for a user. Run bootcard as root to write a loop device.';

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
