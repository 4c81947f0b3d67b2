/**
 * The server configuration that serves a network boot tree, and the check
 * that it agrees with the Pis' EEPROM configuration.
 *
 * dnsmasq does TFTP and, in proxy mode, only the PXE part of DHCP: an
 * existing DHCP server keeps handing out addresses and dnsmasq adds the
 * vendor option 43 the bootloader looks for (`pxe-service=0,"Raspberry Pi Boot"`,
 * as in raspberrypi/documentation's network-boot-raspberry-pi.adoc).
 * /etc/exports gets each Pi's NFS root and its TFTP folder (mounted at
 * /boot/firmware), with no_root_squash because the root file system holds
 * root-owned files.
 */
import { getBootConfValue, parseBootConf } from '../eeprom/config.js';
import { BootcardError, CommonErrorCode } from '../errors.js';
import { TFTP_PREFIX_MODE, type PiIdKind } from './pi-id.js';

export const DEFAULT_PXE_STRING = 'Raspberry Pi Boot';

export type DhcpMode = 'proxy' | 'full' | 'none';

export interface Ipv4Network {
  readonly address: string;
  readonly prefix: number;
}

function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

const formatIpv4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== null;
}

/** `10.42.0.211/24` (or a bare address, taken as /24). */
export function parseServerAddress(text: string): Ipv4Network {
  const [address, prefixText] = text.split('/');
  const prefix = prefixText === undefined ? 24 : Number(prefixText);
  if (parseIpv4(address ?? '') === null || !Number.isInteger(prefix) || prefix < 1 || prefix > 32) {
    throw new BootcardError(CommonErrorCode.USAGE, `"${text}" is not an IPv4 address with an optional prefix length (e.g. 10.42.0.211/24).`);
  }
  return { address: address!, prefix };
}

export function networkOf(net: Ipv4Network): { network: string; netmask: string } {
  const mask = net.prefix === 32 ? 0xffffffff : (~((1 << (32 - net.prefix)) - 1)) >>> 0;
  return { network: formatIpv4((parseIpv4(net.address)! & mask) >>> 0), netmask: formatIpv4(mask) };
}

export interface DnsmasqOptions {
  readonly tftpRoot: string;
  readonly dhcp: DhcpMode;
  readonly interface?: string;
  /** The server's address and network: the proxy serves that network. */
  readonly server?: Ipv4Network;
  /** Full DHCP: the address range handed out. */
  readonly range?: { readonly start: string; readonly end: string; readonly lease?: string };
  readonly pxeString?: string;
}

export function renderDnsmasqConfig(options: DnsmasqOptions): string {
  const pxe = options.pxeString ?? DEFAULT_PXE_STRING;
  if (pxe.includes('"') || /[\r\n]/.test(pxe)) throw new BootcardError(CommonErrorCode.USAGE, 'The PXE string cannot hold a quote or a line break.');
  if (/[\r\n]/.test(options.tftpRoot)) throw new BootcardError(CommonErrorCode.USAGE, 'The TFTP root path cannot hold a line break.');
  const lines = [
    `# dnsmasq configuration for the Raspberry Pi network boot tree in ${options.tftpRoot}`,
    '# made by `bootcard netboot config`. Install it as /etc/dnsmasq.d/bootcard-netboot.conf.',
    '# DNS off: this dnsmasq only answers the Pis (TFTP and PXE DHCP).',
    'port=0',
  ];
  if (options.interface) {
    if (!/^[A-Za-z0-9_.:@-]+$/.test(options.interface)) throw new BootcardError(CommonErrorCode.USAGE, `"${options.interface}" is not a network interface name.`);
    lines.push(`interface=${options.interface}`, 'bind-interfaces');
  }
  lines.push('enable-tftp', `tftp-root=${options.tftpRoot}`);
  if (options.dhcp === 'proxy') {
    if (!options.server) throw new BootcardError(CommonErrorCode.USAGE, 'Proxy DHCP serves one network: give the server address with its prefix, --server 10.42.0.211/24.');
    const { network, netmask } = networkOf(options.server);
    lines.push(
      '# Proxy DHCP: the network\'s own DHCP server keeps giving out addresses; dnsmasq adds the boot information.',
      `dhcp-range=${network},proxy,${netmask}`,
    );
  } else if (options.dhcp === 'full') {
    const range = options.range;
    if (!range || !isIpv4(range.start) || !isIpv4(range.end)) throw new BootcardError(CommonErrorCode.USAGE, 'Full DHCP hands out addresses: give the range, --range 10.42.0.100,10.42.0.199.');
    lines.push('# Full DHCP: use only where no other DHCP server answers on this network.', `dhcp-range=${range.start},${range.end},${range.lease ?? '12h'}`);
  }
  if (options.dhcp !== 'none') {
    lines.push(`# The bootloader boots from the network only when DHCP option 43 carries this string (PXE_OPTION43 in its EEPROM).`, `pxe-service=0,"${pxe}"`, 'log-dhcp');
  }
  return `${lines.join('\n')}\n`;
}

export interface ExportedPi {
  readonly tftpFolder: string;
  readonly nfsFolder?: string;
}

/** /etc/exports lines for the Pis' roots and boot folders. `clients` is who may mount (default: the server's network). */
export function renderExports(pis: readonly ExportedPi[], clients: string): string {
  if (!/^[A-Za-z0-9.*/:_-]+$/.test(clients)) throw new BootcardError(CommonErrorCode.USAGE, `"${clients}" is not an NFS client list (e.g. 10.42.0.0/24 or *).`);
  const options = 'rw,sync,no_subtree_check,no_root_squash';
  const lines = ['# NFS exports for the Raspberry Pi network boot tree (made by `bootcard netboot config --exports`).'];
  for (const pi of pis) {
    for (const folder of [pi.nfsFolder, pi.tftpFolder]) {
      if (!folder) continue;
      if (/\s/.test(folder)) throw new BootcardError(CommonErrorCode.USAGE, `${folder} has a space in its path, which /etc/exports cannot hold unquoted; move the tree.`);
      lines.push(`${folder} ${clients}(${options})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface TreePi {
  readonly kind: PiIdKind;
  readonly folder: string;
}

export interface EepromAgreement {
  /** Disagreements that stop a Pi from booting from this server. */
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

const unquote = (v: string | undefined) => (v === undefined ? undefined : v.trim().replace(/^"(.*)"$/, '$1'));

/**
 * Compares the EEPROM configuration (bootconf.txt text) with the server:
 * TFTP_PREFIX against the folder names, TFTP_IP against the server address,
 * PXE_OPTION43 against the DHCP vendor string, BOOT_ORDER for a network step.
 */
export function checkEepromAgreement(bootconf: string, server: { readonly pis: readonly TreePi[]; readonly address?: string; readonly pxeString?: string; readonly dhcp: DhcpMode }): EepromAgreement {
  const config = parseBootConf(bootconf);
  const get = (key: string) => unquote(getBootConfValue(config, key));
  const problems: string[] = [];
  const notes: string[] = [];

  const bootOrder = get('BOOT_ORDER');
  if (bootOrder !== undefined && /^0x[0-9a-f]+$/i.test(bootOrder) && !bootOrder.slice(2).toLowerCase().includes('2')) {
    problems.push(`BOOT_ORDER=${bootOrder} has no network step (2): the Pi never asks this server.`);
  }

  const modeText = get('TFTP_PREFIX') ?? '0';
  const mode = Number(modeText);
  const kindForMode = (Object.entries(TFTP_PREFIX_MODE) as [PiIdKind, number][]).find(([, m]) => m === mode)?.[0];
  if (!kindForMode) problems.push(`TFTP_PREFIX=${modeText} is not 0 (serial number), 1 (TFTP_PREFIX_STR) or 2 (MAC address).`);
  else if (mode === 1) {
    const str = get('TFTP_PREFIX_STR') ?? '';
    if (str === '') problems.push('TFTP_PREFIX=1 with an empty TFTP_PREFIX_STR: every Pi asks at the TFTP root, not in a folder of the tree.');
    else if (!str.endsWith('/')) problems.push(`TFTP_PREFIX_STR=${str} does not end in "/": the bootloader asks for "${str}start4.elf", a file name prefix, not the folder ${str}/. Write TFTP_PREFIX_STR=${str}/.`);
    else if (!server.pis.some((p) => p.folder === str.slice(0, -1))) {
      problems.push(`TFTP_PREFIX_STR=${str}: the Pi asks for the folder ${str}, which the tree does not have (it has ${server.pis.map((p) => `${p.folder}/`).join(', ') || 'none'}).`);
    } else notes.push(`TFTP_PREFIX=1: every Pi with this EEPROM asks for ${str}.`);
  } else {
    const wrong = server.pis.filter((p) => p.kind !== kindForMode);
    const how = mode === 0 ? 'its serial-number folder (TFTP_PREFIX=0, the default)' : 'its MAC-address folder (TFTP_PREFIX=2)';
    for (const pi of wrong) {
      problems.push(`The EEPROM makes the Pi ask for ${how}, but the tree's folder ${pi.folder}/ is named by ${pi.kind === 'mac' ? 'MAC address' : pi.kind === 'serial' ? 'serial number' : 'a fixed string'}: that Pi would fall back to the TFTP root.`);
    }
    if (wrong.length === 0) notes.push(`TFTP_PREFIX=${mode}: the Pis ask for ${how}, as the tree is named.`);
  }

  const tftpIp = get('TFTP_IP');
  if (tftpIp) {
    if (server.address && tftpIp !== server.address) problems.push(`TFTP_IP=${tftpIp}, but the server is ${server.address}: the Pi would ask ${tftpIp} for its files.`);
    else notes.push(`TFTP_IP=${tftpIp}: the Pi asks this address for its files, whatever DHCP says.`);
  } else if (server.dhcp === 'none') {
    problems.push('The EEPROM has no TFTP_IP and this configuration answers no DHCP: the Pi learns its TFTP server from DHCP, so use --dhcp proxy, or set TFTP_IP in the EEPROM.');
  }

  const option43 = unquote(getBootConfValue(config, 'PXE_OPTION43')) ?? DEFAULT_PXE_STRING;
  const pxe = server.pxeString ?? DEFAULT_PXE_STRING;
  if (server.dhcp !== 'none' && option43 !== pxe) {
    problems.push(`The EEPROM's PXE_OPTION43 is "${option43}" but the DHCP configuration sends "${pxe}": the bootloader ignores DHCP answers without its string. Use --pxe-string "${option43}".`);
  }
  return { problems, notes };
}
