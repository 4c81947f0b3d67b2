/**
 * UEFI device paths and load options (UEFI spec 2.10 sections 3.1.3 and 10.3), enough to write the
 * HTTP-boot option and to show the boot options already in a store.
 *
 * EFI_DEVICE_PATH_PROTOCOL node: UINT8 Type; UINT8 SubType; UINT16 Length (includes these 4 bytes).
 *   URI node:  Type 0x03 (MESSAGING_DEVICE_PATH), SubType 0x18 (MSG_URI_DP), then the URI's bytes
 *              (RFC 3986, no NUL; HttpBootDxe's HttpBootParseFilePath copies Length - 4 bytes and adds one).
 *   End node:  Type 0x7F, SubType 0xFF (END_ENTIRE_DEVICE_PATH_SUBTYPE), Length 4.
 *
 * EFI_LOAD_OPTION (the data of a Boot#### variable):
 *   UINT32 Attributes            LOAD_OPTION_ACTIVE 0x1
 *   UINT16 FilePathListLength    bytes of the device path(s), End node included
 *   CHAR16 Description[]         NUL-terminated UTF-16LE
 *   EFI_DEVICE_PATH FilePathList[]
 *   UINT8  OptionalData[]        the rest (none here)
 *
 * PXE options ([parent]/MAC/IPv4/End) are built in network-boot.ts.
 *
 * Why a bare URI node works without knowing the Pi's MAC: edk2's boot manager (UefiBootManagerLib
 * BmBoot.c, BmGetNextLoadOptionDevicePath) treats a path that STARTS with a URI node as a short-form
 * path and expands it (BmExpandUriDevicePath) by offering it to every LoadFile handle, i.e. to
 * HttpBootDxe on whichever network interface exists, which downloads the URI from the node.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { BootcardError, inWizardWords } from '../errors.js';
import { UefiErrorCode } from './errors.js';
import { guidFromBytes } from './guid.js';
import { decodeVariableName, encodeVariableName } from './variable-store.js';

export const DevicePathType = {
  HARDWARE: 0x01,
  ACPI: 0x02,
  MESSAGING: 0x03,
  MEDIA: 0x04,
  BBS: 0x05,
  END: 0x7f,
} as const;

export const MSG_MAC_ADDR_DP = 0x0b;
export const MSG_IPV4_DP = 0x0c;
export const MSG_IPV6_DP = 0x0d;
export const MSG_URI_DP = 0x18;
export const END_ENTIRE_DEVICE_PATH_SUBTYPE = 0xff;
export const END_INSTANCE_DEVICE_PATH_SUBTYPE = 0x01;
export const DEVICE_PATH_NODE_HEADER_SIZE = 4;
export const LOAD_OPTION_ACTIVE = 0x1;
/** EISA_PNP_ID(0x0A03): the _HID of a PCI root bridge (ACPI_DEVICE_PATH, ACPI_DP). */
export const PCI_ROOT_HID = 0x0a0341d0;
export const LOAD_OPTION_HIDDEN = 0x8;
/** Longest URL bootcard writes (keeps Boot#### far below edk2's PcdMaxVariableSize). */
export const MAX_BOOT_URI_LENGTH = 512;

export function deviceNode(type: number, subType: number, data: Uint8Array): Uint8Array {
  const length = DEVICE_PATH_NODE_HEADER_SIZE + data.length;
  if (length > 0xffff) throw new BootcardError(UefiErrorCode.BAD_VARIABLE, 'Device path node too long.', { length });
  const node = new Uint8Array(length);
  node[0] = type;
  node[1] = subType;
  node[2] = length & 0xff;
  node[3] = length >> 8;
  node.set(data, DEVICE_PATH_NODE_HEADER_SIZE);
  return node;
}

export const END_DEVICE_PATH: Uint8Array = deviceNode(DevicePathType.END, END_ENTIRE_DEVICE_PATH_SUBTYPE, new Uint8Array(0));

/** Checks that `url` is an http(s) URL the firmware can fetch; throws BAD_SETTING. */
export function validateBootUri(url: string): void {
  const bad = (why: string): never => {
    throw new BootcardError(UefiErrorCode.BAD_SETTING, `--http-boot-first: "${url}" ${why}. Give the full URL of the boot file, e.g. http://192.168.1.10/boot/bootaa64.efi.`, {
      url,
      ...inWizardWords(`HTTP boot URL "${url}" ${why}. Type the full URL of the boot file, e.g. http://192.168.1.10/boot/bootaa64.efi.`),
    });
  };
  if (url.length === 0) bad('is empty');
  if (url.length > MAX_BOOT_URI_LENGTH) bad(`is longer than ${MAX_BOOT_URI_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(url)) bad('must be plain ASCII without spaces');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad('is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') bad('must start with http:// or https://');
  if (!parsed.hostname) bad('has no host');
}

/** URI node + End node: the whole device path of the HTTP-boot option. */
export function uriDevicePath(url: string): Uint8Array {
  validateBootUri(url);
  const uri = Uint8Array.from(url, (c) => c.charCodeAt(0));
  return concat([deviceNode(DevicePathType.MESSAGING, MSG_URI_DP, uri), END_DEVICE_PATH]);
}

export interface LoadOption {
  readonly attributes: number;
  readonly description: string;
  readonly filePathList: Uint8Array;
  readonly optionalData: Uint8Array;
}

export function encodeLoadOption(option: { attributes: number; description: string; filePathList: Uint8Array; optionalData?: Uint8Array }): Uint8Array {
  const description = encodeVariableName(option.description);
  const optional = option.optionalData ?? new Uint8Array(0);
  const out = new Uint8Array(4 + 2 + description.length + option.filePathList.length + optional.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, option.attributes, true);
  dv.setUint16(4, option.filePathList.length, true);
  out.set(description, 6);
  out.set(option.filePathList, 6 + description.length);
  out.set(optional, 6 + description.length + option.filePathList.length);
  return out;
}

/** Decodes an EFI_LOAD_OPTION; undefined when the bytes are not a well-formed one. */
export function decodeLoadOption(data: Uint8Array): LoadOption | undefined {
  if (data.length < 6) return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const attributes = dv.getUint32(0, true);
  const filePathListLength = dv.getUint16(4, true);
  let end = 6;
  while (end + 1 < data.length && (data[end] !== 0 || data[end + 1] !== 0)) end += 2;
  if (end + 1 >= data.length) return undefined;
  const description = decodeVariableName(data.subarray(6, end + 2));
  const pathStart = end + 2;
  if (pathStart + filePathListLength > data.length) return undefined;
  return {
    attributes,
    description,
    filePathList: data.slice(pathStart, pathStart + filePathListLength),
    optionalData: data.slice(pathStart + filePathListLength),
  };
}

export interface DevicePathNode {
  readonly type: number;
  readonly subType: number;
  readonly data: Uint8Array;
}

/** Splits a device path into nodes (stopping at End-entire); undefined when malformed. */
export function parseDevicePath(path: Uint8Array): DevicePathNode[] | undefined {
  const nodes: DevicePathNode[] = [];
  let at = 0;
  while (at + DEVICE_PATH_NODE_HEADER_SIZE <= path.length) {
    const type = path[at]!;
    const subType = path[at + 1]!;
    const length = path[at + 2]! | (path[at + 3]! << 8);
    if (length < DEVICE_PATH_NODE_HEADER_SIZE || at + length > path.length) return undefined;
    nodes.push({ type, subType, data: path.slice(at + DEVICE_PATH_NODE_HEADER_SIZE, at + length) });
    if (type === DevicePathType.END && subType === END_ENTIRE_DEVICE_PATH_SUBTYPE) return nodes;
    at += length;
  }
  return undefined;
}

/** A short text form in the style of edk2's DevicePathToText (the common nodes only). */
export function devicePathToText(path: Uint8Array): string {
  const nodes = parseDevicePath(path);
  if (!nodes) return `(malformed device path ${bytesToHex(path.subarray(0, 32))})`;
  const parts: string[] = [];
  for (const n of nodes) {
    const dv = new DataView(n.data.buffer, n.data.byteOffset, n.data.byteLength);
    if (n.type === DevicePathType.END) {
      if (n.subType === END_INSTANCE_DEVICE_PATH_SUBTYPE) parts.push(',');
      continue;
    }
    if (n.type === DevicePathType.MESSAGING && n.subType === MSG_URI_DP) parts.push(`Uri(${String.fromCharCode(...n.data)})`);
    else if (n.type === DevicePathType.MESSAGING && n.subType === MSG_MAC_ADDR_DP && n.data.length >= 33) parts.push(`MAC(${bytesToHex(n.data.subarray(0, 6)).toUpperCase()},0x${n.data[32]!.toString(16)})`);
    else if (n.type === DevicePathType.MESSAGING && n.subType === MSG_IPV4_DP) parts.push('IPv4(...)');
    else if (n.type === DevicePathType.MESSAGING && n.subType === MSG_IPV6_DP) parts.push('IPv6(...)');
    else if (n.type === DevicePathType.ACPI && n.subType === 0x01 && n.data.length === 8 && dv.getUint32(0, true) === PCI_ROOT_HID) parts.push(`PciRoot(0x${dv.getUint32(4, true).toString(16)})`);
    else if (n.type === DevicePathType.HARDWARE && n.subType === 0x01 && n.data.length === 2) parts.push(`Pci(0x${n.data[1]!.toString(16)},0x${n.data[0]!.toString(16)})`);
    else if (n.type === DevicePathType.HARDWARE && n.subType === 0x04 && n.data.length >= 16) parts.push(`VenHw(${guidFromBytes(n.data)})`);
    else if (n.type === DevicePathType.MEDIA && n.subType === 0x01 && n.data.length >= 38) parts.push(`HD(${dv.getUint32(0, true)},...)`);
    else if (n.type === DevicePathType.MEDIA && n.subType === 0x04) parts.push(decodeVariableName(n.data));
    else if (n.type === DevicePathType.MEDIA && n.subType === 0x06 && n.data.length >= 16) parts.push(`FvFile(${guidFromBytes(n.data)})`);
    else if (n.type === DevicePathType.MEDIA && n.subType === 0x07 && n.data.length >= 16) parts.push(`Fv(${guidFromBytes(n.data)})`);
    else parts.push(`Path(${n.type},${n.subType})`);
  }
  return parts.join('/').replace(/\/,\//g, ',');
}

/** The parts one after another, in one new array (device paths and load options are built from nodes). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
