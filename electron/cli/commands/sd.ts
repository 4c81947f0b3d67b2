/**
 * `bootcard sd status|lock|unlock|permlock DEV`: the SD card's CSD write-protect bits.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';
import {
  PERMANENT_LOCK_CONFIRMATION,
  type SdLockChange,
  type SdLockState,
  type SdLockStatus,
} from '../../core/sdlock/sdlock.io.js';
import { runSdLockOperation, type SdLockOperationOptions } from '../../core/writer/sdlock-client.io.js';

const STATE_WORDS: Record<SdLockState, string> = {
  off: 'not write-protected',
  temporary: 'write-protected (temporary: `bootcard sd unlock` removes it)',
  permanent: 'PERMANENTLY write-protected (this can never be undone)',
};

function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${bytes} bytes`;
}

function describeStatus(status: SdLockStatus): string {
  const { csd } = status;
  const bit = (on: boolean) => (on ? '1' : '0');
  return [
    `${status.device}: ${STATE_WORDS[status.state]}`,
    `  card    ${status.mmcDevice} (${status.cardType ?? 'type unknown'}, RCA 0x${status.rca.toString(16).padStart(4, '0')})`,
    `  CSD     version ${csd.version}, capacity ${formatBytes(csd.capacityBytes)} (${csd.capacityBytes} bytes)`,
    `  bits    COPY=${bit(csd.copy)} PERM_WRITE_PROTECT=${bit(csd.permWriteProtect)} TMP_WRITE_PROTECT=${bit(csd.tmpWriteProtect)}`,
    `  raw     ${csd.hex}`,
  ].join('\n');
}

function report(ctx: CliContext, change: SdLockChange, json: boolean | undefined, done: string, already: string): void {
  if (json) {
    ctx.printJson(change);
    return;
  }
  ctx.print(change.changed ? `${change.device}: ${done} (read back and verified).` : `${change.device}: ${already}; nothing to do.`);
  ctx.print(describeStatus(change));
}

/** As root the card is reached here; as a user through the privileged child (pkexec asks for the password). */
function lockOptions(ctx: CliContext, options: { allowMounted?: boolean }): SdLockOperationOptions {
  const sysfsRoot = ctx.io.env.BOOTCARD_SYSFS;
  return { env: ctx.io.env, ...(sysfsRoot ? { sysfsRoot } : {}), allowMounted: Boolean(options.allowMounted) };
}

export function registerSdCommands(program: Command, ctx: CliContext): void {
  const sd = program
    .command('sd')
    .description('SD card write protection (the CSD register\'s write-protect bits, set with CMD27)')
    .addHelpText(
      'after',
      '\nNeeds a card in a built-in SD slot (/dev/mmcblkN); USB card readers cannot pass the command.\n' +
        'Card commands need administrator rights: run as a user, bootcard asks for your password (pkexec), as it does to write cards.\n' +
        'lock/unlock toggle TMP_WRITE_PROTECT; permlock sets PERM_WRITE_PROTECT, which can never be undone.',
    );

  sd.command('status')
    .description('show whether the card is write-protected, with its decoded CSD')
    .argument('<device>', 'the whole card, e.g. /dev/mmcblk0')
    .option('--json', 'print JSON')
    .action(async (device: string, options: { json?: boolean }) => {
      const status = await runSdLockOperation('status', device, lockOptions(ctx, {}));
      if (options.json) ctx.printJson(status);
      else ctx.print(describeStatus(status));
    });

  sd.command('lock')
    .description('write-protect the card (TMP_WRITE_PROTECT); `sd unlock` undoes it')
    .argument('<device>', 'the whole card, e.g. /dev/mmcblk0')
    .option('--allow-mounted', 'lock even if a partition of the card is mounted')
    .option('--json', 'print JSON')
    .action(async (device: string, options: { json?: boolean; allowMounted?: boolean }) => {
      const change = await runSdLockOperation('lock', device, lockOptions(ctx, options));
      report(ctx, change, options.json, 'write-protected', change.state === 'permanent' ? 'already permanently write-protected' : 'already write-protected');
    });

  sd.command('unlock')
    .description('remove the temporary write protection')
    .argument('<device>', 'the whole card, e.g. /dev/mmcblk0')
    .option('--json', 'print JSON')
    .action(async (device: string, options: { json?: boolean }) => {
      const change = await runSdLockOperation('unlock', device, lockOptions(ctx, {}));
      report(ctx, change, options.json, 'write protection removed', 'not write-protected');
    });

  sd.command('permlock')
    .description('PERMANENTLY write-protect the card (PERM_WRITE_PROTECT); this can never be undone')
    .argument('<device>', 'the whole card, e.g. /dev/mmcblk0')
    .option('--yes-permanently', 'confirm that the card will stay read-only forever')
    .option('--allow-mounted', 'lock even if a partition of the card is mounted')
    .option('--json', 'print JSON')
    .action(async (device: string, options: { json?: boolean; yesPermanently?: boolean; allowMounted?: boolean }) => {
      if (!options.yesPermanently) {
        throw usageError(
          `permlock makes ${device} read-only forever; no command, tool or device can ever undo it. If that is what you want, add --yes-permanently.`,
        );
      }
      const change = await runSdLockOperation('permlock', device, { ...lockOptions(ctx, options), confirm: PERMANENT_LOCK_CONFIRMATION });
      report(ctx, change, options.json, 'PERMANENTLY write-protected; this can never be undone', 'already permanently write-protected');
    });
}
