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
  /**
   * Send alarms as MESSAGE even to an Alarm subscriber: WVP files an alarm with its channel only from
   * a MESSAGE (AlarmNotifyMessageHandler); its NOTIFY path needs `sip.alarm` and drops the channel.
   */
  alarmsAsMessage?: boolean;
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
  /** How the archive names files and whether the gateway records this channel itself. */
  record: SourceRecordConfig;
  /** The camera's ONVIF interface for PTZ and presets (issue #8). */
  onvif: SourceOnvifConfig;
  /** Fixed position for the catalog and MobilePosition (WGS-84 degrees). */
  longitude?: number;
  latitude?: number;
}

export type RecordMode = 'off' | 'continuous' | 'on-command';

/** File naming of the channel's archive and the gateway's own recorder (JSON `record`). */
export interface SourceRecordConfig {
  /** `continuous` records from start; `on-command` on RecordCmd Record (GB28181-2016 Annex A.2.3). */
  mode: RecordMode;
  /** Segment length in seconds. */
  segmentSeconds: number;
  /** Retention: delete recordings older than this many days. */
  maxAgeDays?: number;
  /** Retention: keep the recorder's folder under this many MiB. */
  maxSizeMb?: number;
  /** Path pattern of a file's time, relative to the folder: `{YYYY-MM-DD}/{HH-mm-ss}`. */
  pattern: string;
  /** Whether the time in a name is the segment's start or its end. */
  nameMarks: 'start' | 'end';
}

/** Where the camera's ONVIF device service is and how to log in (JSON `onvif`). */
export interface SourceOnvifConfig {
  /** false: the camera is treated as fixed and no ONVIF request is made. */
  enabled: boolean;
  /** Default: the RTSP URL's host. */
  host?: string;
  port: number;
  /** Device service path; default /onvif/device_service. */
  path?: string;
  /** Default: the RTSP credentials. */
  username?: string;
  password?: string;
  /** A move with no further command stops after this long (a lost UDP stop must not leave a camera spinning). */
  stopAfterMs: number;
  /** Let HomePosition without a preset (or a flow) overwrite the camera's home position. */
  allowSetHome: boolean;
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
  /** Where archive indexes are cached (default: a hidden file in each channel's first folder). */
  recordCacheDir?: string;
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
  record: { mode: 'off', segmentSeconds: 600, pattern: '{YYYY-MM-DD}/{HH-mm-ss}', nameMarks: 'start' } as SourceRecordConfig,
  onvif: { enabled: true, port: 80, stopAfterMs: 1000, allowSetHome: false } as SourceOnvifConfig,
};
