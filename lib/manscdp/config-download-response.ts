/**
 * ConfigDownload/BasicParam answer (GB28181-2016 Annex A.2.6 设备配置查询应答). WVP stores
 * HeartBeatInterval and HeartBeatCount from it to decide when we are offline (notes §1.2), so
 * they are our real keepalive settings.
 */
import { XmlContent } from './manscdp-writer';

export interface BasicParamFields {
  sn: string;
  deviceId: string;
  name: string;
  expiration: number;
  heartBeatInterval: number;
  heartBeatCount: number;
  sipServerId: string;
  sipServerIp: string;
  sipServerPort: number;
  domainName: string;
}

export function basicParamResponse(f: BasicParamFields): XmlContent {
  return {
    CmdType: 'ConfigDownload',
    SN: f.sn,
    DeviceID: f.deviceId,
    Result: 'OK',
    BasicParam: {
      Name: f.name,
      DeviceID: f.deviceId,
      SIPServerID: f.sipServerId,
      SIPServerIP: f.sipServerIp,
      SIPServerPort: String(f.sipServerPort),
      DomainName: f.domainName,
      Expiration: String(f.expiration),
      Password: '',
      HeartBeatInterval: String(f.heartBeatInterval),
      HeartBeatCount: String(f.heartBeatCount),
      PositionCapability: '0',
    },
  };
}
