/**
 * Wall-clock time in an IANA time zone ↔ Unix milliseconds, with the runtime's Intl data only.
 * GB28181 carries recording times as local wall-clock digits without an offset (WVP converts them
 * with Asia/Shanghai, notes §8.1), so every conversion here names its zone explicitly and never
 * depends on the server's own TZ.
 */
export interface WallClock {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError for a zone the runtime does not know (checked once at configuration time). */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** The wall clock in `timeZone` at Unix time `ms` (whole seconds). */
export function wallClockAt(ms: number, timeZone: string): WallClock {
  const parts = formatterFor(timeZone).formatToParts(new Date(Math.floor(ms / 1000) * 1000));
  const get = (t: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === t)?.value ?? '0');
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** Offset of `timeZone` from UTC at Unix time `ms`, in ms (Asia/Shanghai: +8 h). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const w = wallClockAt(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * Unix ms of a wall-clock time in `timeZone`. In a DST overlap the earlier instant wins; a time
 * skipped by DST maps forward by the gap (as most NVRs name such files).
 */
export function wallClockToMs(w: WallClock, timeZone: string): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const second = asUtc - zoneOffsetMs(first, timeZone);
  const same = (ms: number): boolean => {
    const back = wallClockAt(ms, timeZone);
    return back.year === w.year && back.month === w.month && back.day === w.day && back.hour === w.hour && back.minute === w.minute && back.second === w.second;
  };
  const exact = [first, second].filter(same);
  return exact.length ? Math.min(...exact) : Math.max(first, second);
}

/** True when the fields name a real calendar date and time (rejects 2024-02-30, 25:00:00). */
export function isValidWallClock(w: WallClock): boolean {
  if (w.month < 1 || w.month > 12 || w.day < 1 || w.hour > 23 || w.minute > 59 || w.second > 59) return false;
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day));
  return d.getUTCMonth() === w.month - 1 && d.getUTCDate() === w.day;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `YYYY-MM-DDTHH:mm:ss` in `timeZone`, no suffix (the form WVP accepts, notes §8.1). */
export function formatWallClock(ms: number, timeZone: string): string {
  const w = wallClockAt(ms, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
}
