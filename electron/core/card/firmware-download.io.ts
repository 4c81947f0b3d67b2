/**
 * Downloads a pftf/RPi4 UEFI firmware release zip into a cache and reuses it.
 *
 * Cache layout (XDG_CACHE_HOME/bootcard, else ~/.cache/bootcard):
 *   pftf/<version>/RPi4_UEFI_Firmware_<version>.zip
 *   pftf/<version>/RPi4_UEFI_Firmware_<version>.zip.sha256   "<hex>  <file name>\n", written on first download
 * On every reuse the zip's SHA-256 is computed again and must equal the recorded
 * one. A download goes to a temporary file that is renamed into place only
 * when complete (every byte the server announced, a zip signature), so a dropped
 * connection leaves no cache entry.
 *
 * A zip that cannot be opened (cut short by a server that announced no length, damaged
 * on disk) is never kept: the caller's `open` reads it before it enters the cache, and a
 * cached one that fails to open is removed and downloaded again. `refresh` downloads anew.
 * Releases whose SHA-256 is published are pinned in PFTF_RELEASE_SHA256, so a first
 * download of those is checked too; the others are trusted on first use (the recorded
 * checksum).
 *
 * The base URL can be changed (option, or BOOTCARD_FIRMWARE_BASE_URL) for a
 * mirror, and for tests that serve a zip on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, open, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BootcardError, CommonErrorCode, inWizardWords, toBootcardError } from '../errors.js';
import { openInputFile, readInputFile } from '../files/input-file.io.js';
import { CardErrorCode } from './errors.js';

/** v1.34: newer releases fail to boot some operating systems over a signature problem (pftf/RPi4 issues). */
export const PFTF_DEFAULT_VERSION = 'v1.34';
export const PFTF_RELEASE_BASE_URL = 'https://github.com/pftf/RPi4/releases/download';
export const FIRMWARE_BASE_URL_ENV = 'BOOTCARD_FIRMWARE_BASE_URL';
const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];

/**
 * SHA-256 of release zips, by version, from a source that can be trusted. pftf publishes
 * none beside its releases, and no trustworthy public record of them was found (Nix
 * fetchzip hashes are of the unpacked tree, not of the zip), so none is pinned yet: every
 * version is trusted on first use. Add `'v1.34': '<hex>'` once the value comes from pftf.
 */
export const PFTF_RELEASE_SHA256: Readonly<Record<string, string>> = {};

/** Errors that mean the zip itself is broken (so a cached copy is thrown away), not that it does not suit this card. */
const DAMAGED_ZIP_CODES: ReadonlySet<string> = new Set([
  CardErrorCode.BAD_ARCHIVE,
  CardErrorCode.ENTRY_SIZE_MISMATCH,
  CardErrorCode.NOT_PFTF_FIRMWARE,
  CardErrorCode.TOO_MANY_ENTRIES,
  CardErrorCode.BAD_ENTRY_NAME,
  CardErrorCode.UNSAFE_PATH,
  CardErrorCode.LINK_IN_ARCHIVE,
]);

export interface DownloadProgress {
  readonly bytes: number;
  /** From Content-Length; null when the server does not say. */
  readonly total: number | null;
}

export interface FetchFirmwareOptions<T = undefined> {
  /** Opens the zip (the cached one, or a download before it is cached); a damaged zip is discarded. Its result comes back as `opened`. */
  readonly open?: (zipPath: string) => Promise<T>;
  /** Download again even when the version is cached (the cached zip is replaced). */
  readonly refresh?: boolean;
  /** Told when a cached zip was discarded. */
  readonly onWarning?: (message: string) => void;
  /** SHA-256 by version to hold downloads to; default PFTF_RELEASE_SHA256. */
  readonly knownSha256?: Readonly<Record<string, string>>;
  /** `v1.34` or `1.34`; default v1.34. */
  readonly version?: string;
  /** Default: env BOOTCARD_FIRMWARE_BASE_URL, else the GitHub releases URL. */
  readonly baseUrl?: string;
  /** Default: XDG_CACHE_HOME/bootcard or ~/.cache/bootcard. */
  readonly cacheDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly signal?: AbortSignal;
  /** Give up when no byte arrives for this long (default 60 s). */
  readonly stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface FetchedFirmware<T = undefined> {
  /** What `open` returned for this zip. */
  readonly opened: T;
  readonly path: string;
  readonly version: string;
  readonly url: string;
  readonly sha256: string;
  /** True when the zip came from the cache (and its checksum matched). */
  readonly cached: boolean;
}

export function normalisePftfVersion(version: string): string {
  const m = /^v?(\d+)\.(\d+)$/.exec(version.trim());
  if (!m) throw new BootcardError(CardErrorCode.BAD_VERSION, `"${version}" is not a pftf release version: write it like v1.34.`, { version });
  return `v${Number(m[1])}.${m[2]}`;
}

export function pftfZipName(version: string): string {
  return `RPi4_UEFI_Firmware_${version}.zip`;
}

export function pftfZipUrl(version: string, baseUrl = PFTF_RELEASE_BASE_URL): string {
  const v = normalisePftfVersion(version);
  return `${baseUrl.replace(/\/+$/, '')}/${v}/${pftfZipName(v)}`;
}

export function bootcardCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME ?? os.homedir(), '.cache'), 'bootcard');
}

/** A cached release zip is a few MiB; anything near this is not one. */
const MAX_CACHED_ZIP_BYTES = 1024 * 1024 * 1024;
const HASH_STEP_BYTES = 4 * 1024 * 1024;

/** Through the input opener: a FIFO or device planted in the cache is refused, not read for ever. */
async function sha256File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const input = await openInputFile(file, { what: 'cached firmware', maxBytes: MAX_CACHED_ZIP_BYTES, ...(signal ? { signal } : {}) });
  try {
    for (let at = 0; at < input.size; at += HASH_STEP_BYTES) hash.update(await input.read(at, Math.min(HASH_STEP_BYTES, input.size - at)));
  } finally {
    await input.close();
  }
  return hash.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

function isDamagedZip(error: unknown): boolean {
  return error instanceof BootcardError && DAMAGED_ZIP_CODES.has(error.code);
}

/**
 * The cache folder `below` the cache `base`, created if missing, as its real
 * path, once every folder on that path is known to be this user's or root's
 * and, from `base` down, writable by no one else. Root with a user's HOME or
 * XDG_CACHE_HOME (`sudo -E`) would otherwise read and write through whatever
 * links that user planted there (a `.sha256` link to a root-only file was
 * overwritten, and a cached checksum read from one ended up in a message).
 * With every folder trusted, no name on the path can change under bootcard.
 */
async function trustedCacheFolder(base: string, below: string): Promise<string> {
  const wanted = path.join(path.resolve(base), below);
  let real: string;
  let baseReal: string;
  try {
    await mkdir(wanted, { recursive: true });
    [real, baseReal] = await Promise.all([realpath(wanted), realpath(path.resolve(base))]);
  } catch (error) {
    throw toBootcardError(error, `Could not create the cache folder ${wanted}`);
  }
  const uid = process.getuid?.() ?? 0;
  let folder = '/';
  for (const part of ['', ...real.split('/').filter(Boolean)]) {
    folder = path.join(folder, part);
    const info = await lstat(folder);
    const insideCache = folder === baseReal || folder.startsWith(`${baseReal}/`);
    const othersMayWrite = (info.mode & 0o022) !== 0 && (insideCache || (info.mode & 0o1000) === 0);
    if ((info.uid !== uid && info.uid !== 0) || othersMayWrite) {
      const why = info.uid !== uid && info.uid !== 0 ? `belongs to another user (uid ${info.uid})` : `can be written by other users (mode ${(info.mode & 0o7777).toString(8).padStart(4, '0')})`;
      throw new BootcardError(
        CardErrorCode.UNSAFE_CACHE,
        `The firmware cache ${real} is not used: ${folder} ${why}, who could redirect what bootcard reads and writes there. Run bootcard as that user, or point XDG_CACHE_HOME at a folder of your own (as root: sudo without -E uses root's own cache).`,
        { path: folder, cache: real },
      );
    }
  }
  return real;
}

/** Returns the cached zip for the version, downloading it first when it is not cached (or cannot be opened, or `refresh`). */
export async function fetchPftfFirmware<T = undefined>(options: FetchFirmwareOptions<T> = {}): Promise<FetchedFirmware<T>> {
  const env = options.env ?? process.env;
  const version = normalisePftfVersion(options.version ?? PFTF_DEFAULT_VERSION);
  const url = pftfZipUrl(version, options.baseUrl ?? env[FIRMWARE_BASE_URL_ENV] ?? PFTF_RELEASE_BASE_URL);
  const dir = await trustedCacheFolder(options.cacheDir ?? bootcardCacheDir(env), path.join('pftf', version));
  const zip = path.join(dir, pftfZipName(version));
  const sumFile = `${zip}.sha256`;
  const pinned = (options.knownSha256 ?? PFTF_RELEASE_SHA256)[version];
  const openZip = async (file: string) => (options.open ? options.open(file) : (undefined as T));

  if (!options.refresh && (await exists(zip))) {
    const recorded = (await exists(sumFile)) ? new TextDecoder().decode(await readInputFile(sumFile, { what: 'checksum file', maxBytes: 4096 })).split(/\s+/)[0] : undefined;
    const expected = pinned ?? recorded;
    const actual = await sha256File(zip, options.signal);
    if (!expected || expected !== actual) {
      throw new BootcardError(
        CardErrorCode.CHECKSUM_MISMATCH,
        `The cached firmware ${zip} ${expected ? `has SHA-256 ${actual}, not the ${expected} ${pinned ? `published for ${version}` : 'recorded when it was downloaded'}` : 'has no recorded checksum'}: it changed on disk. Delete ${dir} (or run again with --refresh) to download it again.`,
        { path: zip, expected: expected ?? null, actual, ...inWizardWords(`The cached UEFI firmware ${zip} changed on disk. Download it again.`) },
      );
    }
    try {
      return { path: zip, version, url, sha256: actual, cached: true, opened: await openZip(zip) };
    } catch (error) {
      if (!isDamagedZip(error)) throw error;
      await rm(zip, { force: true });
      await rm(sumFile, { force: true });
      options.onWarning?.(`The cached firmware ${zip} cannot be opened (${(error as Error).message}); it was removed and is downloaded again.`);
    }
  }

  const temp = path.join(dir, `.${pftfZipName(version)}.${process.pid}.${Date.now()}.partial`);
  const failed = (why: string, cause?: unknown) =>
    new BootcardError(
      CardErrorCode.DOWNLOAD_FAILED,
      `Could not download the UEFI firmware ${version} from ${url}: ${why}. Check the network (or download the zip yourself and pass --firmware FILE).`,
      { url, ...inWizardWords(`Could not download the UEFI firmware ${version} from ${url}: ${why}. Check the network, or download the zip yourself and choose it as the UEFI firmware.`) },
      { cause },
    );
  // A stalled server would otherwise hang the download forever: abort when nothing arrives for a while.
  const stallMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const stall = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const kick = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      stall.abort();
    }, stallMs);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, stall.signal]) : stall.signal;
  const interrupted = (bytes: number, error: unknown) => {
    if (options.signal?.aborted) return new BootcardError(CommonErrorCode.CANCELLED, 'The firmware download was cancelled.');
    if (stalled) return failed(`nothing arrived for ${stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`} after ${bytes} bytes`, error);
    return null;
  };
  try {
    let response: Response;
    kick();
    try {
      response = await fetch(url, { redirect: 'follow', signal });
    } catch (error) {
      throw interrupted(0, error) ?? failed((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message, error);
    }
    if (!response.ok || !response.body) {
      throw failed(response.status === 404 ? `there is no release ${version} (HTTP 404)` : `the server answered HTTP ${response.status}`);
    }
    const lengthHeader = response.headers.get('content-length');
    const total = lengthHeader !== null && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : null;
    const hash = createHash('sha256');
    const handle = await open(temp, 'w');
    let bytes = 0;
    let head = new Uint8Array(0);
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        kick();
        hash.update(chunk);
        if (head.length < 4) head = new Uint8Array([...head, ...chunk.subarray(0, 4 - head.length)]);
        await handle.write(chunk);
        bytes += chunk.length;
        options.onProgress?.({ bytes, total });
      }
      await handle.sync();
    } catch (error) {
      throw interrupted(bytes, error) ?? failed(`the connection broke after ${bytes} bytes`, error);
    } finally {
      clearTimeout(timer);
      await handle.close();
    }
    if (total !== null && bytes !== total) throw failed(`the connection broke after ${bytes} of ${total} bytes`);
    if (!ZIP_LOCAL_HEADER.every((b, i) => head[i] === b)) throw failed('the server did not send a zip file');
    const sha256 = hash.digest('hex');
    if (pinned && sha256 !== pinned) {
      throw new BootcardError(
        CardErrorCode.CHECKSUM_MISMATCH,
        `The firmware downloaded from ${url} has SHA-256 ${sha256}, not the ${pinned} of the pftf ${version} release: it is not that release (a damaged mirror, or a changed download). Nothing was cached.`,
        { url, expected: pinned, actual: sha256 },
      );
    }
    // Opened before it is cached: a zip the server cut short never becomes the cached copy.
    let opened: T;
    try {
      opened = await openZip(temp);
    } catch (error) {
      if (!isDamagedZip(error)) throw error;
      throw failed(`the zip it sent cannot be opened (${(error as Error).message}); nothing was cached, so running again downloads it again`, error);
    }
    // The checksum first: a zip in the cache always has its recorded checksum.
    await writeFile(sumFile, `${sha256}  ${pftfZipName(version)}\n`);
    await rename(temp, zip);
    return { path: zip, version, url, sha256, cached: false, opened };
  } catch (error) {
    clearTimeout(timer);
    await rm(temp, { force: true });
    throw toBootcardError(error, 'Downloading the UEFI firmware');
  }
}
