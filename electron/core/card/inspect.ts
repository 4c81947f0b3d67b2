/**
 * What is on a card or card image, in words: the partition table, the file
 * tree, config.txt, and the bootloader config inside a pieeprom.bin.
 * Reads through a ByteReader (an image file, a block device, or a composed
 * image in memory).
 */
import { bytesToHex } from '@noble/hashes/utils';
import { explainConfig, formatExplanation } from '../eeprom/explain.js';
import { parseEepromImage, readBootConf, type Board } from '../eeprom/image.js';
import { missingOverlays, missingOverlayWarning } from '../configtxt/config-txt.js';
import { partitionTypeName } from '../fat32/mbr.js';
import { readFatImage, type ByteReader, type FatTreeNode } from '../fat32/reader.js';
import { listUefiVariables } from '../uefi/nvram.js';
import { formatBytes } from './size.js';

export interface InspectedPartition {
  readonly index: number;
  readonly type: number;
  readonly typeName: string;
  readonly bootable: boolean;
  readonly offset: number;
  readonly size: number;
}

export interface CardInspection {
  readonly size: number;
  readonly diskSignature: number | null;
  /** null when the file system starts at byte 0 (no partition table). */
  readonly partitions: readonly InspectedPartition[] | null;
  readonly fileSystem: {
    readonly partitionIndex: number | null;
    readonly label: string;
    readonly volumeId: string;
    readonly clusterBytes: number;
    readonly clusters: number;
    readonly oemName: string;
  };
  readonly kind: 'uefi' | 'eeprom-recovery' | 'other';
  readonly tree: readonly FatTreeNode[];
  readonly configTxt: string | null;
  readonly bootloader: {
    readonly board: Board;
    readonly config: string;
    readonly explanation: string;
  } | null;
  /** The live UEFI variables in RPI_EFI.fd, decoded as `bootcard uefi vars list` shows them; null without RPI_EFI.fd. */
  readonly uefiVariables: readonly { readonly name: string; readonly value: string }[] | null;
  /** Problems found while reading (e.g. a pieeprom.bin that does not parse). */
  readonly problems: readonly string[];
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');

export async function inspectCard(reader: ByteReader): Promise<CardInspection> {
  const card = await readFatImage(reader);
  const volume = card.volume;
  const tree = await volume.tree();
  const problems: string[] = [];
  const configTxt = (await volume.exists('config.txt')) ? new TextDecoder().decode(await volume.readFile('config.txt')) : null;
  let bootloader: CardInspection['bootloader'] = null;
  if (await volume.exists('pieeprom.bin')) {
    try {
      const bytes = await volume.readFile('pieeprom.bin');
      const image = parseEepromImage(bytes);
      const config = readBootConf(bytes, image);
      bootloader = { board: image.board, config, explanation: formatExplanation(explainConfig(config, image.board)) };
    } catch (error) {
      problems.push(`pieeprom.bin is not a bootloader image bootcard can read: ${(error as Error).message}`);
    }
  }
  if (configTxt !== null) {
    const paths = (await volume.files()).map((f) => f.path);
    problems.push(...missingOverlays(configTxt, paths).map(missingOverlayWarning));
  }
  const kind = (await volume.exists('RPI_EFI.fd')) ? 'uefi' : (await volume.exists('recovery.bin')) ? 'eeprom-recovery' : 'other';
  let uefiVariables: CardInspection['uefiVariables'] = null;
  if (kind === 'uefi') {
    try {
      const listing = listUefiVariables(await volume.readFile('RPI_EFI.fd'));
      uefiVariables = listing.variables
        .filter((v) => v.live)
        .map((v) => ({ name: v.name, value: v.value ?? (v.data.length <= 16 ? `0x${bytesToHex(v.data)}` : `${v.data.length} bytes`) }));
    } catch (error) {
      problems.push(`RPI_EFI.fd has no UEFI variable store bootcard can read: ${(error as Error).message}`);
    }
  }
  return {
    size: reader.size,
    diskSignature: card.diskSignature,
    partitions:
      card.partitions?.map((p) => ({ index: p.index, type: p.type, typeName: partitionTypeName(p.type), bootable: p.bootable, offset: p.firstLba * 512, size: p.sectorCount * 512 })) ?? null,
    fileSystem: {
      partitionIndex: card.partition?.index ?? null,
      label: volume.boot.label,
      volumeId: `${hex8(volume.boot.volumeId).slice(0, 4)}-${hex8(volume.boot.volumeId).slice(4)}`,
      clusterBytes: volume.boot.sectorsPerCluster * volume.boot.bytesPerSector,
      clusters: volume.boot.clusterCount,
      oemName: volume.boot.oemName,
    },
    kind,
    tree,
    configTxt,
    bootloader,
    uefiVariables,
    problems,
  };
}

function treeLines(nodes: readonly FatTreeNode[], indent: string, out: string[]): void {
  for (const n of nodes) {
    out.push(n.directory ? `${indent}${n.name}/` : `${indent}${n.name}  (${formatBytes(n.size)})`);
    if (n.children) treeLines(n.children, `${indent}  `, out);
  }
}

/** The inspection as text for the terminal. */
export function formatInspection(inspection: CardInspection): string {
  const out: string[] = [];
  const kindWords = { uefi: 'a UEFI firmware card', 'eeprom-recovery': 'an EEPROM recovery card', other: 'a FAT32 card' }[inspection.kind];
  out.push(`This is ${kindWords} (${formatBytes(inspection.size)}).`, '');
  if (inspection.partitions) {
    out.push(`Partition table: MBR, disk signature ${hex8(inspection.diskSignature ?? 0)}`);
    for (const p of inspection.partitions) {
      out.push(`  ${p.index}: type 0x${p.type.toString(16).padStart(2, '0')} (${p.typeName}), starts at ${formatBytes(p.offset)}, ${formatBytes(p.size)}${p.bootable ? ', active' : ''}`);
    }
  } else {
    out.push('Partition table: none (the file system starts at byte 0)');
  }
  const fs = inspection.fileSystem;
  out.push(`File system: FAT32, label "${fs.label}", volume ID ${fs.volumeId}, ${fs.clusters} clusters of ${formatBytes(fs.clusterBytes)}`, '', 'Files:');
  const lines: string[] = [];
  treeLines(inspection.tree, '  ', lines);
  out.push(...(lines.length ? lines : ['  (none)']));
  if (inspection.configTxt !== null) out.push('', 'config.txt:', ...inspection.configTxt.replace(/\n$/, '').split('\n').map((l) => `  ${l}`));
  if (inspection.bootloader) {
    const b = inspection.bootloader;
    out.push('', `Bootloader config in pieeprom.bin (${b.board === '2711' ? 'Pi 4, 2711' : 'Pi 5, 2712'}):`, ...b.config.replace(/\n+$/, '').split('\n').map((l) => `  ${l}`));
    out.push('', 'In words:', ...b.explanation.split('\n').map((l) => `  ${l}`));
  }
  if (inspection.uefiVariables) {
    out.push('', 'UEFI variables in RPI_EFI.fd:');
    if (inspection.uefiVariables.length === 0) out.push('  (none: the firmware uses its defaults)');
    for (const v of inspection.uefiVariables) out.push(`  ${v.name.padEnd(24)} ${v.value}`);
  }
  for (const p of inspection.problems) out.push('', `Problem: ${p}`);
  return out.join('\n');
}
