/**
 * Registers the command modules of commands/index.ts on the program: the one a
 * command line runs is imported and registered for real; every other command
 * is only its name and one line of help, so a start pays for one module, and
 * `bootcard --help` for none.
 */
import { Help, type Command } from 'commander';
import type { CliContext } from './context.js';
import { commandModules, type CommandModule } from './commands/index.js';

/**
 * The top-level command a command line runs (`help X` asks about X), or
 * undefined for none. The program's own options (-V, -h) take no value, so
 * its first word that is not an option is the command.
 */
export function commandWordOf(argv: readonly string[]): string | undefined {
  const words = argv.slice(0, argv.includes('--') ? argv.indexOf('--') : argv.length).filter((w) => !w.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** The modules to import for this command word: its own, or every one (`all`). */
export function modulesToLoad(word: string | undefined, all = false): CommandModule[] {
  return commandModules.filter((m) => all || (word !== undefined && m.help.some((h) => h.name === word)));
}

export async function registerCommands(program: Command, ctx: CliContext, argv: readonly string[], options: { readonly all?: boolean } = {}): Promise<void> {
  const loaded = new Set(modulesToLoad(commandWordOf(argv), options.all));
  const registrars = new Map(await Promise.all([...loaded].map(async (m) => [m, await m.load()] as const)));
  const terms = new Map<Command, string>();
  // In the table's order, so the help lists the commands as the loaded modules would.
  for (const module of commandModules) {
    const register = registrars.get(module);
    if (register) {
      register(program, ctx);
      continue;
    }
    for (const help of module.help) terms.set(program.command(help.name).description(help.description), help.term);
  }
  if (terms.size === 0) return;
  const defaultTerm = Help.prototype.subcommandTerm;
  program.configureHelp({
    subcommandTerm(this: Help, cmd: Command): string {
      return terms.get(cmd) ?? defaultTerm.call(this, cmd);
    },
  });
}
