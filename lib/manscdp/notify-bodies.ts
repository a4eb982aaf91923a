/** Notify bodies the device sends on its own: Keepalive (GB28181-2016 §9.6) and MediaStatus (§9.7.5 NotifyType 121). */
import { XmlContent } from './manscdp-writer';

export function keepaliveNotify(sn: number, deviceId: string): XmlContent {
  return { CmdType: 'Keepalive', SN: String(sn), DeviceID: deviceId, Status: 'OK' };
}

export function mediaStatusNotify(sn: number, channelId: string, notifyType = 121): XmlContent {
  return { CmdType: 'MediaStatus', SN: String(sn), DeviceID: channelId, NotifyType: String(notifyType) };
}

/** `<Response>` to a DeviceControl that WVP waits for (RecordCmd, GuardCmd, ...; notes §8.6). */
export function deviceControlResponse(sn: string, deviceId: string, ok = true): XmlContent {
  return { CmdType: 'DeviceControl', SN: sn, DeviceID: deviceId, Result: ok ? 'OK' : 'ERROR' };
}
