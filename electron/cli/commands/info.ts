import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { BOOTCARD_VERSION } from '../../core/version.io.js';

export function registerInfoCommand(program: Command, ctx: CliContext): void {
  program
    .command('info')
    .description('print the bootcard version and platform')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const info = { name: 'bootcard', version: BOOTCARD_VERSION, platform: process.platform, arch: process.arch, node: process.version };
      if (options.json) ctx.printJson(info);
      else ctx.print(`bootcard ${info.version} (${info.platform}-${info.arch}, Node ${info.node})`);
    });
}
