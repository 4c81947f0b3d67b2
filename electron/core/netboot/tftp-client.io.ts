/**
 * A TFTP client for reading files (RRQ only): RFC 1350 with the option
 * extension (RFC 2347), blksize (RFC 2348) and tsize (RFC 2349), which is what
 * the Pi's bootloader uses (it asks for 1024-byte blocks since 2019).
 *
 * Written here rather than taken from npm: the TFTP packages on the registry
 * (`tftp`, `tftp-client`) have had no release for years, bring a server and
 * streams bootcard does not need, and none tells "file not found" (the answer
 * the check is about) apart from other failures in a typed way. A read-only
 * client is one small state machine.
 *
 * Packets: RRQ  | 01 | filename 0 | "octet" 0 | opt 0 | value 0 | ...
 *          DATA | 03 | block (u16) | 0..blksize bytes      (last one shorter)
 *          ACK  | 04 | block (u16)
 *          ERROR| 05 | code (u16)  | message 0              (code 1: file not found)
 *          OACK | 06 | opt 0 | value 0 | ...                 (answered with ACK 0)
 * The server answers from a new port (its transfer ID); packets from any
 * other port are ignored.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { BootcardError } from '../errors.js';
import { NetbootErrorCode } from './errors.js';

const RRQ = 1;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;
const ERROR_FILE_NOT_FOUND = 1;
const DEFAULT_BLOCK = 512;

export interface TftpGetOptions {
  readonly port?: number;
  /** Wait this long for each answer before sending again. */
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly blockSize?: number;
  /** Refuse files larger than this (default 512 MiB). */
  readonly maxBytes?: number;
}

export interface TftpFile {
  readonly bytes: Uint8Array;
  /** The block size the server agreed to (512 when it ignored the option). */
  readonly blockSize: number;
}

function cString(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from([0])]);
}

function readStrings(buf: Buffer, from: number): string[] {
  const out: string[] = [];
  let at = from;
  while (at < buf.length) {
    let end = buf.indexOf(0, at);
    if (end < 0) end = buf.length;
    out.push(buf.toString('latin1', at, end));
    at = end + 1;
  }
  return out;
}

function ack(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

function failure(host: string, file: string, why: string): BootcardError {
  return new BootcardError(NetbootErrorCode.TFTP_FAILED, `TFTP ${host}: reading ${file} failed: ${why}.`, { host, file });
}

/** Reads `file` from the TFTP server at `host`; null when the server says it has no such file. */
export function tftpGet(host: string, file: string, options: TftpGetOptions = {}): Promise<TftpFile | null> {
  const port = options.port ?? 69;
  const timeoutMs = options.timeoutMs ?? 2000;
  const retries = options.retries ?? 5;
  const wantedBlock = options.blockSize ?? 1024;
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  const socket: Socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const request = Buffer.concat([Buffer.from([0, RRQ]), cString(file), cString('octet'), cString('blksize'), cString(String(wantedBlock)), cString('tsize'), cString('0')]);

  return new Promise<TftpFile | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let blockSize = DEFAULT_BLOCK;
    let expected = 1;
    let server: { address: string; port: number } | null = null;
    let last: { packet: Buffer; to: { address: string; port: number } } = { packet: request, to: { address: host, port } };
    let attempts = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;

    const finish = (error: BootcardError | null, value?: TftpFile | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    const send = (packet: Buffer, to: { address: string; port: number }) => {
      last = { packet, to };
      socket.send(packet, to.port, to.address, (error) => {
        if (error) finish(failure(host, file, error.message));
      });
      clearTimeout(timer);
      timer = setTimeout(onTimeout, timeoutMs);
    };
    const onTimeout = () => {
      if (++attempts > retries) {
        finish(failure(host, file, `no answer after ${retries + 1} tries (is a TFTP server running on ${host}:${port}?)`));
        return;
      }
      send(last.packet, last.to);
    };

    socket.on('error', (error) => finish(failure(host, file, error.message)));
    socket.on('message', (msg: Buffer, from: RemoteInfo) => {
      if (msg.length < 4) return;
      if (server && (from.address !== server.address || from.port !== server.port)) return;
      if (!server) server = { address: from.address, port: from.port };
      attempts = 0;
      const op = msg.readUInt16BE(0);
      if (op === ERROR) {
        const code = msg.readUInt16BE(2);
        if (code === ERROR_FILE_NOT_FOUND) finish(null, null);
        else finish(failure(host, file, `the server answered error ${code} (${readStrings(msg, 4)[0] ?? ''})`));
        return;
      }
      if (op === OACK) {
        const pairs = readStrings(msg, 2);
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          if (pairs[i]!.toLowerCase() === 'blksize') blockSize = Number(pairs[i + 1]);
          if (pairs[i]!.toLowerCase() === 'tsize' && Number(pairs[i + 1]) > maxBytes) {
            finish(failure(host, file, `the file is ${pairs[i + 1]} bytes, more than bootcard reads`));
            return;
          }
        }
        if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize > 65464) {
          finish(failure(host, file, `the server chose an invalid block size ${blockSize}`));
          return;
        }
        send(ack(0), server);
        return;
      }
      if (op !== DATA) {
        finish(failure(host, file, `unexpected packet type ${op}`));
        return;
      }
      const block = msg.readUInt16BE(2);
      if (block === ((expected - 1) & 0xffff)) {
        send(ack(block), server); // our ACK was lost: say it again
        return;
      }
      if (block !== (expected & 0xffff)) return;
      const data = msg.subarray(4);
      received += data.length;
      if (received > maxBytes) {
        finish(failure(host, file, 'the file is larger than bootcard reads'));
        return;
      }
      chunks.push(Buffer.from(data));
      expected++;
      if (data.length < blockSize) {
        // The last ACK: sent once, the transfer is over for us either way.
        socket.send(ack(block), server.port, server.address, () => finish(null, { bytes: new Uint8Array(Buffer.concat(chunks)), blockSize }));
        return;
      }
      send(ack(block), server);
    });
    send(request, { address: host, port });
  });
}
