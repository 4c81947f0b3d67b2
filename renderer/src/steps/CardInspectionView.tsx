import { useEffect, useState } from 'react';
import { explainBootOrder } from '../../../electron/core/eeprom/boot-order.js';
import { explainConfig } from '../../../electron/core/eeprom/explain.js';
import type { FatTreeNode } from '../../../electron/core/fat32/reader.js';
import type { CardInspectResult, CardInspection } from '../../../electron/ipc/channels/card.js';
import type { RequestOf } from '../../../electron/ipc/contract.js';
import { messageOf, useClient } from '../client-context.js';
import { formatExactBytes, formatSize } from '../format.js';

export type InspectTarget = RequestOf<'card.inspect'>;

const KIND_WORDS: Record<CardInspection['kind'], string> = {
  uefi: 'A UEFI firmware card',
  'eeprom-recovery': 'An EEPROM recovery card',
  other: 'A FAT32 card',
};

const hex2 = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

/** "1. network (TFTP) 2. SD card 3. restart", from the EEPROM core, for the BOOT_ORDER every board reads. */
function bootOrderSentence(bootloader: NonNullable<CardInspection['bootloader']>): string {
  const settings = explainConfig(bootloader.config, bootloader.board).settings;
  const bootOrder = settings.filter((s) => s.key === 'BOOT_ORDER' && (s.section === null || s.section === 'all')).at(-1);
  if (!bootOrder) return 'BOOT_ORDER is not set: the bootloader uses its default order.';
  try {
    return `BOOT_ORDER=${bootOrder.value}: ${explainBootOrder(bootOrder.value, bootloader.board)}`;
  } catch (error) {
    return `BOOT_ORDER=${bootOrder.value} is not a valid boot order (${messageOf(error)}).`;
  }
}

function FileTree({ nodes }: { nodes: readonly FatTreeNode[] }) {
  return (
    <ul>
      {nodes.map((n) =>
        n.directory ? (
          <li key={n.path}>
            <details open>
              <summary>
                <code>{n.name}/</code>
              </summary>
              {n.children && n.children.length > 0 ? <FileTree nodes={n.children} /> : <p className="hint">(empty)</p>}
            </details>
          </li>
        ) : (
          <li key={n.path}>
            <code>{n.name}</code> <span className="file-size" title={formatExactBytes(n.size)}>{formatSize(n.size)}</span>
          </li>
        ),
      )}
    </ul>
  );
}

/** The UEFI variables stored in the card's RPI_EFI.fd, decoded as `bootcard uefi vars list` shows them. */
function UefiVariables({ variables }: { variables: NonNullable<CardInspection['uefiVariables']> }) {
  return (
    <>
      <h4 className="small-heading" id="inspect-uefi">UEFI variables in RPI_EFI.fd</h4>
      {variables.length === 0 ? (
        <p className="empty">None: the firmware uses its defaults.</p>
      ) : (
        <table className="files uefi-variables" aria-labelledby="inspect-uefi">
          <tbody>
            {variables.map((v) => (
              <tr key={v.name}>
                <td><code>{v.name}</code></td>
                <td>{v.value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Contents({ inspection }: { inspection: CardInspection }) {
  const fs = inspection.fileSystem;
  const bootloader = inspection.bootloader;
  return (
    <>
      <p data-testid="inspect-summary">
        {KIND_WORDS[inspection.kind]} ({formatSize(inspection.size)}, {formatExactBytes(inspection.size)}): FAT32 “{fs.label}”, volume ID {fs.volumeId}, {fs.clusters} clusters of {formatExactBytes(fs.clusterBytes)}.
      </p>
      {inspection.partitions ? (
        <table className="partitions" aria-label="Partition table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Type</th>
              <th scope="col" className="num">Start</th>
              <th scope="col" className="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {inspection.partitions.map((p) => (
              <tr key={p.index}>
                <td>{p.index}</td>
                <td>
                  <code>{hex2(p.type)}</code> {p.typeName}
                  {p.bootable ? ', active' : ''}
                </td>
                <td className="num" title={formatExactBytes(p.offset)}>{formatSize(p.offset)}</td>
                <td className="num" title={formatExactBytes(p.size)}>{formatSize(p.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>No partition table: the file system starts at byte 0.</p>
      )}
      <div className="columns">
        <div>
          <h4 className="small-heading" id="inspect-files">Files</h4>
          {/* Focusable so the keyboard can scroll a long tree. */}
          <div className="file-tree" role="region" aria-labelledby="inspect-files" tabIndex={0}>
            {inspection.tree.length > 0 ? <FileTree nodes={inspection.tree} /> : <p className="empty">No files.</p>}
          </div>
        </div>
        <div>
          {inspection.configTxt !== null ? (
            <>
              <h4 className="small-heading" id="inspect-configtxt">config.txt</h4>
              <pre className="config-preview" aria-labelledby="inspect-configtxt" tabIndex={0}>
                {inspection.configTxt}
              </pre>
            </>
          ) : null}
          {bootloader ? (
            <>
              <h4 className="small-heading" id="inspect-bootconf">
                Bootloader config in pieeprom.bin ({bootloader.board === '2711' ? 'Pi 4, 2711' : 'Pi 5, 2712'})
              </h4>
              <p data-testid="inspect-boot-order">{bootOrderSentence(bootloader)}</p>
              <pre className="config-preview" aria-labelledby="inspect-bootconf" tabIndex={0}>
                {bootloader.config}
              </pre>
            </>
          ) : null}
          {inspection.uefiVariables ? <UefiVariables variables={inspection.uefiVariables} /> : null}
          {inspection.configTxt === null && !bootloader ? <p className="empty">No config.txt and no bootloader image on this card.</p> : null}
        </div>
      </div>
      {inspection.problems.length > 0 ? (
        <ul className="diagnostics">
          {inspection.problems.map((p) => (
            <li key={p} className="warning">
              {p}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

/** What is on a card or card image (read only): partition table, files, config.txt, bootloader config. */
export function CardInspectionView({ target }: { target: InspectTarget }) {
  const client = useClient();
  const kind = 'device' in target ? 'device' : 'image';
  const where = 'device' in target ? target.device : target.image;
  const [result, setResult] = useState<CardInspectResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!where) return;
    const controller = new AbortController();
    setResult(null);
    setError(null);
    client.call('card.inspect', kind === 'device' ? { device: where } : { image: where }, { signal: controller.signal }).then(
      (r) => !controller.signal.aborted && setResult(r),
      (e: unknown) => !controller.signal.aborted && setError(messageOf(e)),
    );
    return () => controller.abort();
  }, [client, kind, where]);
  return (
    <section className="inspection" aria-labelledby="inspect-title">
      <h3 id="inspect-title">
        What is on <code>{where}</code>
      </h3>
      {error ? (
        <p role="alert" className="field-error">
          {error}
        </p>
      ) : result ? (
        <Contents inspection={result.inspection} />
      ) : (
        <p aria-busy="true">Reading the card…</p>
      )}
    </section>
  );
}
