/**
 * The Pis a tree is built for, with their first-boot options: from `--pi ID`
 * options or a pis.csv with a header row naming its columns:
 *
 *   id,hostname,ssh,user
 *   dc:a6:32:01:36:c2,rack1-pi1,yes,pi:$6$salt$hash...
 *   9ffefdef,rack1-pi2,no,
 *
 * `id` is required; a file without a header is one ID per line.
 * First-boot options are what Raspberry Pi OS reads from its boot folder:
 * an `ssh` file turns the SSH server on, `userconf.txt` (`name:crypt-hash`)
 * creates the user; `hostname` is written into the Pi's root (/etc/hostname).
 */
import { BootcardError } from '../errors.js';
import { NetbootErrorCode } from './errors.js';
import { parsePiId, type PiId } from './pi-id.js';

export interface FirstBoot {
  readonly ssh?: boolean;
  /** `name:hash`, the hash as crypt(3) writes it (`openssl passwd -6`). */
  readonly user?: { readonly name: string; readonly hash: string };
  readonly hostname?: string;
}

export interface PiSpec extends FirstBoot {
  readonly id: PiId;
}

const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const HASH_RE = /^\$[0-9a-z]+\$[./A-Za-z0-9$=,]+$/;
const HOSTNAME_RE = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function firstBootError(message: string, details: Record<string, unknown>): BootcardError {
  return new BootcardError(NetbootErrorCode.INVALID_FIRST_BOOT, message, details);
}

/** Parses `name:hash`; refuses a clear-text password (the Pi stores only the hash). */
export function parseUser(text: string): { name: string; hash: string } {
  const at = text.indexOf(':');
  const name = at < 0 ? text : text.slice(0, at);
  const hash = at < 0 ? '' : text.slice(at + 1);
  if (!USER_RE.test(name)) throw firstBootError(`"${name}" is not a user name (lower-case letters, digits, _ and -, starting with a letter).`, { name });
  if (!HASH_RE.test(hash)) {
    throw firstBootError(`The user ${name} needs a password hash, not a password: give NAME:HASH with HASH from \`openssl passwd -6\` (it starts with $6$).`, { name });
  }
  return { name, hash };
}

export function checkHostname(text: string): string {
  if (!HOSTNAME_RE.test(text)) throw firstBootError(`"${text}" is not a host name (letters, digits and -, up to 63, not starting or ending with -).`, { hostname: text });
  return text;
}

function yesNo(text: string, line: number): boolean | undefined {
  const v = text.trim().toLowerCase();
  if (v === '') return undefined;
  if (['yes', 'y', 'true', '1', 'on'].includes(v)) return true;
  if (['no', 'n', 'false', '0', 'off'].includes(v)) return false;
  throw new BootcardError(NetbootErrorCode.INVALID_PIS_FILE, `Line ${line} of the Pi list: ssh is "${text}"; write yes or no.`, { line });
}

const COLUMNS = ['id', 'hostname', 'ssh', 'user'] as const;

export function parsePisCsv(text: string): PiSpec[] {
  const rows = text
    .split(/\r?\n/)
    .map((raw, i) => ({ raw: raw.trim(), line: i + 1 }))
    .filter((r) => r.raw !== '' && !r.raw.startsWith('#'));
  if (rows.length === 0) throw new BootcardError(NetbootErrorCode.INVALID_PIS_FILE, 'The Pi list is empty: write one Pi ID per line, or a header "id,hostname,ssh,user" and rows.');
  const header = rows[0]!.raw.split(',').map((c) => c.trim().toLowerCase());
  const hasHeader = header.includes('id');
  if (hasHeader) {
    const unknown = header.filter((c) => !(COLUMNS as readonly string[]).includes(c));
    if (unknown.length > 0) {
      throw new BootcardError(NetbootErrorCode.INVALID_PIS_FILE, `The Pi list has unknown column(s) ${unknown.join(', ')}: the columns are ${COLUMNS.join(', ')}.`, { unknown });
    }
  }
  const columns = hasHeader ? header : ['id'];
  const specs: PiSpec[] = [];
  const seen = new Map<string, number>();
  for (const row of hasHeader ? rows.slice(1) : rows) {
    const cells = row.raw.split(',').map((c) => c.trim());
    if (cells.length > columns.length) {
      throw new BootcardError(NetbootErrorCode.INVALID_PIS_FILE, `Line ${row.line} of the Pi list has ${cells.length} fields; the header names ${columns.length}.`, { line: row.line });
    }
    const cell = (name: string) => cells[columns.indexOf(name)] ?? '';
    const wrap = <T>(fn: () => T): T => {
      try {
        return fn();
      } catch (error) {
        if (error instanceof BootcardError) throw new BootcardError(error.code, `Line ${row.line} of the Pi list: ${error.message}`, { ...error.details, line: row.line });
        throw error;
      }
    };
    const id = wrap(() => parsePiId(cell('id')));
    const earlier = seen.get(id.folder);
    if (earlier !== undefined) {
      throw new BootcardError(NetbootErrorCode.INVALID_PIS_FILE, `Lines ${earlier} and ${row.line} of the Pi list are the same Pi (${id.folder}).`, { folder: id.folder });
    }
    seen.set(id.folder, row.line);
    const ssh = columns.includes('ssh') ? yesNo(cell('ssh'), row.line) : undefined;
    const user = cell('user') ? wrap(() => parseUser(cell('user'))) : undefined;
    const hostname = cell('hostname') ? wrap(() => checkHostname(cell('hostname'))) : undefined;
    specs.push({ id, ...(ssh === undefined ? {} : { ssh }), ...(user ? { user } : {}), ...(hostname ? { hostname } : {}) });
  }
  if (specs.length === 0) throw new BootcardError(NetbootErrorCode.INVALID_PIS_FILE, 'The Pi list has a header but no Pi rows.');
  return specs;
}

/** Per-Pi values win over the ones given for every Pi on the command line. */
export function withDefaults(spec: PiSpec, defaults: FirstBoot): PiSpec {
  return {
    ...spec,
    ...(spec.ssh === undefined && defaults.ssh !== undefined ? { ssh: defaults.ssh } : {}),
    ...(spec.user === undefined && defaults.user ? { user: defaults.user } : {}),
  };
}
