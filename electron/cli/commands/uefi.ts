/**
 * `bootcard uefi vars list|set|delete FILE`: the UEFI variables kept inside a pftf RPI_EFI.fd (its
 * NVRAM), read from the file, a card image or a card, and changed offline in the file.
 */
import path from 'node:path';
import { bytesToHex } from '@noble/hashes/utils';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';
import { addUefiSettingsOptions, uefiSettingsFromOptions, type UefiSettingsOptions } from '../uefi-options.js';
import { KnownGuid, guidToBytes } from '../../core/uefi/guid.js';
import { editUefiVariables, listUefiVariables, readNvram, type UefiVariableInfo } from '../../core/uefi/nvram.js';
import { applyUefiSettings, readUefiSettings } from '../../core/uefi/settings.js';
import { readFirmwareSource, writeFirmwareFile } from '../../core/uefi/firmware-file.io.js';
import { assertOutputFile } from '../outputs.js';

function variableJson(v: UefiVariableInfo) {
  return { ...v, data: bytesToHex(v.data) };
}

function variableLine(v: UefiVariableInfo): string {
  const value = v.value ?? (v.data.length <= 16 ? `0x${bytesToHex(v.data)}` : `${v.data.length} bytes`);
  const guid = v.guidName ? `${v.guid} (${v.guidName})` : v.guid;
  return `  ${v.name.padEnd(24)} ${value}\n  ${''.padEnd(24)} ${guid}  ${v.attributeNames}`;
}

export function registerUefiCommands(program: Command, ctx: CliContext): void {
  const uefi = program.command('uefi').description('UEFI firmware settings stored in RPI_EFI.fd (the pftf/RPi4 firmware\'s NVRAM)');
  const vars = uefi.command('vars').description('list or change the UEFI variables inside RPI_EFI.fd');
  const resolve = (file: string) => path.resolve(ctx.io.cwd, file);

  vars
    .command('list')
    .description('list the UEFI variables in an RPI_EFI.fd, a card image or a card')
    .argument('<file>', 'RPI_EFI.fd (or an edk2 VARS .fd), a card image (.img), or a card (/dev/sdX)')
    .option('--all', 'also list deleted copies')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { json?: boolean; all?: boolean }) => {
      const source = await readFirmwareSource(resolve(file));
      const listing = listUefiVariables(source.fd);
      const shown = options.all ? listing.variables : listing.variables.filter((v) => v.live);
      if (options.json) {
        ctx.printJson({ file, source: source.kind, ...listing, settings: readUefiSettings(source.fd), variables: shown.map(variableJson) });
        return;
      }
      const where = source.kind === 'card' ? `${file} (RPI_EFI.fd on the card)` : file;
      ctx.print(`${where}: ${listing.storeFormat} variable store at 0x${listing.storeOffset.toString(16)} (${listing.releases ?? listing.layout}), ${listing.freeBytes} bytes free`);
      if (listing.ftwPendingWrite) ctx.warn('the firmware has an unfinished fault-tolerant write queued; bootcard will not change this store.');
      if (!listing.freeSpaceErased) ctx.warn('the free space after the last variable is not erased; bootcard will not change this store.');
      if (listing.variables.length === 0) ctx.print('  (no variables: the firmware has not booted with this file yet, so it uses its defaults)');
      else if (shown.length === 0) ctx.print('  (no live variables; --all lists the deleted copies)');
      for (const v of shown) ctx.print(`${variableLine(v)}${v.live ? '' : `  [${v.status}]`}`);
    });

  addUefiSettingsOptions(
    vars
      .command('set')
      .description('write UEFI settings into an RPI_EFI.fd (in place, or to --output)')
      .argument('<file>', 'RPI_EFI.fd to change')
      .option('-o, --output <file>', 'write the result here instead of changing FILE'),
  )
    .option('--json', 'print JSON')
    .action(async (file: string, options: UefiSettingsOptions & { output?: string; json?: boolean }) => {
      const settings = uefiSettingsFromOptions(options);
      if (!settings) throw usageError('Give at least one setting, e.g. --ram-limit off --system-table dt --boot-timeout 1 (see --help).');
      const source = await readFirmwareSource(resolve(file));
      if (source.kind === 'card') {
        throw usageError(`${file} is a card or card image; bootcard changes only RPI_EFI.fd files. Compose a new card with the same options instead: bootcard card uefi ... --ram-limit ... (see bootcard card uefi --help).`);
      }
      const result = applyUefiSettings(source.fd, settings);
      const output = options.output ?? file;
      await assertOutputFile(resolve(output), options.output !== undefined ? '--output' : 'the file', output, 'RPI_EFI.fd');
      await writeFirmwareFile(resolve(output), result.fd);
      for (const w of result.warnings) ctx.warn(w);
      const after = readUefiSettings(result.fd);
      if (options.json) {
        ctx.printJson({ file: output, settings: after, warnings: result.warnings });
        return;
      }
      ctx.print(`${output}: UEFI settings written.`);
      for (const v of listUefiVariables(result.fd).variables.filter((x) => x.live)) ctx.print(variableLine(v));
    });

  vars
    .command('delete')
    .description('delete one UEFI variable from an RPI_EFI.fd (the firmware then uses its default)')
    .argument('<file>', 'RPI_EFI.fd to change')
    .argument('<name>', 'variable name, e.g. RamLimitTo3GB or Boot0000')
    .option('--guid <guid>', 'vendor GUID (default: the Raspberry Pi settings GUID, or the EFI global GUID for Boot####/BootOrder/Timeout)')
    .option('-o, --output <file>', 'write the result here instead of changing FILE')
    .action(async (file: string, name: string, options: { guid?: string; output?: string }) => {
      const guid = options.guid ?? (/^(Boot[0-9A-F]{4}|BootOrder|BootNext|Timeout)$/.test(name) ? KnownGuid.EFI_GLOBAL_VARIABLE : KnownGuid.RPI_CONFIG);
      guidToBytes(guid);
      const source = await readFirmwareSource(resolve(file));
      if (source.kind === 'card') throw usageError(`${file} is a card or card image; bootcard changes only RPI_EFI.fd files.`);
      readNvram(source.fd);
      const result = editUefiVariables(source.fd, [{ op: 'delete', name, guid }]);
      const output = options.output ?? file;
      await assertOutputFile(resolve(output), options.output !== undefined ? '--output' : 'the file', output, 'RPI_EFI.fd');
      await writeFirmwareFile(resolve(output), result.fd);
      ctx.print(`${output}: deleted ${name} (${guid}).`);
    });
}
