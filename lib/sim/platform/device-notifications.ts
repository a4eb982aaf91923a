/**
 * Reading the notifications a device pushes, with WVP's rules for what it keeps and what it drops:
 * - Catalog changes (NotifyRequestForCatalogProcessor): items without DeviceID are skipped; a missing
 *   `<Event>` counts as ADD; ON → online, OFF/VLOST/DEFECT → offline, ADD/UPDATE → insert or update,
 *   DEL → delete; any other Event is logged and ignored. GB28181-2016 §9.6.3 / Annex A.2.5.
 * - Alarm (DeviceAlarmNotify#fromXml, used for NOTIFY and MESSAGE): the DeviceID child is the alarm
 *   source; AlarmTime must parse as ISO 8601 (`yyyy-MM-ddTHH:mm:ss`, optional `.SSS`, optional zone) or
 *   the alarm is lost; with an `<Info>` element the type is Info/AlarmType (even when absent there) and
 *   Info/AlarmTypeParam/AlarmDescription replaces the description. GB28181-2016 §9.4 / Annex A.2.5.
 * - MobilePosition (NotifyRequestForMobilePositionProcessor): Longitude/Latitude must be numbers
 *   (Double.parseDouble, else the batch is lost); Speed/Direction/Altitude default to 0.
 */
import { ManscdpDocument } from './manscdp-body';

export type CatalogEventName = 'ON' | 'OFF' | 'VLOST' | 'DEFECT' | 'ADD' | 'DEL' | 'UPDATE';
const CATALOG_EVENTS = new Set<string>(['ON', 'OFF', 'VLOST', 'DEFECT', 'ADD', 'DEL', 'UPDATE']);

export interface CatalogChange {
  channelId: string;
  event: CatalogEventName;
  /** The item had no `<Event>`: WVP takes it as ADD. */
  eventDefaulted: boolean;
  /** The item's fields, flattened (`Info.PTZType`). */
  item: Record<string, string>;
}

export interface PlatformAlarm {
  /** Device that sent it (From user). */
  deviceId: string;
  /** `<DeviceID>` of the body: the alarm source (a channel or the device). */
  channelId: string;
  priority?: number;
  method?: number;
  type?: number;
  description: string;
  /** AlarmTime as sent. */
  time: string;
  /** AlarmTime read in the platform's zone (PlatformEmulatorOptions.timeZone; a zone suffix wins). */
  timeMs: number;
  longitude: number;
  latitude: number;
  via: 'notify' | 'message';
  sn: string;
  receivedAt: number;
}

export interface MobilePositionReport {
  deviceId: string;
  /** `<DeviceID>` when it differs from the device ID (WVP stores it as the channel). */
  channelId?: string;
  time?: string;
  longitude: number;
  latitude: number;
  speed: number;
  direction: number;
  altitude: number;
  via: 'notify' | 'message';
  receivedAt: number;
}

export interface Parsed<T> {
  value?: T;
  problems: string[];
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?(Z|[+-]\d{2}:\d{2})?$/;

/** Minutes east of UTC of an IANA zone at a given instant. */
function zoneOffsetMinutes(timeZone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(new Date(atMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(atMs / 1000) * 1000) / 60_000);
}

/**
 * DateUtil#ISO8601Toyyyy_MM_dd_HH_mm_ss accepts these forms; undefined for anything else. A time
 * without zone is wall time in `timeZone` (WVP's configured zone), else in this process's zone.
 */
export function parseWvpIsoTime(text: string, timeZone?: string): number | undefined {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.slice(1)) : 0;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (!zone && timeZone) {
    // Two passes settle the offset across a DST change.
    let guess = utc - zoneOffsetMinutes(timeZone, utc) * 60_000;
    guess = utc - zoneOffsetMinutes(timeZone, guess) * 60_000;
    return guess;
  }
  if (!zone) return new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms).getTime();
  if (zone === 'Z') return utc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return utc - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

const intOrUndefined = (v: string | undefined): number | undefined => (v !== undefined && /^\s*-?\d+\s*$/.test(v) ? Number(v.trim()) : undefined);
const numberOr0 = (v: string | undefined): number => {
  const n = v === undefined || v.trim() === '' ? NaN : Number(v.trim());
  return Number.isFinite(n) ? n : 0;
};

export function parseCatalogChanges(doc: ManscdpDocument): Parsed<CatalogChange[]> {
  const problems: string[] = [];
  const hasList = 'DeviceList' in doc.fields || Object.keys(doc.fields).some((k) => k.startsWith('DeviceList.')) || doc.items.length > 0;
  if (!hasList) return { problems: ['Catalog NOTIFY without <DeviceList>: WVP ignores it'] };
  const changes: CatalogChange[] = [];
  for (const item of doc.items) {
    const channelId = (item.DeviceID ?? '').trim();
    if (!channelId) {
      problems.push('Catalog NOTIFY item without <DeviceID>: WVP skips it');
      continue;
    }
    const raw = item.Event;
    const event = (raw ?? 'ADD').trim().toUpperCase();
    if (!CATALOG_EVENTS.has(event)) {
      problems.push(`Catalog NOTIFY item ${channelId}: unknown Event "${raw ?? ''}", WVP ignores it`);
      continue;
    }
    changes.push({ channelId, event: event as CatalogEventName, eventDefaulted: raw === undefined, item });
  }
  return { value: changes, problems };
}

export function parseAlarm(doc: ManscdpDocument, deviceId: string, via: 'notify' | 'message', timeZone?: string): Parsed<PlatformAlarm> {
  const f = doc.fields;
  if (f.DeviceID === undefined) return { problems: ['Alarm without <DeviceID>: WVP fails on it and loses the alarm'] };
  const time = f.AlarmTime;
  if (time === undefined || time.trim() === '') return { problems: ['Alarm without <AlarmTime>: WVP cannot convert the time and loses the alarm'] };
  const timeMs = parseWvpIsoTime(time, timeZone);
  if (timeMs === undefined) return { problems: [`Alarm AlarmTime "${time}" is not ISO 8601 (yyyy-MM-ddTHH:mm:ss): WVP loses the alarm`] };
  const problems: string[] = [];
  const hasInfo = 'Info' in f || Object.keys(f).some((k) => k.startsWith('Info.'));
  let type = intOrUndefined(f.AlarmType);
  let description = f.AlarmDescription ?? '';
  if (hasInfo) {
    // fromXml: with <Info>, the type comes from Info/AlarmType only (a top-level AlarmType is overwritten).
    type = intOrUndefined(f['Info.AlarmType']);
    if (f.AlarmType !== undefined && f['Info.AlarmType'] === undefined) problems.push('Alarm has <AlarmType> at top level and an <Info> without it: WVP records no type');
    if ('Info.AlarmTypeParam' in f || Object.keys(f).some((k) => k.startsWith('Info.AlarmTypeParam.'))) description = f['Info.AlarmTypeParam.AlarmDescription'] ?? '';
  }
  const method = intOrUndefined(f.AlarmMethod);
  if (f.AlarmMethod !== undefined && method === undefined) problems.push(`Alarm AlarmMethod "${f.AlarmMethod}" is not a number`);
  return {
    value: {
      deviceId, channelId: f.DeviceID.trim(), priority: intOrUndefined(f.AlarmPriority), method, type, description, time: time.trim(), timeMs,
      longitude: numberOr0(f.Longitude), latitude: numberOr0(f.Latitude), via, sn: doc.sn, receivedAt: Date.now(),
    },
    problems,
  };
}

export function parseMobilePosition(doc: ManscdpDocument, deviceId: string, via: 'notify' | 'message'): Parsed<MobilePositionReport> {
  const f = doc.fields;
  const bad = (['Longitude', 'Latitude'] as const).filter((k) => f[k] !== undefined && !Number.isFinite(Number(f[k].trim() === '' ? NaN : f[k].trim())));
  if (bad.length) return { problems: [`MobilePosition ${bad.join('/')} not a number: WVP (Double.parseDouble) loses the report`] };
  const problems: string[] = [];
  const source = f.DeviceID?.trim();
  if (source === deviceId) problems.push('MobilePosition DeviceID equals the device ID: WVP keeps no channel for it');
  return {
    value: {
      deviceId, channelId: source && source !== deviceId ? source : undefined, time: f.Time?.trim() || undefined,
      longitude: numberOr0(f.Longitude), latitude: numberOr0(f.Latitude), speed: numberOr0(f.Speed), direction: numberOr0(f.Direction), altitude: numberOr0(f.Altitude),
      via, receivedAt: Date.now(),
    },
    problems,
  };
}
