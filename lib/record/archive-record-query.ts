/**
 * The RecordQuery GbDevice takes (lib/manscdp/record-info-response.ts:
 * `(channelId, startMs, endMs) => Promise<RecordItem[]>`), answered from each channel's
 * RecordArchive. End is taken as inclusive to the second (WVP asks 00:00:00–23:59:59).
 */
import { RecordItem, RecordQuery } from '../manscdp/record-info-response';
import { SegmentQueryable, recordInfoItems } from './record-info-items';

export interface ChannelArchive {
  archive: SegmentQueryable;
  /** Item Name (default the channel ID). */
  name?: string;
  address?: string;
}

export function archiveRecordQuery(lookup: (channelId: string) => ChannelArchive | undefined, timeZone: string): RecordQuery {
  return async (channelId, startMs, endMs) => {
    const entry = lookup(channelId);
    if (!entry || !Number.isFinite(startMs) || !Number.isFinite(endMs) || endMs < startMs) return [];
    const items = recordInfoItems(entry.archive.query(startMs, endMs + 1000), { channelId, timeZone, name: entry.name, address: entry.address });
    return items.map((i): RecordItem => ({
      deviceId: i.DeviceID,
      name: i.Name,
      startTime: i.StartTime,
      endTime: i.EndTime,
      filePath: i.FilePath,
      fileSize: i.FileSize,
      address: i.Address || undefined,
      secrecy: i.Secrecy,
      type: i.Type,
    }));
  };
}
