/**
 * `pieeprom.sig`: the file that travels beside pieeprom.bin (recovery card) or
 * pieeprom.upd (self-update), as `rpi-eeprom-digest` writes it:
 *
 *   <sha256 of the image, 64 lower-case hex digits>\n
 *   ts: <update timestamp, decimal seconds since 1970>\n
 *   target-soc: <2711|2712>\n            (only with rpi-eeprom-digest -c; newer releases)
 *   rsa2048: <512 hex digits>\n          (only when signed with a private key)
 *
 * The bootloader checks the hash, and skips a self-update whose ts is not
 * newer than the update timestamp it already has. Pure; the SHA-256 is
 * @noble/hashes (no Node crypto, so the renderer can use it too) unless the
 * caller passes a faster one (the batch builder passes Node's).
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { BootcardError } from '../errors.js';
import { EepromErrorCode } from './codes.js';
import type { Board } from './image.js';

export type Sha256Hex = (bytes: Uint8Array) => string;

export const sha256HexPure: Sha256Hex = (bytes) => bytesToHex(sha256(bytes));

export interface SigOptions {
  /** Adds the `target-soc:` line (rpi-eeprom-digest -c). */
  readonly targetSoc?: Board;
  readonly sha256Hex?: Sha256Hex;
}

export const MAX_SIG_TIMESTAMP = 0xffffffff;

/** Throws EEPROM_BAD_TIMESTAMP unless `timestamp` is whole seconds the bootloader can read (0..4294967295). */
export function checkTimestamp(timestamp: number): number {
  if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > MAX_SIG_TIMESTAMP) {
    throw new BootcardError(
      EepromErrorCode.BAD_TIMESTAMP,
      `The update timestamp must be whole seconds since 1970 between 0 and ${MAX_SIG_TIMESTAMP} (e.g. $(date +%s)); got ${String(timestamp)}.`,
      { timestamp },
    );
  }
  return timestamp;
}

export function makePieepromSig(image: Uint8Array, timestamp: number, options: SigOptions = {}): string {
  checkTimestamp(timestamp);
  const hash = (options.sha256Hex ?? sha256HexPure)(image);
  let sig = `${hash}\nts: ${timestamp}\n`;
  if (options.targetSoc) sig += `target-soc: ${options.targetSoc}\n`;
  return sig;
}

export interface PieepromSig {
  readonly sha256: string;
  readonly ts?: number;
  readonly targetSoc?: string;
  readonly rsa2048?: string;
}

export function parsePieepromSig(text: string): PieepromSig {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const first = lines[0] ?? '';
  if (!/^[0-9a-f]{64}$/.test(first)) {
    throw new BootcardError(EepromErrorCode.BAD_SIG, 'Not a pieeprom.sig: its first line must be the 64-hex-digit SHA-256 of the image.');
  }
  let ts: number | undefined;
  let targetSoc: string | undefined;
  let rsa2048: string | undefined;
  for (const line of lines.slice(1)) {
    const m = /^([a-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m) throw new BootcardError(EepromErrorCode.BAD_SIG, `Not a pieeprom.sig line: "${line}".`);
    if (m[1] === 'ts') ts = checkTimestamp(Number(m[2]));
    else if (m[1] === 'target-soc') targetSoc = m[2];
    else if (m[1] === 'rsa2048') rsa2048 = m[2];
  }
  return { sha256: first, ...(ts !== undefined ? { ts } : {}), ...(targetSoc ? { targetSoc } : {}), ...(rsa2048 ? { rsa2048 } : {}) };
}
