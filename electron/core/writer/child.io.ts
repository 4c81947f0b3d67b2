/**
 * The privileged writer child: reads one `write` message from stdin, writes,
 * streams progress and results to stdout, exits; or reads one `sdlock`
 * message, checks its card and changes (or reads) its write protection. Runs as root (directly, or
 * through pkexec). It validates every message and hands the targets to the
 * engine, which re-checks each one itself before opening it. Closing stdin (the
 * parent died) or a `cancel` message cancels the write.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { runWrite } from './engine.io.js';
import { encodeMessage, imageFromWire, parentMessageSchema, type ChildMessage } from './protocol.js';
import { performSdLockRequest } from './sdlock-request.io.js';

/** `onBehalfOfUid`: the invoking user when started through pkexec ($PKEXEC_UID). */
export async function runWriterChild(input: Readable, output: Writable, options: { onBehalfOfUid?: number } = {}): Promise<number> {
  const send = (message: ChildMessage) => output.write(encodeMessage(message));
  const controller = new AbortController();
  let started: Promise<number> | undefined;
  send({ type: 'ready', pid: process.pid, uid: process.getuid?.() ?? -1 });

  const fatal = (error: BootcardError) => {
    send({ type: 'fatal', error: error.toJSON() });
    controller.abort();
    return 2;
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  return new Promise<number>((resolve) => {
    lines.on('line', (line) => {
      if (!line.trim()) return;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        resolve(fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, 'The writer received a message that is not JSON.')));
        return;
      }
      const parsed = parentMessageSchema.safeParse(json);
      if (!parsed.success) {
        resolve(fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, `The writer received an invalid message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`)));
        return;
      }
      const message = parsed.data;
      if (message.type === 'cancel') {
        controller.abort();
        return;
      }
      if (started) {
        resolve(fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, 'The writer takes one request per run.')));
        return;
      }
      if (message.type === 'sdlock') {
        // One short card command sequence: a cancel cannot stop it, so it runs to the end.
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
        void started.then(resolve);
        return;
      }
      started = runWrite({
        image: imageFromWire(message.image),
        targets: message.targets,
        verify: message.verify,
        includeLoop: message.includeLoop,
        allowNonCard: message.allowNonCard,
        lockAfterVerify: message.lockAfterVerify,
        signal: controller.signal,
        onProgress: (progress) => send({ type: 'progress', progress }),
        onResult: (result) => send({ type: 'result', result }),
      }, options.onBehalfOfUid === undefined ? {} : { onBehalfOfUid: options.onBehalfOfUid }).then(
        (results) => {
          send({ type: 'done', results });
          return 0;
        },
        (error: unknown) => {
          send({ type: 'fatal', error: toBootcardError(error, 'The writer failed').toJSON() });
          return 1;
        },
      );
      void started.then(resolve);
    });
    lines.on('close', () => {
      // The parent went away: stop writing (each card reports itself incomplete).
      controller.abort();
      if (!started) resolve(fatal(new BootcardError(CommonErrorCode.INVALID_REQUEST, 'The writer received no request.')));
    });
  });
}
