/** DeviceInfo answer (GB28181-2016 Annex A.2.6 设备信息查询应答). */
import { XmlContent } from './manscdp-writer';

export interface DeviceInfoFields {
  sn: string;
  deviceId: string;
  deviceName: string;
  manufacturer: string;
  model: string;
  firmware: string;
  channelCount: number;
}

export function deviceInfoResponse(f: DeviceInfoFields): XmlContent {
  return {
    CmdType: 'DeviceInfo',
    SN: f.sn,
    DeviceID: f.deviceId,
    DeviceName: f.deviceName,
    Result: 'OK',
    Manufacturer: f.manufacturer,
    Model: f.model,
    Firmware: f.firmware,
    Channel: String(f.channelCount),
  };
}
