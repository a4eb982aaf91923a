/**
 * The platform's wall clock from the Date header of a REGISTER 200. WVP writes
 * `yyyy-MM-ddTHH:mm:ss.SSS` in its own zone with no suffix (GB28181-2016 §9.10.1, time sync by
 * registration); RFC 1123 dates (RFC 3261 §20.17) are read too.
 */
export function parsePlatformDate(value: string, timeZone: string): number | undefined {
  const v = value.trim();
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(v);
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
    const asUtc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    if (m[8]) {
      if (m[8] === 'Z') return asUtc;
      const sign = m[8][0] === '-' ? -1 : 1;
      const digits = m[8].slice(1).replace(':', '');
      return asUtc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
    }
    return asUtc - zoneOffsetMs(timeZone, asUtc);
  }
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/** Offset of a time zone from UTC at (about) a given instant, in ms. */
export function zoneOffsetMs(timeZone: string, at: number): number {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(at));
    const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
    return local - Math.floor(at / 1000) * 1000;
  } catch {
    return 8 * 3600_000; // Asia/Shanghai, WVP's hard-coded zone, if the runtime lacks the zone data
  }
}

/** Formats an instant as the platform's wall clock `yyyy-MM-ddTHH:mm:ss` (GB28181-2016 Annex A time type). */
export function formatPlatformTime(at: number, timeZone: string): string {
  const d = new Date(at + zoneOffsetMs(timeZone, at));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
