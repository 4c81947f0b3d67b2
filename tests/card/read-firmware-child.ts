/**
 * Run by the hostile-zip tests in a fresh process (node --import tsx): reads
 * one firmware source through the real reader and prints, as JSON, the error
 * code (or the file count) and the process's peak resident memory, so a
 * test can bound what a hostile archive costs.
 */
import { readFirmwareSource } from '../../electron/core/card/firmware-zip.io.js';
import { DEFAULT_CARD_PARTITION_SIZE } from '../../electron/core/card/size.js';
import { BootcardError } from '../../electron/core/errors.js';

const source = process.argv[2]!;
let outcome: { files: number } | { code: string; message: string };
try {
  outcome = { files: (await readFirmwareSource(source, { partitionSize: DEFAULT_CARD_PARTITION_SIZE })).length };
} catch (error) {
  outcome = BootcardError.is(error) ? { code: error.code, message: error.message } : { code: 'THROWN', message: String(error) };
}
// resourceUsage().maxRSS is in KiB.
process.stdout.write(JSON.stringify({ ...outcome, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
