/**
 * The gateway's configuration after validation, in the form every lib/ class takes.
 * The JSON file shape (snake_case keys) is read by `config-loader.ts`; Node-RED nodes build
 * the same objects from their properties and credentials.
 */
export type SipTransport = 'udp' | 'tcp';
export type XmlCharset = 'GB2312' | 'GBK' | 'GB18030' | 'UTF-8';
export type RtspTransport = 'tcp' | 'udp' | 'auto';

export interface DeviceConfig {
  /** 20-digit GB28181 device ID (type code 111/112/118 for a DVR/NVR-like gateway). */
  id: string;
  name: string;
  manufacturer: string;
  model: string;
  firmware: string;
}

export interface PlatformConfig {
  host: string;
  port: number;
  /** SIP server ID (20 digits), the user part of the registrar URI. */
  id: string;
  /** SIP domain (10 digits in WVP's default: the first 10 digits of the server ID). */
  domain: string;
  /** Digest password; undefined when the platform does not challenge. */
  password?: string;
  transport: SipTransport;
  /** Registration lifetime in seconds (GB28181-2016 §9.1.2.1). */
  expires: number;
  /** Keepalive interval in seconds (GB28181-2016 §9.6). */
  keepaliveInterval: number;
  /** Keepalives missed before we register again. */
  keepaliveCount: number;
  /** Charset of MANSCDP bodies we send (WVP's device default is GB2312). */
  charset: XmlCharset;
  /** IANA time zone of the platform's wall clock (RecordInfo times, t= lines): WVP uses Asia/Shanghai. */
  timeZone: string;
}

export interface LocalConfig {
  /** Address our SIP socket binds to. */
  sipIp: string;
  sipPort: number;
  /** Address announced in Via, Contact and SDP when it differs from the bind address (NAT). */
  contactIp?: string;
  /** Address announced in the SDP c= line and used for media sockets. */
  mediaIp: string;
  /** Inclusive range of local ports for RTP sockets. */
  mediaPortRange: [number, number];
}

export interface SourceConfig {
  /** 20-digit channel ID (type code 131 camera / 132 IPC). */
  channelId: string;
  name: string;
  /** RTSP URL without credentials. */
  url: string;
  username?: string;
  password?: string;
  /** Optional sub-stream URL (a=streamnumber:1 / streamMode SUB). */
  subUrl?: string;
  rtspTransport: RtspTransport;
  enabled: boolean;
  /** Folders holding this channel's recordings (issue #7). */
  recordDirs: string[];
}

export interface GatewayConfig {
  device: DeviceConfig;
  platform: PlatformConfig;
  local: LocalConfig;
  sources: SourceConfig[];
  /** Catalog items per MESSAGE (WVP itself uses 1/2/4/8). */
  catalogBatchSize: number;
  /** Explicit ffmpeg path, else FFMPEG_PATH, PATH, then the npm-shipped binary. */
  ffmpegPath?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** WVP-GB28181-pro's own defaults (application.yml `sip.id`, `sip.domain`). */
export const DEFAULTS = {
  platformId: '34020000002000000001',
  platformDomain: '3402000000',
  platformPort: 5060,
  deviceId: '34020000001110000001',
  expires: 3600,
  keepaliveInterval: 60,
  keepaliveCount: 3,
  charset: 'GB2312' as XmlCharset,
  timeZone: 'Asia/Shanghai',
  sipPort: 5060,
  mediaPortRange: [30000, 30999] as [number, number],
  catalogBatchSize: 8,
};
