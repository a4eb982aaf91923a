/**
 * Alarm notification body (GB28181-2016 §9.4, Annex A.2.5 报警通知), sent as a NOTIFY to Alarm
 * subscribers or as a MESSAGE `<Notify>`. WVP drops an alarm without AlarmTime and parses it as
 * `yyyy-MM-ddTHH:mm:ss` (AlarmNotifyMessageHandler, NotifyRequestProcessor#processNotifyAlarm).
 */
import { formatPlatformTime } from '../sip/platform-clock';
import { XmlContent } from './manscdp-writer';

export interface AlarmFields {
  /** Alarm source: a channel ID or the device ID. */
  channelId: string;
  /** AlarmPriority 1 (highest) .. 4. */
  priority: number;
  /** AlarmMethod 1..7. */
  method: number;
  /** Info/AlarmType (method 2: 1 video loss, 2 tamper, 3 disk full, 4 high temperature, 5 low temperature). */
  type?: number;
  description?: string;
  timeMs: number;
  longitude?: number;
  latitude?: number;
}

export function alarmNotify(sn: number, a: AlarmFields, timeZone: string): XmlContent {
  return {
    CmdType: 'Alarm',
    SN: String(sn),
    DeviceID: a.channelId,
    AlarmPriority: String(a.priority),
    AlarmMethod: String(a.method),
    AlarmTime: formatPlatformTime(a.timeMs, timeZone),
    AlarmDescription: a.description,
    Longitude: a.longitude !== undefined ? String(a.longitude) : undefined,
    Latitude: a.latitude !== undefined ? String(a.latitude) : undefined,
    Info: a.type !== undefined ? { AlarmType: String(a.type) } : undefined,
  };
}
