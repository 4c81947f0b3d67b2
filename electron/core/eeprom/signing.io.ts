/**
 * Signed boot: what rpi-eeprom-digest does with a key, with Node's crypto (no
 * OpenSSL process). A signed .sig is
 *
 *   <sha256 of the file, hex>\n
 *   ts: <seconds since 1970>\n
 *   target-soc: <2711|2712>\n        (optional, rpi-eeprom-digest -c)
 *   rsa2048: <RSA-2048 PKCS#1 v1.5 signature of the file's SHA-256, 512 hex digits>\n
 *
 * PKCS#1 v1.5 is deterministic, so the same key, file and time give the same
 * bytes as `rpi-eeprom-digest -k KEY -i FILE -o SIG` (with SOURCE_DATE_EPOCH).
 * The bootloader verifies only RSA-2048 with SHA-256.
 *
 * Keys arrive as PEM text that the caller read; they are never copied, and no
 * message here quotes them. An .io module because it needs Node's crypto,
 * which the renderer (where the pure EEPROM modules also run) does not have.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { BootcardError, inWizardWords } from '../errors.js';
import { EepromErrorCode } from './codes.js';
import type { ConfigSignature } from './build.js';
import { rsaPublicKeyToBin, type Board } from './image.js';
import { checkTimestamp, parsePieepromSig } from './sig.js';

export const RSA_KEY_BITS = 2048;

const textEncoder = new TextEncoder();

function isPublicPem(pem: string): boolean {
  return /-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem);
}

function checkRsa2048(key: KeyObject, file: string): void {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType !== 'rsa' || bits !== RSA_KEY_BITS) {
    const what = key.asymmetricKeyType === 'rsa' ? `an RSA-${bits} key` : `a key of type ${key.asymmetricKeyType ?? 'unknown'}, not RSA`;
    throw new BootcardError(
      EepromErrorCode.BAD_KEY,
      `${file} is ${what}; the bootloader verifies only RSA-2048 signatures. Make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out private.pem`,
      { path: file },
    );
  }
}

/**
 * The private key for signing. Refuses a public key, a key that is not
 * RSA-2048, and a passphrase-protected key without its passphrase.
 */
export function loadSigningKey(pem: string, file: string, passphrase?: string): KeyObject {
  if (isPublicPem(pem)) {
    throw new BootcardError(
      EepromErrorCode.BAD_KEY,
      `${file} is a public key; signing needs the private key (PEM, "BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY"). The public key is for verify and --pubkey.`,
      { path: file, ...inWizardWords(`${file} is a public key; signing needs the private key (PEM, "BEGIN PRIVATE KEY" or "BEGIN RSA PRIVATE KEY"). Choose the private key as the signing key.`) },
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase === undefined ? { key: pem, format: 'pem' } : { key: pem, format: 'pem', passphrase });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const encrypted = /ENCRYPTED/.test(pem) || code === 'ERR_MISSING_PASSPHRASE';
    if (encrypted && passphrase === undefined) {
      throw new BootcardError(
        EepromErrorCode.KEY_NEEDS_PASSPHRASE,
        `${file} is protected by a passphrase: give it with --passphrase-file FILE (its first line; in the wizard, the passphrase field), or remove it (openssl pkey -in ${file} -out plain.pem).`,
        { path: file, ...inWizardWords(`${file} is protected by a passphrase: type it under Key passphrase, or remove it (openssl pkey -in ${file} -out plain.pem).`) },
      );
    }
    if (encrypted) {
      throw new BootcardError(EepromErrorCode.BAD_KEY, `The passphrase does not unlock ${file}; check the passphrase file.`, { path: file });
    }
    throw new BootcardError(EepromErrorCode.BAD_KEY, `${file} is not a private key in PEM format (e.g. from openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048).`, { path: file });
  }
  checkRsa2048(key, file);
  return key;
}

/** The public key for verifying (a private key is accepted too: its public half is used). */
export function loadVerifyKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (error) {
    if (/ENCRYPTED/.test(pem) || (error as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') {
      throw new BootcardError(EepromErrorCode.BAD_KEY, `${file} is a passphrase-protected private key; verify with the public key (openssl pkey -in ${file} -pubout -out public.pem).`, { path: file });
    }
    throw new BootcardError(EepromErrorCode.BAD_KEY, `${file} is not an RSA public key in PEM format (e.g. from openssl rsa -in private.pem -pubout).`, { path: file });
  }
  checkRsa2048(key, file);
  return key;
}

/** rpi-eeprom-config's pemtobin: the key's modulus and exponent as the bootloader's pubkey.bin. */
export function pubkeyBinFor(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new BootcardError(EepromErrorCode.BAD_KEY, 'The key is not an RSA key.');
  return rsaPublicKeyToBin(new Uint8Array(Buffer.from(jwk.n, 'base64url')), new Uint8Array(Buffer.from(jwk.e, 'base64url')));
}

export interface SignOptions {
  readonly timestamp: number;
  readonly targetSoc?: Board;
}

/** The .sig rpi-eeprom-digest -k writes for `data`. */
export function makeSignedSig(data: Uint8Array, key: KeyObject, options: SignOptions): string {
  checkTimestamp(options.timestamp);
  const hash = createHash('sha256').update(data).digest('hex');
  const signature = sign('sha256', data, key).toString('hex');
  return `${hash}\nts: ${options.timestamp}\n${options.targetSoc ? `target-soc: ${options.targetSoc}\n` : ''}rsa2048: ${signature}\n`;
}

/** The bootconf.sig and pubkey.bin of a signed config (buildPieeprom's signConfig). */
export function configSigner(key: KeyObject, timestamp: number): (config: Uint8Array) => ConfigSignature {
  const pubkeyBin = pubkeyBinFor(key);
  return (config) => ({ bootconfSig: textEncoder.encode(makeSignedSig(config, key, { timestamp })), pubkeyBin });
}

export interface VerifiedSig {
  readonly sha256: string;
  readonly ts?: number;
  readonly targetSoc?: string;
}

/**
 * Checks `sigText` against `data` and the public key; throws
 * EEPROM_SIG_MISMATCH saying why when it does not verify.
 */
export function verifySignedSig(data: Uint8Array, sigText: string, key: KeyObject, names: { file: string; sig: string }): VerifiedSig {
  const sig = parsePieepromSig(sigText);
  const hash = createHash('sha256').update(data).digest('hex');
  if (sig.sha256 !== hash) {
    throw new BootcardError(
      EepromErrorCode.SIG_MISMATCH,
      `${names.sig} is not the signature of ${names.file}: its SHA-256 is ${sig.sha256}, the file's is ${hash} (another file, or the file was changed after signing).`,
      { expected: sig.sha256, actual: hash },
    );
  }
  if (!sig.rsa2048) {
    throw new BootcardError(EepromErrorCode.SIG_MISMATCH, `${names.sig} has no rsa2048 line: it is a checksum, not a signature (sign with --key).`);
  }
  if (!/^[0-9a-f]{512}$/i.test(sig.rsa2048) || !verify('sha256', data, key, Buffer.from(sig.rsa2048, 'hex'))) {
    throw new BootcardError(EepromErrorCode.SIG_MISMATCH, `The rsa2048 signature in ${names.sig} does not verify with this public key: it was made with another key, or the .sig was changed.`);
  }
  return { sha256: sig.sha256, ...(sig.ts !== undefined ? { ts: sig.ts } : {}), ...(sig.targetSoc ? { targetSoc: sig.targetSoc } : {}) };
}
