/**
 * Splits the bytes of the child's stdin into messages: JSON lines, where a
 * line may announce raw bytes that follow it (image data, sent as it is rather
 * than as base64). Pure; the caller feeds it chunks as they arrive.
 *
 * Every line and every payload has a cap, so a sender cannot make the reader
 * buffer more than that before it notices.
 */
export class FrameError extends Error {}

export interface FrameHandlers {
  /** One line (without its newline). Returns how many raw bytes follow it (0: none). */
  readonly line: (text: string) => number;
  /** The raw bytes announced by the line before. */
  readonly payload: (bytes: Uint8Array) => void;
}

const NEWLINE = 0x0a;

export class FrameDecoder {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private lineParts: Uint8Array[] = [];
  private lineLength = 0;
  private payload: Uint8Array | undefined;
  private payloadFilled = 0;
  private failed: FrameError | undefined;

  constructor(
    private readonly limits: { readonly maxLine: number; readonly maxPayload: number },
    private readonly handlers: FrameHandlers,
  ) {}

  /** True between messages (nothing half-received). */
  get idle(): boolean {
    return this.lineLength === 0 && this.payload === undefined;
  }

  /** Feeds one chunk; throws FrameError (and keeps failing) on a line or payload over its cap or a line that is not UTF-8. */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    try {
      this.consume(chunk);
    } catch (error) {
      this.failed = error instanceof FrameError ? error : new FrameError(String(error));
      throw this.failed;
    }
  }

  private consume(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.payload) {
        const n = Math.min(chunk.length - at, this.payload.length - this.payloadFilled);
        this.payload.set(chunk.subarray(at, at + n), this.payloadFilled);
        this.payloadFilled += n;
        at += n;
        if (this.payloadFilled === this.payload.length) {
          const done = this.payload;
          this.payload = undefined;
          this.handlers.payload(done);
        }
        continue;
      }
      const end = chunk.indexOf(NEWLINE, at);
      const piece = chunk.subarray(at, end === -1 ? chunk.length : end);
      if (this.lineLength + piece.length > this.limits.maxLine) {
        throw new FrameError(`a message is longer than ${this.limits.maxLine} bytes`);
      }
      if (piece.length) this.lineParts.push(piece.slice());
      this.lineLength += piece.length;
      if (end === -1) return;
      at = end + 1;
      this.takeLine();
    }
  }

  private takeLine(): void {
    const bytes = new Uint8Array(this.lineLength);
    let offset = 0;
    for (const part of this.lineParts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    this.lineParts = [];
    this.lineLength = 0;
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      throw new FrameError('a message is not UTF-8');
    }
    const follows = this.handlers.line(text);
    if (follows > this.limits.maxPayload) throw new FrameError(`a message announces ${follows} bytes of data; at most ${this.limits.maxPayload} may follow one`);
    if (follows > 0) {
      this.payload = new Uint8Array(follows);
      this.payloadFilled = 0;
    }
  }
}
