/**
 * `bootcard netboot tree|config|check`: the server half of network boot.
 *   tree    per-Pi TFTP folders (and NFS roots) from an OS image
 *   config  the dnsmasq configuration and /etc/exports lines that serve the tree,
 *           checked against the Pis' EEPROM configuration
 *   check   plays a Pi's TFTP requests against a real server and says what it would get
 */
import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_TXT_PRESETS, configTxtPreset, parseConfigTxtArgument, type ConfigTxtEdit } from '../../core/configtxt/config-txt.js';
import { getBootConfValue, parseBootConf } from '../../core/eeprom/config.js';
import { readConfigOrImage, readTextFile, writeFilesAtomically } from '../../core/eeprom/files.io.js';
import { assertOutputFile } from '../outputs.js';
import { boardForImageSize, readBootConf } from '../../core/eeprom/image.js';
import { BootcardError } from '../../core/errors.js';
import { formatBootReport, simulateNetboot, type NetbootBoard } from '../../core/netboot/boot-simulation.js';
import { NetbootErrorCode } from '../../core/netboot/errors.js';
import { parsePiId, prefixFolder, TFTP_PREFIX_MODE } from '../../core/netboot/pi-id.js';
import { parsePisCsv, parseUser, withDefaults, type FirstBoot, type PiSpec } from '../../core/netboot/pis.js';
import { checkEepromAgreement, isIpv4, parseServerAddress, renderDnsmasqConfig, renderExports, networkOf, type DhcpMode } from '../../core/netboot/server-config.js';
import { tftpGet } from '../../core/netboot/tftp-client.io.js';
import { buildNetbootTree, readTreePis } from '../../core/netboot/tree.io.js';
import type { CliContext } from '../context.js';
import { usageError } from '../program.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface TreeCommandOptions {
  readonly image?: string;
  readonly tftpRoot?: string;
  readonly nfsRoot?: string;
  readonly server?: string;
  readonly nfsOptions?: string;
  readonly pi?: string[];
  readonly pis?: string;
  readonly ssh?: boolean;
  readonly user?: string;
  readonly configTxt?: string[];
  readonly configTxtPreset?: string[];
  readonly dtoverlay?: string[];
  readonly json?: boolean;
}

/** An EEPROM config from a pieeprom.bin or a bootconf.txt; the board when the image says it. */
async function readEepromConfig(file: string): Promise<{ text: string; board: NetbootBoard | null }> {
  const found = await readConfigOrImage(file);
  if (found.kind === 'text') return { text: found.text, board: null };
  return { text: readBootConf(found.bytes), board: boardForImageSize(found.bytes.length) };
}

async function piSpecs(options: TreeCommandOptions, ctx: CliContext): Promise<PiSpec[]> {
  const fromList = options.pis ? parsePisCsv(await readTextFile(path.resolve(ctx.io.cwd, options.pis), 'Pi list')) : [];
  const fromOptions = (options.pi ?? []).map((id) => ({ id: parsePiId(id) }));
  const defaults: FirstBoot = { ...(options.ssh ? { ssh: true } : {}), ...(options.user ? { user: parseUser(options.user) } : {}) };
  const all = [...fromList, ...fromOptions].map((spec) => withDefaults(spec, defaults));
  if (all.length === 0) throw usageError('Name the Pis: --pi ID (a MAC, a serial number or str:NAME; repeatable) or --pis pis.csv.');
  return all;
}

function configEdits(options: TreeCommandOptions): ConfigTxtEdit[] {
  return [
    ...(options.configTxtPreset ?? []).flatMap((name) => configTxtPreset(name)),
    ...(options.configTxt ?? []).map(parseConfigTxtArgument),
    ...(options.dtoverlay ?? []).map((value): ConfigTxtEdit => ({ kind: 'dtoverlay', value })),
  ];
}

function registerTree(netboot: Command, ctx: CliContext): void {
  netboot
    .command('tree')
    .description('build per-Pi TFTP folders (boot files as hard links to one shared copy) and NFS roots from an OS image')
    .option('--image <file>', 'the OS image: .img, or .img.xz / .img.gz / .img.zst (recognised by content)')
    .option('--tftp-root <dir>', 'the TFTP server\'s root folder')
    .option('--nfs-root <dir>', 'also copy the image\'s root file system into DIR/<pi folder> (needs root and --server)')
    .option('--server <ip>', 'the NFS server address the Pis mount from (cmdline.txt, /etc/fstab)')
    .option('--nfs-options <opts>', 'NFS mount options (default vers=4.1,proto=tcp)')
    .option('--pi <id>', 'a Pi: MAC address (TFTP_PREFIX=2), 8-digit serial (TFTP_PREFIX=0) or str:NAME (TFTP_PREFIX=1); repeatable', collect)
    .option('--pis <file>', 'a CSV of Pis: header id,hostname,ssh,user')
    .option('--ssh', 'turn SSH on at first boot for every Pi')
    .option('--user <name:hash>', 'create this user at first boot on every Pi (hash from openssl passwd -6)')
    .option('--config-txt <KEY=VALUE>', 'set a config.txt line ([SECTION]KEY=VALUE, KEY= removes), repeatable', collect)
    .option('--config-txt-preset <name>', `config.txt preset, repeatable: ${Object.keys(CONFIG_TXT_PRESETS).join(', ')}`, collect)
    .option('--dtoverlay <name>', 'add a dtoverlay= line to config.txt, repeatable', collect)
    .option('--json', 'print the result as JSON')
    .action(async (options: TreeCommandOptions) => {
      if (!options.image) throw usageError('Give the OS image: --image raspios.img.xz.');
      if (!options.tftpRoot) throw usageError('Give the TFTP root folder: --tftp-root /srv/tftp.');
      if (options.nfsRoot && !options.server) throw usageError('--nfs-root needs --server IP: the address the Pis mount their root from.');
      if (options.server && !isIpv4(options.server)) throw usageError(`--server expects an IPv4 address, got "${options.server}".`);
      const pis = await piSpecs(options, ctx);
      if (!options.nfsRoot && pis.some((p) => p.hostname)) ctx.warn('Host names go into each Pi\'s root file system (/etc/hostname): without --nfs-root they are not written.');
      const result = await buildNetbootTree({
        image: path.resolve(ctx.io.cwd, options.image),
        tftpRoot: path.resolve(ctx.io.cwd, options.tftpRoot),
        ...(options.nfsRoot ? { nfsRoot: path.resolve(ctx.io.cwd, options.nfsRoot) } : {}),
        ...(options.server ? { server: options.server } : {}),
        ...(options.nfsOptions ? { nfsOptions: options.nfsOptions } : {}),
        pis,
        configTxtEdits: configEdits(options),
        onProgress: options.json ? undefined : (text) => ctx.info(text),
      });
      if (options.json) {
        ctx.printJson(result);
        return;
      }
      const lines = result.pis.map(
        (p) => `  ${p.folder}/  (${p.kind === 'mac' ? 'MAC, TFTP_PREFIX=2' : p.kind === 'serial' ? 'serial, TFTP_PREFIX=0' : `TFTP_PREFIX=1, TFTP_PREFIX_STR=${p.folder}/`})${p.nfsFolder ? `  root ${p.nfsFolder}` : ''}${p.replaced ? '  (updated)' : ''}`,
      );
      ctx.print(
        [
          `Built ${result.pis.length} Pi ${result.pis.length === 1 ? 'folder' : 'folders'} in ${options.tftpRoot}:`,
          ...lines,
          `Boot files: ${result.sharedFiles} shared ${result.sharedFiles === 1 ? 'file' : 'files'}, ${result.sharedBytes} bytes, linked into every Pi folder.`,
          result.bootcode === 'not-ours' ? 'Note: a different bootcode.bin is already at the TFTP root; bootcard left it.' : result.bootcode === 'absent' ? 'Note: the image has no bootcode.bin (only Pi 3 and older need it).' : 'bootcode.bin is at the TFTP root.',
          ...(result.root ? [`Root file system: ${result.root.entries} entries (${result.root.hardLinks} hard links, ${result.root.devices} device nodes, ${result.root.xattrs} extended attributes).`] : []),
          ...(options.nfsRoot ? [] : ['cmdline.txt is the image\'s own (no --nfs-root): point its root= at your NFS root yourself.']),
          'Next: bootcard netboot config --tftp-root ... to serve it, then bootcard netboot check.',
        ].join('\n'),
      );
    });
}

interface ConfigCommandOptions {
  readonly tftpRoot?: string;
  readonly dhcp?: string;
  readonly interface?: string;
  readonly server?: string;
  readonly range?: string;
  readonly pxeString?: string;
  readonly exports?: boolean;
  readonly clients?: string;
  readonly eeprom?: string;
  readonly out?: string;
}

function registerConfig(netboot: Command, ctx: CliContext): void {
  netboot
    .command('config')
    .description('print (or write) the dnsmasq configuration and /etc/exports lines that serve a netboot tree; --eeprom checks it against the Pis\' bootloader config')
    .option('--tftp-root <dir>', 'the tree bootcard netboot tree built')
    .option('--dhcp <mode>', 'proxy (default: next to the existing DHCP server), full (dnsmasq hands out addresses) or none (TFTP only)', 'proxy')
    .option('--interface <if>', 'serve only this network interface')
    .option('--server <ip/prefix>', 'this server\'s address and network, e.g. 10.42.0.211/24 (proxy DHCP serves that network)')
    .option('--range <start,end>', 'full DHCP: the addresses to hand out')
    .option('--pxe-string <text>', 'the DHCP option 43 string (default "Raspberry Pi Boot"; the EEPROM\'s PXE_OPTION43)')
    .option('--exports', 'also print the /etc/exports lines for the NFS roots and boot folders')
    .option('--clients <who>', 'who may mount the exports (default: the server\'s network, or *)')
    .option('--eeprom <file>', 'check against this pieeprom.bin or bootconf.txt: TFTP_PREFIX, TFTP_IP, PXE_OPTION43, BOOT_ORDER')
    .option('--out <file>', 'write the dnsmasq configuration to this file instead of printing it')
    .action(async (options: ConfigCommandOptions) => {
      if (!options.tftpRoot) throw usageError('Give the TFTP root: --tftp-root /srv/tftp.');
      const dhcp = options.dhcp as DhcpMode;
      if (!['proxy', 'full', 'none'].includes(dhcp)) throw usageError(`--dhcp expects proxy, full or none, got "${options.dhcp}".`);
      const tftpRoot = path.resolve(ctx.io.cwd, options.tftpRoot);
      const server = options.server ? parseServerAddress(options.server) : undefined;
      const range = options.range ? options.range.split(',').map((s) => s.trim()) : undefined;
      const config = renderDnsmasqConfig({
        tftpRoot,
        dhcp,
        ...(options.interface ? { interface: options.interface } : {}),
        ...(server ? { server } : {}),
        ...(range ? { range: { start: range[0] ?? '', end: range[1] ?? '', ...(range[2] ? { lease: range[2] } : {}) } } : {}),
        ...(options.pxeString ? { pxeString: options.pxeString } : {}),
      });
      const pis = await readTreePis(tftpRoot);
      if (pis.length === 0) ctx.warn(`${tftpRoot} holds no Pi folder made by bootcard netboot tree yet.`);
      if (options.eeprom) {
        const eeprom = await readEepromConfig(path.resolve(ctx.io.cwd, options.eeprom));
        const agreement = checkEepromAgreement(eeprom.text, {
          pis: pis.map((m) => ({ kind: (Object.entries(TFTP_PREFIX_MODE).find(([, v]) => v === m.pi.tftpPrefix)?.[0] ?? 'string') as 'mac' | 'serial' | 'string', folder: m.pi.folder })),
          ...(server ? { address: server.address } : {}),
          ...(options.pxeString ? { pxeString: options.pxeString } : {}),
          dhcp,
        });
        for (const note of agreement.notes) ctx.info(`ok: ${note}`);
        if (agreement.problems.length > 0) {
          for (const problem of agreement.problems) ctx.info(`problem: ${problem}`);
          throw new BootcardError(NetbootErrorCode.CONFIG_MISMATCH, `The server and the EEPROM configuration ${options.eeprom} disagree (${agreement.problems.length} problem(s) above); nothing was written.`, { problems: agreement.problems });
        }
      }
      const clients = options.clients ?? (server ? `${networkOf(server).network}/${server.prefix}` : '*');
      const exportsText = options.exports ? renderExports(pis.map((m) => ({ tftpFolder: m.tftpFolder, ...(m.nfsFolder ? { nfsFolder: m.nfsFolder } : {}) })), clients) : '';
      if (options.out) {
        await assertOutputFile(path.resolve(ctx.io.cwd, options.out), '--out', options.out, 'dnsmasq.conf');
        await writeFilesAtomically([{ path: path.resolve(ctx.io.cwd, options.out), data: config }]);
        ctx.info(`Wrote ${options.out}.`);
        if (exportsText) ctx.write(exportsText);
      } else ctx.write(exportsText ? `${config}\n${exportsText}` : config);
    });
}

interface CheckCommandOptions {
  readonly server?: string;
  readonly pi?: string;
  readonly board?: string;
  readonly eeprom?: string;
  readonly port?: string;
  readonly timeout?: string;
  readonly json?: boolean;
}

function registerCheck(netboot: Command, ctx: CliContext): void {
  netboot
    .command('check')
    .description('play, over real TFTP, the requests a Pi makes when it network boots, and say what it would get (exit 1 when it would not boot)')
    .option('--server <ip>', 'the TFTP server')
    .option('--pi <id>', 'the Pi: MAC address, serial number or str:NAME')
    .option('--board <board>', '2711 (Pi 4, default) or 2712 (Pi 5); taken from --eeprom when that is a pieeprom.bin')
    .option('--eeprom <file>', 'the Pi\'s pieeprom.bin or bootconf.txt: its TFTP_PREFIX decides the folder it asks for')
    .option('--port <port>', 'TFTP port (default 69)')
    .option('--timeout <ms>', 'wait this long for each TFTP answer (default 2000)')
    .option('--json', 'print the report as JSON')
    .action(async (options: CheckCommandOptions) => {
      if (!options.server || !isIpv4(options.server)) throw usageError('Give the TFTP server\'s IPv4 address: --server 10.42.0.211.');
      if (!options.pi) throw usageError('Give the Pi: --pi dc:a6:32:01:36:c2 (or its serial number, or str:NAME).');
      if (options.board !== undefined && options.board !== '2711' && options.board !== '2712') throw usageError(`--board expects 2711 or 2712, got "${options.board}".`);
      const port = options.port === undefined ? 69 : Number(options.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`--port expects a port number, got "${options.port}".`);
      const timeoutMs = options.timeout === undefined ? 2000 : Number(options.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw usageError(`--timeout expects milliseconds (at least 100), got "${options.timeout}".`);
      const id = parsePiId(options.pi);
      let board: NetbootBoard = (options.board as NetbootBoard | undefined) ?? '2711';
      let folder = id.folder;
      if (options.eeprom) {
        const eeprom = await readEepromConfig(path.resolve(ctx.io.cwd, options.eeprom));
        if (eeprom.board && !options.board) board = eeprom.board;
        const config = parseBootConf(eeprom.text);
        const mode = Number(getBootConfValue(config, 'TFTP_PREFIX') ?? '0');
        const asked = prefixFolder(mode, getBootConfValue(config, 'TFTP_PREFIX_STR')?.replace(/^"(.*)"$/, '$1'), id);
        if (asked === null) {
          throw new BootcardError(
            NetbootErrorCode.CONFIG_MISMATCH,
            `The EEPROM says TFTP_PREFIX=${mode}, so the Pi asks for its ${mode === 0 ? 'serial-number' : 'MAC-address'} folder, but --pi ${options.pi} is a ${id.kind === 'mac' ? 'MAC address' : id.kind === 'serial' ? 'serial number' : 'folder name'}: give the Pi's ${mode === 0 ? 'serial number' : 'MAC address'}, or build the tree for it.`,
          );
        }
        folder = asked;
        const tftpIp = getBootConfValue(config, 'TFTP_IP');
        if (tftpIp && tftpIp !== options.server) ctx.warn(`The EEPROM's TFTP_IP=${tftpIp} makes the Pi ask ${tftpIp}, not ${options.server}.`);
      }
      const report = await simulateNetboot({
        board,
        folder,
        serial: id.kind === 'serial' ? id.folder : null,
        read: async (file) => (await tftpGet(options.server!, file, { port, timeoutMs }))?.bytes ?? null,
      });
      // Under --json a Pi that would not boot is the error object alone, with the report in its details.
      if (options.json && report.bootable) ctx.printJson(report);
      else if (!options.json) ctx.write(formatBootReport(report, options.server));
      if (!report.bootable) {
        throw new BootcardError(NetbootErrorCode.WOULD_NOT_BOOT, `The Pi ${id.folder} would not boot from ${options.server}: ${report.problems.join(' ')}`, { problems: report.problems, ...(options.json ? { report } : {}) });
      }
    });
}

export function registerNetbootCommands(program: Command, ctx: CliContext): void {
  const netboot = program.command('netboot').description('the server half of network boot: per-Pi TFTP folders and NFS roots, the dnsmasq/NFS config, and a check');
  registerTree(netboot, ctx);
  registerConfig(netboot, ctx);
  registerCheck(netboot, ctx);
}
