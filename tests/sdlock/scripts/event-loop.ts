/**
 * Reads a card's status while a timer ticks every 10 ms, and prints how many
 * ticks happened during the call: the addon must not block the event loop.
 */
import { getSdLockStatus } from '../../../electron/core/sdlock/sdlock.io.js';

const device = process.argv[2] ?? '/dev/mmcblk0';
let ticks = 0;
const timer = setInterval(() => ticks++, 10);
const started = Date.now();
const status = await getSdLockStatus(device);
clearInterval(timer);
process.stdout.write(`${JSON.stringify({ ticks, ms: Date.now() - started, state: status.state })}\n`);
