/**
 * Mobile position notification (GB28181-2016 §9.11.3, Annex A.2.5 移动设备位置数据通知). WVP reads
 * DeviceID (must be a known channel), Time, Longitude, Latitude, Speed, Direction, Altitude
 * (NotifyRequestForMobilePositionProcessor).
 */
import { formatPlatformTime } from '../sip/platform-clock';
import { XmlContent } from './manscdp-writer';

export interface PositionFields {
  channelId: string;
  timeMs: number;
  longitude: number;
  latitude: number;
  /** km/h */
  speed?: number;
  /** Degrees from north, clockwise. */
  direction?: number;
  /** Metres. */
  altitude?: number;
}

export function mobilePositionNotify(sn: number, p: PositionFields, timeZone: string): XmlContent {
  return {
    CmdType: 'MobilePosition',
    SN: String(sn),
    DeviceID: p.channelId,
    Time: formatPlatformTime(p.timeMs, timeZone),
    Longitude: String(p.longitude),
    Latitude: String(p.latitude),
    Speed: String(p.speed ?? 0),
    Direction: String(p.direction ?? 0),
    Altitude: String(p.altitude ?? 0),
  };
}
