/**
 * DeviceStatus answer (GB28181-2016 Annex A.2.6 设备状态查询应答); WVP reads Online = ONLINE (notes §1.4).
 * `Alarmstatus` lists each alarm input (here: each channel) with its DutyStatus: ONDUTY when
 * guarded (布防), OFFDUTY when not (撤防), ALARM while an alarm is active.
 */
import { XmlContent } from './manscdp-writer';

export type DutyStatus = 'ONDUTY' | 'OFFDUTY' | 'ALARM';

export interface DeviceStatusFields {
  sn: string;
  deviceId: string;
  online: boolean;
  /** Platform wall-clock time `yyyy-MM-ddTHH:mm:ss`. */
  deviceTime: string;
  recording?: boolean;
  alarmStatus?: { deviceId: string; duty: DutyStatus }[];
}

export function dutyStatus(s: { alarmed: boolean; guarded: boolean }): DutyStatus {
  if (s.alarmed) return 'ALARM';
  return s.guarded ? 'ONDUTY' : 'OFFDUTY';
}

export function deviceStatusResponse(f: DeviceStatusFields): XmlContent {
  const items = f.alarmStatus ?? [];
  return {
    CmdType: 'DeviceStatus',
    SN: f.sn,
    DeviceID: f.deviceId,
    Result: 'OK',
    Online: f.online ? 'ONLINE' : 'OFFLINE',
    Status: 'OK',
    Encode: 'ON',
    Record: f.recording ? 'ON' : 'OFF',
    DeviceTime: f.deviceTime,
    Alarmstatus: f.alarmStatus
      ? { '@Num': String(items.length), ...(items.length ? { Item: items.map((i) => ({ DeviceID: i.deviceId, DutyStatus: i.duty })) } : {}) }
      : undefined,
  };
}
