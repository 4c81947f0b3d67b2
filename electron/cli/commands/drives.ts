/**
 * `bootcard drives [--json] [--all] [--watch]` lists the cards bootcard could
 * write; `bootcard flash IMAGE --to DEV...` writes an image file to cards.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { enumerationPaths, listDrives, watchDrives, type DriveEvent } from '../../core/drives/enumerate.io.js';
import { driveConstraints } from '../../core/drives/constraints.js';
import type { Drive } from '../../core/drives/types.js';
import { toBootcardError } from '../../core/errors.js';
import { formatBytes } from '../../core/units.js';
import type { CliContext } from '../context.js';
import { addWriteTargetOptions, withFlashImage, writeToTargets, type WriteTargetOptions } from '../write-targets.js';
import { addStationOptions, checkStationOptions, runStation, type StationCliOptions } from '../station.js';

/** Short words for the reasons a drive can't be written (no image size known here, so no "too small"). */
function notes(drive: Drive): string {
  const words: string[] = [];
  if (drive.isSystem) words.push('SYSTEM');
  for (const c of driveConstraints(drive, { size: 0 }, { includeLoop: true, allowNonCard: false })) {
    if (c.code === 'DRIVE_MOUNTED') words.push(`mounted ${drive.mountpoints.join(',')}`);
    else if (c.code === 'DRIVE_WRITE_PROTECTED') words.push(drive.sd?.writeProtect?.permanent ? 'locked permanently' : 'locked');
    else if (c.code === 'DRIVE_READ_ONLY') words.push('read-only');
    else if (c.code === 'DRIVE_NO_MEDIA') words.push('no card');
    else if (c.code === 'DRIVE_NOT_CARD') words.push('not an SD card');
    else if (c.code === 'DRIVE_IN_USE') words.push('in use');
  }
  if (drive.isLoop) words.push('loop');
  return words.join(', ');
}

function table(drives: readonly Drive[]): string {
  const rows = [['DEVICE', 'SIZE', 'DESCRIPTION', 'SERIAL', 'NOTES'], ...drives.map((d) => [d.device, formatBytes(d.size), d.description, d.sd?.serial ?? '', notes(d)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function withProblems(drive: Drive) {
  return { ...drive, problems: driveConstraints(drive, { size: 0 }, {}) };
}

export function registerDrivesCommands(program: Command, ctx: CliContext): void {
  program
    .command('drives')
    .description('list the SD cards (and other disks) bootcard can write; system drives only with --all')
    .option('--json', 'print JSON (each drive with its problems)')
    .option('--all', 'also list system drives, loop devices and disks that are not SD cards')
    .option('--watch', 'keep running and report cards as they are inserted and removed (Ctrl-C stops)')
    .action(async (options: { json?: boolean; all?: boolean; watch?: boolean }) => {
      const paths = enumerationPaths(ctx.io.env);
      const shown = (d: Drive) => options.all || (!d.isSystem && !d.isLoop);
      if (options.watch) {
        await new Promise<void>((resolve) => {
          const stop = watchDrives(
            (event: DriveEvent) => {
              if (event.type !== 'detach' && !shown(event.drive)) return;
              if (options.json) ctx.print(JSON.stringify(event.type === 'detach' ? event : { type: event.type, drive: withProblems(event.drive) }));
              else if (event.type === 'detach') ctx.print(`removed   ${event.device}`);
              else ctx.print(`${event.type === 'attach' ? 'attached ' : 'changed  '} ${event.drive.device}  ${formatBytes(event.drive.size)}  ${event.drive.description}  ${notes(event.drive)}`);
            },
            { paths, includeLoop: Boolean(options.all), onError: (e) => ctx.warn(toBootcardError(e).message) },
          );
          process.once('SIGINT', () => {
            stop();
            resolve();
          });
        });
        return;
      }
      const drives = (await listDrives({ paths, includeLoop: Boolean(options.all) })).filter(shown);
      if (options.json) {
        ctx.printJson(drives.map(withProblems));
        return;
      }
      if (drives.length === 0) {
        ctx.print(options.all ? 'No drives found.' : 'No SD cards found. Insert a card (or use --all to see every disk).');
        return;
      }
      ctx.print(table(drives));
    });

  const flash = program
    .command('flash')
    .description('write a disk image file to one or more cards at once, then read each back to verify')
    .argument('<image>', 'a disk image: raw (.img), or compressed (.xz, .gz, .bz2, .zst, or a .zip holding one image; recognised by content)')
    .option('--json', 'print the per-card results as JSON');
  addStationOptions(addWriteTargetOptions(flash)).action(async (image: string, options: WriteTargetOptions & StationCliOptions) => {
    checkStationOptions(options);
    const file = path.resolve(ctx.io.cwd, image);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (error) {
      throw toBootcardError(error, `Cannot read the image ${image}`);
    }
    // A compressed image (by its first bytes) is decompressed once for every card; the cards get the raw image.
    await withFlashImage(file, size, ctx, async (raw) => {
      if (options.station) {
        await runStation({ size: raw.size, sourcePath: file, imageFor: () => ({ path: raw.path }) }, `${image} (${formatBytes(raw.size)})`, options, ctx);
        return;
      }
      await writeToTargets({ path: raw.path }, options, ctx);
    });
  });
}
