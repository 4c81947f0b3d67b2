/**
 * FAT timestamps: a 16-bit date (bits 15-9 years since 1980, 8-5 month,
 * 4-0 day) and a 16-bit time (15-11 hours, 10-5 minutes, 4-0 seconds / 2),
 * plus a creation-time byte of 10 ms units (0-199) for the odd second.
 * bootcard writes UTC, so an image does not depend on the machine's time zone.
 */
export const DOS_EPOCH_SECONDS = Date.UTC(1980, 0, 1) / 1000;
/** The last moment a FAT date can hold: 2107-12-31 23:59:58 UTC. */
export const DOS_MAX_SECONDS = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;

export interface DosTimestamp {
  readonly date: number;
  readonly time: number;
  /** 10 ms units past `time` (0 or 100 for whole seconds). */
  readonly centiseconds: number;
}

/** Converts Unix seconds to a FAT timestamp, clamped to 1980-2107. */
export function toDosTimestamp(unixSeconds: number): DosTimestamp {
  const clamped = Math.min(Math.max(Math.floor(unixSeconds), DOS_EPOCH_SECONDS), DOS_MAX_SECONDS);
  const d = new Date(clamped * 1000);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time, centiseconds: (d.getUTCSeconds() & 1) * 100 };
}

/** Converts a FAT date and time back to Unix seconds (UTC). */
export function fromDosTimestamp(date: number, time: number): number {
  const year = 1980 + (date >> 9);
  const month = Math.max(1, (date >> 5) & 0x0f) - 1;
  const day = Math.max(1, date & 0x1f);
  return Date.UTC(year, month, day, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2) / 1000;
}
