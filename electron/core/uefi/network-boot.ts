/**
 * The network boot options bootcard writes (PXE first, HTTP first) and the BootOrder around them.
 *
 * PXE option, exactly as edk2 creates it for a NIC (so the firmware keeps it instead of adding a second):
 *   Attributes          LOAD_OPTION_ACTIVE
 *   Description         "UEFI PXEv4 (MAC:DCA632010203)": BmGetNetworkDescription's "%sv%d (MAC:%02x...)"
 *                       (edk2 PrintLib prints hex upper case) behind the "UEFI " prefix
 *   FilePathList        [parent nodes]/MAC/IPv4/End
 *     MAC node          0x03/0x0B, length 37: EFI_MAC_ADDRESS (the 6 bytes zero-padded to 32), IfType 1 (Ethernet)
 *     IPv4 node         0x03/0x0C, length 27, all zero (PxeBcDxe's PxeBcCreateIp4Children)
 *   OptionalData        the 16 bytes of mBmAutoCreateBootOptionGuid 8108ac4e-9f11-4d59-850e-e21a522c59b2
 *                       (UefiBootManagerLib BmBoot.c), the mark of an option the firmware created itself
 * On pftf/RPi4 the GENET NIC's device path is the MAC node alone (edk2-platforms ConfigDxe.c,
 * GENET_DEVICE_PATH), so the Pi's option has no parent nodes; the qemu test passes AAVMF's
 * PciRoot/Pci nodes of a virtio NIC as `parentPath` to the same encoder.
 *
 * There is no MAC-free PXE option: edk2 expands short-form paths only for disks, files, USB and URIs.
 * edk2's refresh of boot options deletes an auto-created option only when no device matches it, appends
 * new ones at the end and never reorders, so an option byte-identical to the firmware's own stays first.
 */
import { BootcardError, inWizardWords } from '../errors.js';
import {
  concat,
  decodeLoadOption,
  deviceNode,
  DevicePathType,
  encodeLoadOption,
  END_DEVICE_PATH,
  LOAD_OPTION_ACTIVE,
  MSG_IPV4_DP,
  MSG_MAC_ADDR_DP,
  MSG_URI_DP,
  parseDevicePath,
  uriDevicePath,
} from './device-path.js';
import { UefiErrorCode } from './errors.js';
import { guidToBytes, KnownGuid } from './guid.js';
import { bootOptionName, decodeBootOrder, encodeBootOrder, GlobalVariable, isBootOptionName } from './known-variables.js';
import { ATTRIBUTES_NV_BS_RT, type VariableEdit, type VariableRecord } from './variable-store.js';

export const HTTP_BOOT_DESCRIPTION = 'UEFI HTTP boot (bootcard)';
/** mBmAutoCreateBootOptionGuid: edk2's boot manager marks the options it creates with it. */
export const AUTO_CREATED_BOOT_OPTION_GUID = '8108ac4e-9f11-4d59-850e-e21a522c59b2';
export const NET_IFTYPE_ETHERNET = 0x01;
export const MAC_ADDRESS_LENGTH = 6;
/** sizeof (EFI_MAC_ADDRESS). */
const EFI_MAC_ADDRESS_SIZE = 32;
/** sizeof (IPv4_DEVICE_PATH) - 4. */
const IPV4_NODE_DATA_SIZE = 23;
/** The IEEE OUIs Raspberry Pi Ltd and the Raspberry Pi Foundation use for on-board Ethernet. */
export const RASPBERRY_PI_OUIS: readonly string[] = ['B8:27:EB', 'DC:A6:32', 'E4:5F:01', 'D8:3A:DD', '28:CD:C1', '2C:CF:67'];

export const NETWORK_BOOT_ONLY_ALONE =
  '--network-boot-only keeps only the network options bootcard writes, so it needs --pxe-boot-first MAC and/or --http-boot-first URL (without them the Pi would have nothing to boot).';

export const MAC_HELP =
  "Find the Pi's MAC on the bootloader's HDMI diagnostics screen (boot it without a card), in your DHCP server's log, or with `ethtool -P eth0` on the Pi.";

const badMac = (text: string, why: string): never => {
  throw new BootcardError(UefiErrorCode.BAD_SETTING, `--pxe-boot-first: "${text}" ${why}. Give the Pi's Ethernet MAC address as aa:bb:cc:dd:ee:ff. ${MAC_HELP}`, {
    mac: text,
    ...inWizardWords(`PXE MAC "${text}" ${why}. Type the Pi's Ethernet MAC address as aa:bb:cc:dd:ee:ff. ${MAC_HELP.replace(/`/g, '')}`),
  });
};

/** Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (any case); throws BAD_SETTING for anything else. */
export function parseMacAddress(text: string): Uint8Array {
  const trimmed = text.trim();
  if (!/^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i.test(trimmed)) return badMac(text, 'is not a MAC address (6 bytes in hex, separated by : or -)');
  const mac = Uint8Array.from(trimmed.split(/[:-]/), (b) => parseInt(b, 16));
  if (mac[0]! & 0x01) badMac(text, 'is a multicast address (its first byte is odd), not the address of a network card');
  if (mac.every((b) => b === 0)) badMac(text, 'is all zeros');
  if (mac.every((b) => b === 0xff)) badMac(text, 'is the broadcast address');
  return mac;
}

/** `DC:A6:32:01:02:03` */
export function formatMacAddress(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, MAC_ADDRESS_LENGTH), (b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

export function isRaspberryPiMac(mac: Uint8Array): boolean {
  return RASPBERRY_PI_OUIS.includes(formatMacAddress(mac).slice(0, 8));
}

export function macWarning(mac: Uint8Array): string | undefined {
  if (isRaspberryPiMac(mac)) return undefined;
  // Shown by the CLI and the wizard alike, so it names the MAC, not the option that gave it.
  return `The PXE MAC ${formatMacAddress(mac)} is not a Raspberry Pi address (their on-board Ethernet starts with ${RASPBERRY_PI_OUIS.join(', ')}); the PXE option only works on the Pi whose NIC has exactly this MAC. ${MAC_HELP}`;
}

/** The firmware's own description of the PXE option: `UEFI PXEv4 (MAC:DCA632010203)`. */
export function pxeDescription(mac: Uint8Array): string {
  return `UEFI PXEv4 (MAC:${formatMacAddress(mac).replace(/:/g, '')})`;
}

/** The parent's nodes without a trailing End node; throws when they are not well-formed nodes. */
function parentNodes(path: Uint8Array): Uint8Array {
  const endsWithEnd = path.length >= END_DEVICE_PATH.length && sameBytes(path.subarray(path.length - END_DEVICE_PATH.length), END_DEVICE_PATH);
  const nodes = endsWithEnd ? path.subarray(0, path.length - END_DEVICE_PATH.length) : path;
  const parsed = parseDevicePath(concat([nodes, END_DEVICE_PATH]));
  const parsedLength = parsed?.reduce((n, node) => n + 4 + node.data.length, 0);
  if (parsedLength !== nodes.length + END_DEVICE_PATH.length) throw new BootcardError(UefiErrorCode.BAD_VARIABLE, 'The parent device path is malformed.', {});
  return nodes;
}

/** [parent]/MAC/IPv4/End: the path PxeBcDxe gives its IPv4 LoadFile handle. `parentPath` may end with an End node. */
export function pxeDevicePath(mac: Uint8Array, parentPath: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (mac.length !== MAC_ADDRESS_LENGTH) throw new BootcardError(UefiErrorCode.BAD_SETTING, 'A MAC address has 6 bytes.', { length: mac.length });
  const macData = new Uint8Array(EFI_MAC_ADDRESS_SIZE + 1);
  macData.set(mac);
  macData[EFI_MAC_ADDRESS_SIZE] = NET_IFTYPE_ETHERNET;
  return concat([
    parentNodes(parentPath),
    deviceNode(DevicePathType.MESSAGING, MSG_MAC_ADDR_DP, macData),
    deviceNode(DevicePathType.MESSAGING, MSG_IPV4_DP, new Uint8Array(IPV4_NODE_DATA_SIZE)),
    END_DEVICE_PATH,
  ]);
}

/** The whole Boot#### data of the PXEv4 option for this MAC, byte-identical to the one edk2 creates. */
export function encodePxeBootOption(mac: Uint8Array, parentPath?: Uint8Array): Uint8Array {
  return encodeLoadOption({
    attributes: LOAD_OPTION_ACTIVE,
    description: pxeDescription(mac),
    filePathList: pxeDevicePath(mac, parentPath),
    optionalData: guidToBytes(AUTO_CREATED_BOOT_OPTION_GUID),
  });
}

export function encodeHttpBootOption(url: string): Uint8Array {
  return encodeLoadOption({ attributes: LOAD_OPTION_ACTIVE, description: HTTP_BOOT_DESCRIPTION, filePathList: uriDevicePath(url) });
}

/** The URL of a Boot#### whose device path is one URI node (what bootcard writes), else undefined. */
export function bareUriOf(data: Uint8Array): string | undefined {
  const option = decodeLoadOption(data);
  const nodes = option && parseDevicePath(option.filePathList);
  if (!nodes || nodes.length !== 2 || nodes[0]!.type !== DevicePathType.MESSAGING || nodes[0]!.subType !== MSG_URI_DP) return undefined;
  return String.fromCharCode(...nodes[0]!.data);
}

/** The MAC of a PXEv4 option ([parent]/MAC/IPv4/End), else undefined. */
export function pxeMacOf(data: Uint8Array): Uint8Array | undefined {
  const option = decodeLoadOption(data);
  const nodes = option && parseDevicePath(option.filePathList);
  if (!nodes || nodes.length < 3) return undefined;
  const [mac, ip] = [nodes[nodes.length - 3]!, nodes[nodes.length - 2]!];
  const isMac = mac.type === DevicePathType.MESSAGING && mac.subType === MSG_MAC_ADDR_DP && mac.data.length === EFI_MAC_ADDRESS_SIZE + 1;
  const isIpv4 = ip.type === DevicePathType.MESSAGING && ip.subType === MSG_IPV4_DP;
  return isMac && isIpv4 ? mac.data.slice(0, MAC_ADDRESS_LENGTH) : undefined;
}

export interface NetworkBootRequest {
  /** Put the PXEv4 option of this NIC first. */
  readonly pxeMac?: Uint8Array;
  /** Device path nodes before the MAC node (none on a Pi). */
  readonly pxeParentPath?: Uint8Array;
  /** Put an HTTP-boot option for this URL first (after PXE when both are given). */
  readonly httpUrl?: string;
  /** BootOrder holds only the options above; every other Boot#### is deleted. */
  readonly networkBootOnly?: boolean;
}

const bootNumber = (name: string) => parseInt(name.slice(4), 16);
const globalSet = (name: string, data: Uint8Array): VariableEdit => ({ op: 'set', name, guid: KnownGuid.EFI_GLOBAL_VARIABLE, attributes: ATTRIBUTES_NV_BS_RT, data });

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The edits that write the network options and BootOrder, given the store's live records. An option
 * already in the store with the same bytes (the firmware's own PXE option, or what bootcard wrote
 * before) keeps its number; new ones take the lowest free numbers.
 */
export function networkBootEdits(live: readonly VariableRecord[], request: NetworkBootRequest): VariableEdit[] {
  const globals = live.filter((r) => r.guid === KnownGuid.EFI_GLOBAL_VARIABLE);
  const orderRecord = globals.find((r) => r.name === GlobalVariable.BOOT_ORDER);
  const order = orderRecord ? decodeBootOrder(orderRecord.data) : [];
  const options = globals.filter((r) => isBootOptionName(r.name));
  const used = new Set([...order, ...options.map((r) => bootNumber(r.name))]);
  const wanted: { data: Uint8Array; reuse: (r: VariableRecord) => boolean }[] = [];
  if (request.pxeMac) {
    const data = encodePxeBootOption(request.pxeMac, request.pxeParentPath);
    wanted.push({ data, reuse: (r) => sameBytes(r.data, data) });
  }
  if (request.httpUrl !== undefined) {
    const data = encodeHttpBootOption(request.httpUrl);
    wanted.push({ data, reuse: (r) => bareUriOf(r.data) !== undefined && decodeLoadOption(r.data)?.description === HTTP_BOOT_DESCRIPTION });
  }
  if (wanted.length === 0) {
    if (request.networkBootOnly) {
      throw new BootcardError(UefiErrorCode.BAD_SETTING, NETWORK_BOOT_ONLY_ALONE, {});
    }
    return [];
  }
  const edits: VariableEdit[] = [];
  const ours: number[] = [];
  for (const w of wanted) {
    const previous = options.find((r) => w.reuse(r) && !ours.includes(bootNumber(r.name)));
    let number = previous ? bootNumber(previous.name) : 0;
    if (!previous) while (used.has(number)) number++;
    if (number > 0xffff) throw new BootcardError(UefiErrorCode.BAD_SETTING, 'Every Boot#### number is in use.', {});
    used.add(number);
    ours.push(number);
    if (!previous || !sameBytes(previous.data, w.data)) edits.push(globalSet(bootOptionName(number), w.data));
  }
  if (request.networkBootOnly) {
    for (const r of options) if (!ours.includes(bootNumber(r.name))) edits.push({ op: 'delete', name: r.name, guid: KnownGuid.EFI_GLOBAL_VARIABLE });
  }
  const rest = request.networkBootOnly ? [] : order.filter((n) => !ours.includes(n));
  edits.push(globalSet(GlobalVariable.BOOT_ORDER, encodeBootOrder([...ours, ...rest])));
  return edits;
}
