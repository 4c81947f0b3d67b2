/**
 * The privileged writer child: reads one `write` message from stdin, writes,
 * streams progress and results to stdout, exits; or reads one `sdlock`
 * message, checks its card and changes (or reads) its write protection. Runs as
 * root (directly, or through pkexec). It validates every message and hands the
 * targets to the engine, which re-checks each one itself before opening it.
 *
 * It opens no image file: an image file's bytes are pulled from the parent
 * (`read` -> `data`), which opened it with the user's rights.
 *
 * It always ends, and soon: a `cancel` message, stdin closing, stdout breaking
 * or the parent process going away (checked every second, for a parent whose
 * pipe someone else holds open) cancel the write, and CANCEL_DEADLINE_MS after
 * a cancel it gives up waiting for the engine (an I/O call that hangs) and
 * returns, so child-main can exit.
 */
import type { Readable, Writable } from 'node:stream';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { runWrite } from './engine.io.js';
import { FrameDecoder, FrameError } from './frames.js';
import { LOOP_THROUGH_PKEXEC_REFUSAL } from './privilege.js';
import { encodeMessage, imageFromWire, MAX_MESSAGE_LINE, MAX_READ, parentMessageSchema, type ChildMessage } from './protocol.js';
import { performSdLockRequest } from './sdlock-request.io.js';
import { WriteErrorCode, type StreamSource } from './types.js';

/** How long the child waits for the engine after a cancel before it stops anyway. */
export const CANCEL_DEADLINE_MS = 5000;
const PARENT_CHECK_MS = 1000;

export interface WriterChildOptions {
  /** The invoking user when started through pkexec ($PKEXEC_UID). */
  readonly onBehalfOfUid?: number;
  /** The parent's pid at start; when process.ppid changes, the parent died and the child cancels. */
  readonly parentPid?: number;
  readonly cancelDeadlineMs?: number;
  /** The engine; tests hand in one that ignores the cancel, to see the deadline end the child anyway. */
  readonly write?: typeof runWrite;
}

/**
 * Chunks kept after they arrived: cards written side by side ask for the same
 * ranges moments apart, and each range then crosses the pipe once, not once
 * per card (24 MiB at 4 MiB chunks).
 */
const SHARED_CHUNKS = 6;
/**
 * Whole chunks asked for ahead of a sequential reader (the checksum pass, each
 * card's write): the next ones are on their way while this one is used, instead
 * of one round trip per chunk.
 */
const READ_AHEAD = 2;

/** The child's side of image reads: asks the parent for byte ranges and waits for the answers. */
class ImagePuller {
  private readonly pending = new Map<number, { length: number; resolve: (bytes: Uint8Array) => void; reject: (error: Error) => void }>();
  private readonly recent = new Map<string, Promise<Uint8Array>>();
  private nextId = 0;
  private failure: BootcardError | undefined;
  private size = 0;

  constructor(private readonly send: (message: ChildMessage) => void) {}

  /** The image's size, once the write message said it: reading ahead stops there. */
  limit(size: number): void {
    this.size = size;
  }

  readonly read: StreamSource['read'] = async (buffer, bufferOffset, length, position) => {
    for (let done = 0; done < length; ) {
      const n = Math.min(MAX_READ, length - done);
      const bytes = await this.shared(position + done, n);
      buffer.set(bytes, bufferOffset + done);
      done += n;
    }
  };

  private shared(offset: number, length: number): Promise<Uint8Array> {
    const chunk = this.chunk(offset, length, true);
    if (length === MAX_READ) {
      for (let k = 1; k <= READ_AHEAD && offset + k * length < this.size; k++) {
        const next = offset + k * length;
        this.chunk(next, Math.min(length, this.size - next), false);
      }
    }
    return chunk;
  }

  /** The chunk at `offset`, asked for unless it is here or on its way; `use` marks it most recently used. */
  private chunk(offset: number, length: number, use: boolean): Promise<Uint8Array> {
    const key = `${offset}:${length}`;
    let chunk = this.recent.get(key);
    if (chunk && !use) return chunk;
    if (chunk) {
      this.recent.delete(key);
    } else {
      const asked = this.request(offset, length);
      chunk = asked;
      // A failed read is not kept: the next card asks again.
      asked.catch(() => this.recent.get(key) === asked && this.recent.delete(key));
    }
    this.recent.set(key, chunk);
    while (this.recent.size > SHARED_CHUNKS) this.recent.delete(this.recent.keys().next().value!);
    return chunk;
  }

  private request(offset: number, length: number): Promise<Uint8Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { length, resolve, reject });
      this.send({ type: 'read', id, offset, length });
    });
  }

  /** The length of the bytes that answer `id`, or a protocol error for an answer nobody asked for. */
  expect(id: number, length: number): void {
    // After a cancel, answers to the reads it dropped may still be on their way: they are read and discarded.
    if (this.failure && id < this.nextId) return;
    const waiting = this.pending.get(id);
    if (!waiting || waiting.length !== length) {
      throw new BootcardError(CommonErrorCode.INVALID_REQUEST, `The writer received ${length} image bytes it did not ask for (read ${id}).`);
    }
  }

  answer(id: number, bytes: Uint8Array): void {
    const waiting = this.pending.get(id);
    this.pending.delete(id);
    waiting?.resolve(bytes);
  }

  refuse(id: number, error: BootcardError): void {
    const waiting = this.pending.get(id);
    this.pending.delete(id);
    waiting?.reject(error);
  }

  /** No more answers will come: every read waiting and every later one fails with `error`. */
  close(error: BootcardError): void {
    this.failure ??= error;
    this.recent.clear();
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }
}

export async function runWriterChild(input: Readable, output: Writable, options: WriterChildOptions = {}): Promise<number> {
  const controller = new AbortController();
  let outputBroken = false;
  const send = (message: ChildMessage) => {
    if (outputBroken) return;
    output.write(encodeMessage(message));
  };
  // A parent that died mid-write breaks the pipe: that is a cancel, not a crash.
  const onOutputError = () => {
    outputBroken = true;
    controller.abort();
  };
  output.on('error', onOutputError);
  const puller = new ImagePuller(send);
  let started: Promise<number> | undefined;
  let sdlock = false;
  send({ type: 'ready', pid: process.pid, uid: process.getuid?.() ?? -1 });

  return new Promise<number>((resolve) => {
    let deadline: NodeJS.Timeout | undefined;
    let parentWatch: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      clearInterval(parentWatch);
      input.off('data', onData);
      input.off('end', onInputEnd);
      input.off('close', onInputEnd);
      input.off('error', onInputEnd);
      output.off('error', onOutputError);
      // The last words (a fatal, the results) may still meet a pipe the parent closed: that EPIPE arrives after this,
      // and with no listener it would crash the child through a dependency's rethrowing handler instead of letting it exit.
      output.on('error', () => undefined);
      resolve(code);
    };
    const fatal = (error: BootcardError) => {
      send({ type: 'fatal', error: error.toJSON() });
      controller.abort();
      finish(2);
    };

    controller.signal.addEventListener('abort', () => {
      puller.close(new BootcardError(WriteErrorCode.CANCELLED, 'Cancelled: the image stopped arriving; every card being written is incomplete.'));
      // The engine ends every card within moments of a cancel; an I/O call that hangs must not keep root running.
      // An SD write-protect change is a few card commands that must not be cut apart, and it is short: no deadline there.
      if (sdlock) return;
      deadline = setTimeout(() => {
        send({
          type: 'fatal',
          error: new BootcardError(WriteErrorCode.CANCELLED, 'Cancelled: the writer stopped before every card had finished; every card it was writing is incomplete. Write them again.').toJSON(),
        });
        finish(1);
      }, options.cancelDeadlineMs ?? CANCEL_DEADLINE_MS);
    }, { once: true });

    if (options.parentPid !== undefined) {
      parentWatch = setInterval(() => {
        if (process.ppid !== options.parentPid) onParentGone();
      }, PARENT_CHECK_MS);
      parentWatch.unref();
    }

    const onMessage = (line: string): number => {
      if (!line.trim()) return 0;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, 'The writer received a message that is not JSON.'));
        return 0;
      }
      const parsed = parentMessageSchema.safeParse(json);
      if (!parsed.success) {
        fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, `The writer received an invalid message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`));
        return 0;
      }
      const message = parsed.data;
      switch (message.type) {
        case 'cancel':
          controller.abort();
          return 0;
        case 'data':
          pendingAnswer = message.id;
          puller.expect(message.id, message.length);
          if (message.length === 0) puller.answer(message.id, new Uint8Array(0));
          return message.length;
        case 'read-failed':
          puller.refuse(message.id, BootcardError.fromJSON(message.error));
          return 0;
        default:
          break;
      }
      if (started) {
        fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, 'The writer takes one request per run.'));
        return 0;
      }
      if (message.type === 'sdlock') {
        // One short card command sequence: a cancel cannot stop it, so it runs to the end.
        sdlock = true;
        started = performSdLockRequest(message).then(
          (result) => {
            send({ type: 'sdlock-result', result });
            return 0;
          },
          (error: unknown) => {
            send({ type: 'fatal', error: toBootcardError(error, 'SD write-protect failed').toJSON() });
            return 1;
          },
        );
        void started.then(finish);
        return 0;
      }
      if (options.onBehalfOfUid !== undefined && message.includeLoop) {
        // Loop devices are a test mode: what they are backed by is whatever file the user picked, so root never writes them for a user.
        fatal(new BootcardError(WriteErrorCode.REFUSED, LOOP_THROUGH_PKEXEC_REFUSAL));
        return 0;
      }
      if (message.image.kind === 'stream') puller.limit(message.image.size);
      started = (options.write ?? runWrite)(
        {
          image: imageFromWire(message.image, puller.read),
          targets: message.targets,
          verify: message.verify,
          includeLoop: message.includeLoop,
          allowNonCard: message.allowNonCard,
          lockAfterVerify: message.lockAfterVerify,
          signal: controller.signal,
          onProgress: (progress) => send({ type: 'progress', progress }),
          onResult: (result) => send({ type: 'result', result }),
        },
        options.onBehalfOfUid === undefined ? {} : { onBehalfOfUid: options.onBehalfOfUid },
      ).then(
        (results) => {
          send({ type: 'done', results });
          return 0;
        },
        (error: unknown) => {
          send({ type: 'fatal', error: toBootcardError(error, 'The writer failed').toJSON() });
          return 1;
        },
      );
      void started.then(finish);
      return 0;
    };

    let pendingAnswer = -1;
    const decoder = new FrameDecoder(
      { maxLine: MAX_MESSAGE_LINE, maxPayload: MAX_READ },
      { line: onMessage, payload: (bytes) => puller.answer(pendingAnswer, bytes) },
    );
    const onData = (chunk: Buffer) => {
      if (finished) return;
      try {
        decoder.push(chunk);
      } catch (error) {
        if (error instanceof FrameError) fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, `The writer received a malformed message: ${error.message}.`));
        else fatal(toBootcardError(error, 'The writer received a bad message'));
      }
    };
    // The parent went away (or closed our input): stop writing; each card reports itself incomplete.
    const onParentGone = () => {
      controller.abort();
      if (!started) fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, 'The writer received no request.'));
    };
    const onInputEnd = onParentGone;
    input.on('data', onData);
    input.once('end', onInputEnd);
    input.once('close', onInputEnd);
    input.once('error', onInputEnd);
  });
}
