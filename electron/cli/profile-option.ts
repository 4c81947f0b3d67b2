/**
 * `--profile NAME` on the commands that take the wizard's settings (card
 * recovery, card uefi, eeprom build): the profile saved in the wizard stands
 * for its options. It is expanded before commander parses, into the options
 * it stands for, placed before the ones typed, so a typed option still wins
 * (`--profile "rack A" --set TFTP_IP=10.0.0.9`).
 */
import type { Command } from 'commander';
import { BootcardError, CommonErrorCode } from '../core/errors.js';
import type { ProfileCommand } from '../core/profiles/profile.js';

const PROFILE_COMMANDS: readonly ProfileCommand[] = ['card recovery', 'card uefi', 'eeprom build'];

/** Documents --profile in each command's --help (the value never reaches commander: it is expanded first). */
export function addProfileOption(program: Command): void {
  for (const words of PROFILE_COMMANDS) {
    const [group, name] = words.split(' ');
    const command = program.commands.find((c) => c.name() === group)?.commands.find((c) => c.name() === name);
    command?.option('--profile <name>', 'start from the settings of a profile saved in the wizard ($XDG_CONFIG_HOME/bootcard/profiles); options given after it win');
  }
}

/** `argv` with `--profile NAME` replaced by the options the profile stands for. */
export async function expandProfileOption(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  const at = argv.slice(0, end).findIndex((w) => w === '--profile' || w.startsWith('--profile='));
  if (at < 0) return [...argv];
  const word = argv[at]!;
  const name = word.includes('=') ? word.slice(word.indexOf('=') + 1) : argv[at + 1];
  const taken = word.includes('=') ? 1 : 2;
  const command = PROFILE_COMMANDS.find((c) => argv.slice(0, 2).join(' ') === c);
  if (!command) {
    throw new BootcardError(CommonErrorCode.USAGE, `--profile works with ${PROFILE_COMMANDS.map((c) => `bootcard ${c}`).join(', ')}.`);
  }
  if (name === undefined || name === '' || name.startsWith('--')) throw new BootcardError(CommonErrorCode.USAGE, '--profile needs the name of a profile, e.g. --profile "rack A netboot".');
  if (argv.slice(at + taken, end).some((w) => w === '--profile' || w.startsWith('--profile='))) {
    throw new BootcardError(CommonErrorCode.USAGE, 'Give --profile once.');
  }
  // Loaded only when a command names a profile: every other start stays light (zod, the store).
  const [{ profileOptions }, { bootcardConfigDir, profileStore }] = await Promise.all([import('../core/profiles/profile.js'), import('../core/profiles/store.io.js')]);
  const profile = await profileStore(bootcardConfigDir(env)).load(name);
  return [...argv.slice(0, 2), ...profileOptions(profile, command), ...argv.slice(2, at), ...argv.slice(at + taken)];
}
