/** Request fields several channels share, validated the same way everywhere. */
import { z } from 'zod';

/** A path on the machine running bootcard (absolute, or relative to its working folder). */
export const filePathSchema = z.string().min(1).max(4096);

/** A block device node: letters, digits, `_`, `-` and `/` under /dev (no `..`, no spaces). */
export const devicePathSchema = z.string().regex(/^\/dev\/[A-Za-z0-9_\-/]+$/, 'a device path such as /dev/mmcblk0 or /dev/sdb');
