/** Configurations of a device under test pointing at a RawSipPlatform on 127.0.0.1. */
import { DeviceConfig, LocalConfig, PlatformConfig } from '../../lib/config/gateway-config';
import { ChannelDescriptor } from '../../lib/session/stream-contract';

export const DEVICE_ID = '34020000001110000001';

export function deviceConfig(): DeviceConfig {
  return { id: DEVICE_ID, name: '测试网关', manufacturer: 'TestMaker', model: 'GW-1', firmware: '1.0.0' };
}

export function platformConfig(port: number, over: Partial<PlatformConfig> = {}): PlatformConfig {
  return {
    host: '127.0.0.1',
    port,
    id: '34020000002000000001',
    domain: '3402000000',
    password: '12345678',
    transport: 'udp',
    expires: 3600,
    keepaliveInterval: 60,
    keepaliveCount: 3,
    charset: 'GB2312',
    timeZone: 'Asia/Shanghai',
    ...over,
  };
}

export function localConfig(over: Partial<LocalConfig> = {}): LocalConfig {
  return { sipIp: '127.0.0.1', sipPort: 0, mediaIp: '127.0.0.1', mediaPortRange: [30000, 30999], ...over };
}

export function channels(n: number, chinese = true): ChannelDescriptor[] {
  const out: ChannelDescriptor[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ id: `3402000000132${String(i + 1).padStart(7, '0')}`, name: chinese ? `摄像机${i + 1}号 北门` : `Camera ${i + 1}`, online: i % 5 !== 4, ptzType: 3 });
  }
  return out;
}
