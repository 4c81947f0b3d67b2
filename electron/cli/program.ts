/**
 * The `bootcard` command line: builds the commander program from the commands
 * each feature registers, and maps outcomes to exit codes:
 * 0 success, 1 a failure the user can fix (the message says how), 2 a usage error.
 */
import { Command, CommanderError } from 'commander';
import { BootcardError, CommonErrorCode, toBootcardError } from '../core/errors.js';
import { BOOTCARD_VERSION } from '../core/version.io.js';
import { CliContext, type CliIO } from './context.js';
import { registerCommands } from './command-loader.js';
import { addProfileOption, expandProfileOption } from './profile-option.js';

export const ExitCode = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** `argv` picks the one command module to load (`all`: every one, e.g. to compare their help with the table's). */
export async function buildProgram(ctx: CliContext, argv: readonly string[] = [], options: { readonly all?: boolean } = {}): Promise<Command> {
  const program = new Command('bootcard')
    .description('Prepare Raspberry Pi network-boot SD cards and bootloader EEPROM images.')
    .version(BOOTCARD_VERSION, '-V, --version', 'print the bootcard version')
    .showHelpAfterError('(run with --help for usage)')
    // Program options only before the command: `bootcard card uefi --version v1.34` is the firmware's version.
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
    })
    .exitOverride();
  program.helpCommand(true);
  // The command that runs decides the error's form: with --json a failure is one JSON object on stdout.
  program.hook('preAction', (_program, action) => {
    ctx.json = action.opts<{ json?: unknown }>().json === true;
  });
  await registerCommands(program, ctx, argv, options);
  // Every subcommand inherits the same output and exit handling.
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride().configureOutput({
        writeOut: (s) => ctx.io.stdout.write(s),
        writeErr: (s) => ctx.io.stderr.write(s),
      }).showHelpAfterError('(run with --help for usage)');
      configure(sub);
    }
  };
  configure(program);
  addProfileOption(program);
  return program;
}

/** Runs the CLI with these arguments (without `node` and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const ctx = new CliContext(io);
  const program = await buildProgram(ctx, argv);
  // A usage error stops before any action runs, so --json is read from the words (options end at `--`).
  const optionWords = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  ctx.json = optionWords.includes('--json');
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.USAGE;
  }
  try {
    await program.parseAsync(await expandProfileOption(argv, io.env), { from: 'user' });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return ExitCode.OK;
      }
      // commander has printed its words on stderr; a script reading --json gets the same failure as an object.
      if (ctx.json) ctx.printError(new BootcardError(CommonErrorCode.USAGE, error.message.replace(/^error: /, ''), { commander: error.code }));
      return ExitCode.USAGE;
    }
    const failure = toBootcardError(error);
    if (ctx.json) ctx.printError(failure);
    else io.stderr.write(`bootcard: error: ${failure.message}\n`);
    return failure.code === CommonErrorCode.USAGE ? ExitCode.USAGE : ExitCode.FAILURE;
  }
}

/** For commands: a usage error found after parsing (e.g. two options that exclude each other). */
export function usageError(message: string): BootcardError {
  return new BootcardError(CommonErrorCode.USAGE, message);
}
