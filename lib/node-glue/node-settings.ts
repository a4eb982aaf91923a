/**
 * Node properties (strings from the editor) → the lib/ config objects, with one problem line per
 * bad field. The edit dialog validates the same rules; the runtime checks again because flows can
 * be imported or written by hand.
 */
import { DEFAULTS, DeviceConfig, LocalConfig, PlatformConfig, RtspTransport, XmlCharset } from '../config/gateway-config';
import { isChannelTypeCode, isDeviceTypeCode, isGbId } from '../config/gb-id';

export type Props = Record<string, unknown>;

const CHARSETS: XmlCharset[] = ['GB2312', 'GBK', 'GB18030', 'UTF-8'];

function text(props: Props, key: string, fallback = ''): string {
  const v = props[key];
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  return fallback;
}

function integer(props: Props, key: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = text(props, key);
  if (raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${key} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return n;
}

function isHost(v: string): boolean {
  return /^[A-Za-z0-9.:_-]+$/.test(v) && v.length <= 253;
}

export interface RegisterSettings {
  platform: PlatformConfig;
  /** sipIp, sipPort, contactIp, mediaIp, mediaPortRange. */
  local: LocalConfig;
  problems: string[];
}

/**
 * wvp-register properties. `password` comes from the node's credentials, or from the environment
 * variable named in `passwordEnv` when the credential is empty (the demo flow uses that: a flow
 * file never holds a password).
 */
export function readRegisterSettings(props: Props, password: string | undefined, env: NodeJS.ProcessEnv = process.env): RegisterSettings {
  const problems: string[] = [];
  const id = text(props, 'serverId', DEFAULTS.platformId);
  if (!isGbId(id)) problems.push(`server ID must be 20 digits (got "${id}")`);
  const domain = text(props, 'domain') || id.slice(0, 10);
  if (!/^\d{10}$/.test(domain) && !isHost(domain)) problems.push(`domain must be 10 digits or a host name (got "${domain}")`);
  const host = text(props, 'host');
  if (!host) problems.push('platform host is required');
  else if (!isHost(host)) problems.push(`platform host "${host}" is not a host name or IP address`);
  const port = integer(props, 'port', DEFAULTS.platformPort, 1, 65535, problems);
  const transportRaw = text(props, 'transport', 'udp').toLowerCase();
  if (transportRaw !== 'udp' && transportRaw !== 'tcp') problems.push(`transport must be udp or tcp (got "${transportRaw}")`);
  const charsetRaw = text(props, 'charset', DEFAULTS.charset).toUpperCase();
  if (!CHARSETS.includes(charsetRaw as XmlCharset)) problems.push(`charset must be one of ${CHARSETS.join(', ')} (got "${charsetRaw}")`);
  const timeZone = text(props, 'timeZone') || DEFAULTS.timeZone;
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    problems.push(`time zone "${timeZone}" is not an IANA zone name`);
  }
  const envName = text(props, 'passwordEnv');
  const pass = password || (envName ? env[envName] : undefined) || undefined;
  const sipIp = text(props, 'localIp') || '0.0.0.0';
  if (!isHost(sipIp)) problems.push(`local SIP address "${sipIp}" is not an IP address`);
  const contactIp = text(props, 'contactIp') || undefined;
  if (contactIp && !isHost(contactIp)) problems.push(`contact address "${contactIp}" is not an IP address`);
  const mediaIp = text(props, 'mediaIp') || contactIp || sipIp;
  const low = integer(props, 'mediaPortMin', DEFAULTS.mediaPortRange[0], 1024, 65535, problems);
  const high = integer(props, 'mediaPortMax', DEFAULTS.mediaPortRange[1], 1024, 65535, problems);
  if (low > high) problems.push(`media port range ${low}-${high} is empty`);
  return {
    platform: {
      host,
      port,
      id,
      domain,
      ...(pass ? { password: pass } : {}),
      transport: transportRaw === 'tcp' ? 'tcp' : 'udp',
      expires: integer(props, 'expires', DEFAULTS.expires, 30, 86400, problems),
      keepaliveInterval: integer(props, 'keepaliveInterval', DEFAULTS.keepaliveInterval, 5, 3600, problems),
      keepaliveCount: integer(props, 'keepaliveCount', DEFAULTS.keepaliveCount, 1, 100, problems),
      charset: CHARSETS.includes(charsetRaw as XmlCharset) ? (charsetRaw as XmlCharset) : DEFAULTS.charset,
      timeZone,
      ...(props.alarmsAsMessage === true || props.alarmsAsMessage === 'true' ? { alarmsAsMessage: true } : {}),
    },
    local: {
      sipIp,
      sipPort: integer(props, 'localPort', DEFAULTS.sipPort, 0, 65535, problems),
      ...(contactIp ? { contactIp } : {}),
      mediaIp,
      mediaPortRange: [low, high],
    },
    problems,
  };
}

export function readDeviceSettings(props: Props): { device: DeviceConfig; problems: string[] } {
  const problems: string[] = [];
  const id = text(props, 'deviceId', DEFAULTS.deviceId);
  if (!isGbId(id)) problems.push(`device ID must be 20 digits (got "${id}")`);
  else if (!isDeviceTypeCode(id)) problems.push(`device ID type code must be 111-130 (got ${id.slice(10, 13)})`);
  return {
    device: {
      id,
      name: text(props, 'deviceName') || text(props, 'name') || 'Node-RED GB28181 gateway',
      manufacturer: text(props, 'manufacturer') || 'node-red-contrib-gb28181',
      model: text(props, 'model') || 'RTSP gateway',
      firmware: text(props, 'firmware') || '0.1.0',
    },
    problems,
  };
}

export interface SourceSettings {
  channelId: string;
  name: string;
  url: string;
  subUrl?: string;
  rtspTransport: RtspTransport;
  problems: string[];
}

function isRtspUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'rtsp:' || u.protocol === 'rtsps:') && !!u.hostname;
  } catch {
    return false;
  }
}

export function readSourceSettings(props: Props): SourceSettings {
  const problems: string[] = [];
  const channelId = text(props, 'channelId');
  if (!isGbId(channelId)) problems.push(`channel ID must be 20 digits (got "${channelId}")`);
  else if (!isChannelTypeCode(channelId)) problems.push(`channel ID type code must be 131 or 132 (got ${channelId.slice(10, 13)})`);
  const url = text(props, 'url');
  if (!isRtspUrl(url)) problems.push(url ? 'RTSP URL must look like rtsp://host[:port]/path' : 'RTSP URL is required');
  const subUrl = text(props, 'subUrl') || undefined;
  if (subUrl && !isRtspUrl(subUrl)) problems.push('sub-stream URL must look like rtsp://host[:port]/path');
  const t = text(props, 'rtspTransport', 'tcp');
  if (t !== 'tcp' && t !== 'udp' && t !== 'auto') problems.push(`RTSP transport must be tcp, udp or auto (got "${t}")`);
  return {
    channelId,
    name: text(props, 'name') || channelId,
    url,
    ...(subUrl ? { subUrl } : {}),
    rtspTransport: t === 'udp' || t === 'auto' ? t : 'tcp',
    problems,
  };
}

/** A status text fits the editor: one short line. */
export function shortStatus(textIn: string, max = 60): string {
  const one = textIn.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
