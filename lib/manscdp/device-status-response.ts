/** DeviceStatus answer (GB28181-2016 Annex A.2.6 设备状态查询应答); WVP reads Online = ONLINE (notes §1.4). */
import { XmlContent } from './manscdp-writer';

export interface DeviceStatusFields {
  sn: string;
  deviceId: string;
  online: boolean;
  /** Platform wall-clock time `yyyy-MM-ddTHH:mm:ss`. */
  deviceTime: string;
  recording?: boolean;
}

export function deviceStatusResponse(f: DeviceStatusFields): XmlContent {
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
  };
}
