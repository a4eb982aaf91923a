/**
 * RecordInfo answer (GB28181-2016 Annex A.2.6 文件目录检索应答). Items come from an injectable
 * archive query; without one the answer is SumNum 0 with an empty RecordList, which WVP
 * completes at once (notes §8.1). Items must be unique by (StartTime, EndTime).
 */
import { XmlContent } from './manscdp-writer';

export interface RecordItem {
  /** Channel ID (WVP skips items without DeviceID). */
  deviceId: string;
  name: string;
  /** Platform wall-clock times, `yyyy-MM-ddTHH:mm:ss`. */
  startTime: string;
  endTime: string;
  filePath?: string;
  fileSize?: number;
  address?: string;
  secrecy?: number;
  type?: string;
}

/** What the device asks the archive: recordings of a channel between two instants (Unix ms). */
export type RecordQuery = (channelId: string, start: number, end: number) => Promise<RecordItem[]>;

export function recordInfoResponses(sn: string, channelId: string, name: string, items: RecordItem[], batchSize: number): XmlContent[] {
  const size = Math.max(1, Math.floor(batchSize));
  const parts: XmlContent[] = [];
  for (let i = 0; i === 0 || i < items.length; i += size) {
    const chunk = items.slice(i, i + size);
    parts.push({
      CmdType: 'RecordInfo',
      SN: sn,
      DeviceID: channelId,
      Name: name,
      SumNum: String(items.length),
      RecordList: {
        '@Num': String(chunk.length),
        ...(chunk.length
          ? {
              Item: chunk.map((r) => ({
                DeviceID: r.deviceId,
                Name: r.name,
                FilePath: r.filePath ?? '',
                Address: r.address ?? 'Address',
                StartTime: r.startTime,
                EndTime: r.endTime,
                Secrecy: String(r.secrecy ?? 0),
                Type: r.type ?? 'time',
                FileSize: r.fileSize !== undefined ? String(r.fileSize) : undefined,
              })),
            }
          : {}),
      },
    });
    if (items.length === 0) break;
  }
  return parts;
}
