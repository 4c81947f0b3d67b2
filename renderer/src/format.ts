/**
 * Sizes, counts and durations as the wizard says them. One convention for
 * every size on screen: powers of ten, the way card makers sell cards (a
 * "32 GB" card is 31,914,983,424 bytes), with the exact byte count where it
 * matters (beside a card's size, and an image's).
 */
const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${bytes} B`;
  // 31.9e9 reads "32 GB" as on the card's label; below ten, one decimal ("7.9 GB", "1.5 MB").
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${DECIMAL_UNITS[unit]}`;
}

/** "31,914,983,424 bytes" (grouped the same whatever the browser's locale, so it reads like the CLI's). */
export function formatExactBytes(bytes: number): string {
  return `${String(Math.round(bytes)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** "1 card", "3 cards"; `many` for irregular plurals ("1 Pi folder", "2 Pi folders" need none). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
