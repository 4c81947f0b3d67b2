/** Sizes, speeds and durations as people read them (bytes in the CLI's words). */
export { formatBytes } from '../../electron/core/units.js';

export function formatSize(bytes: number): string {
  // Card makers count in powers of ten.
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  return `${Math.round(bytes / 1e6)} MB`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
