/**
 * What every CLI command gets: where to print, how to print JSON, how to ask.
 * Commands never touch process.stdout or process.exit themselves, so the whole
 * CLI runs in-process in tests.
 */
import { createInterface } from 'node:readline/promises';
import type { Readable } from 'node:stream';
import type { BootcardError } from '../core/errors.js';

export interface CliIO {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
  readonly stdin: Readable;
  /** True when stdin is a terminal a person can answer prompts on. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

export class CliContext {
  /** The command runs with --json: results and failures are JSON on stdout. */
  json = false;

  constructor(readonly io: CliIO) {}

  print(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Writes exactly these bytes/characters, no newline added (e.g. a config read back verbatim). */
  write(text: string): void {
    this.io.stdout.write(text);
  }

  warn(text: string): void {
    this.io.stderr.write(`bootcard: warning: ${text}\n`);
  }

  info(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  }

  /** A failure under --json: one object {code, message, details} on stdout, nothing else. */
  printError(error: BootcardError): void {
    this.printJson({ code: error.code, message: error.message, details: error.toJSON().details ?? {} });
  }

  /** Asks a yes/no question on the terminal; false when nobody can answer. `signal` abandons the question (rejects), closing the prompt so stdin is let go. */
  async confirm(question: string, signal?: AbortSignal): Promise<boolean> {
    if (!this.io.interactive) return false;
    const rl = createInterface({ input: this.io.stdin, output: this.io.stderr as NodeJS.WritableStream, terminal: false });
    try {
      const answer = await rl.question(`${question} [y/N] `, signal ? { signal } : {});
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }
}
