/**
 * RecordInfo (GB28181-2016 §9.7, Annex A.2.6) items from archive segments, and the query's times.
 *
 * WVP's rules (notes §8.1): times are `yyyy-MM-ddTHH:mm:ss` wall-clock digits in Asia/Shanghai with
 * no suffix (`T` required); every item needs DeviceID; a duplicate StartTime+EndTime within one
 * MESSAGE loses the whole MESSAGE, so items are unique by (StartTime, EndTime) across the answer.
 */
import { RecordSegment } from './record-segment';
import { formatWallClock, isValidWallClock, wallClockToMs } from './zoned-time';

export interface RecordInfoItem {
  DeviceID: string;
  Name: string;
  FilePath: string;
  Address: string;
  StartTime: string;
  EndTime: string;
  FileSize: number;
  Secrecy: number;
  Type: 'time' | 'alarm' | 'manual' | 'all';
  RecorderID: string;
}

export interface RecordInfoItemOptions {
  channelId: string;
  timeZone: string;
  /** Item Name; default the channel ID. */
  name?: string;
  address?: string;
  /** RecorderID; default the channel ID. */
  recorderId?: string;
}

/** One item per segment, in segment order, dropping any whose (StartTime, EndTime) repeats. */
export function recordInfoItems(segments: readonly RecordSegment[], o: RecordInfoItemOptions): RecordInfoItem[] {
  const seen = new Set<string>();
  const items: RecordInfoItem[] = [];
  for (const s of segments) {
    const StartTime = formatWallClock(s.startMs, o.timeZone);
    const EndTime = formatWallClock(s.endMs, o.timeZone);
    const key = `${StartTime}|${EndTime}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push({
      DeviceID: o.channelId,
      Name: o.name ?? o.channelId,
      FilePath: s.relativePath,
      Address: o.address ?? '',
      StartTime,
      EndTime,
      FileSize: s.size,
      Secrecy: 0,
      Type: 'time',
      RecorderID: o.recorderId ?? o.channelId,
    });
  }
  return items;
}

// Date 'T' time, unpadded digits allowed, optional fraction, optional Z or ±hh:mm (ignored like WVP's DateUtil).
const QUERY_TIME = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})?$/;

/**
 * Unix ms of a RecordInfo StartTime/EndTime read as wall-clock digits in `timeZone`; undefined for
 * a malformed value (missing `T`, bad date). Surrounding whitespace is trimmed.
 */
export function parseRecordInfoTime(text: string, timeZone: string): number | undefined {
  const m = QUERY_TIME.exec(text.trim());
  if (!m) return undefined;
  const w = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6]) };
  return isValidWallClock(w) ? wallClockToMs(w, timeZone) : undefined;
}

export interface RecordInfoQuery {
  channelId: string;
  /** As received (trimmed here). */
  startTime: string;
  endTime: string;
  /** `all`, `time`, `alarm`, `manual`; everything we hold is `time`. */
  type?: string;
}

/** What a segment source offers the RecordInfo answer (RecordArchive does). */
export interface SegmentQueryable {
  query(startMs: number, endMs: number): RecordSegment[];
}

/**
 * The async query GbDevice's RecordInfo answer takes: items for one channel's archive.
 * An unparseable time or a reversed range gives no items (the answer is then SumNum 0).
 * The EndTime is inclusive to the second (WVP asks 00:00:00–23:59:59).
 */
export function recordInfoQueryFor(archive: SegmentQueryable, o: RecordInfoItemOptions): (q: RecordInfoQuery) => Promise<RecordInfoItem[]> {
  return async (q) => {
    const start = parseRecordInfoTime(q.startTime, o.timeZone);
    const end = parseRecordInfoTime(q.endTime, o.timeZone);
    if (start === undefined || end === undefined || end < start) return [];
    const type = (q.type ?? 'all').trim().toLowerCase();
    if (type && type !== 'all' && type !== 'time') return [];
    return recordInfoItems(archive.query(start, end + 1000), o);
  };
}
