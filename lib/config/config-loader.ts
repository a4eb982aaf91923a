/**
 * Reads a gateway configuration file (JSON) into a validated `GatewayConfig`.
 *
 * Three shapes are accepted:
 * - the project's own shape (`device`, `platform`, `local`, `sources`, ...), strict: an unknown key is an error;
 * - the seed project's first shape (`rtsp_sources` + `wvp_server`), accepted as is;
 * - the earlier Python gateway's shape (`sip`, `stream_directory`, `rtsp_sources`, ...): what means something here is
 *   mapped, the keys that mean nothing here (GStreamer pipeline, SRTP, its local test server) are named in one warning.
 *
 * Every problem found is collected, so one run names every missing or wrong value at once.
 */
import { ConfigError } from '../errors';
import { DEFAULTS, GatewayConfig, LocalConfig, PlatformConfig, RecordMode, RtspTransport, SourceConfig, SourceOnvifConfig, SourceRecordConfig, XmlCharset } from './gateway-config';
import { GB_ID_PATTERN, channelIdFor } from './gb-id';
import { splitRtspCredentials } from '../rtsp-url';
import { RecordNamePattern } from '../record/record-name-pattern';

export type ConfigShape = 'gateway' | 'seed' | 'legacy-python';

export interface LoadedConfig {
  config: GatewayConfig;
  shape: ConfigShape;
  /** Keys of a legacy file that were read but mean nothing here. */
  ignoredKeys: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects problems while reading typed values out of plain JSON objects. */
class Reader {
  readonly problems: string[] = [];

  unknownKeys(obj: JsonObject, where: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.problems.push(`${where}${key}: unknown key (allowed here: ${allowed.join(', ')})`);
    }
  }

  object(parent: JsonObject, key: string, where: string, required: boolean): JsonObject | undefined {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.problems.push(`${where}${key}: missing (an object is required)`);
      return undefined;
    }
    if (!isObject(v)) {
      this.problems.push(`${where}${key}: must be an object`);
      return undefined;
    }
    return v;
  }

  string(obj: JsonObject, key: string, where: string, opts: { required?: boolean; pattern?: RegExp; hint?: string } = {}): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null || v === '') {
      if (opts.required) this.problems.push(`${where}${key}: missing${opts.hint ? ` (${opts.hint})` : ''}`);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.problems.push(`${where}${key}: must be a string`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.problems.push(`${where}${key}: "${v}" is not valid${opts.hint ? ` (${opts.hint})` : ''}`);
      return undefined;
    }
    return v;
  }

  integer(obj: JsonObject, key: string, where: string, min: number, max: number, opts: { required?: boolean } = {}): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (opts.required) this.problems.push(`${where}${key}: missing (a number from ${min} to ${max})`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problems.push(`${where}${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  number(obj: JsonObject, key: string, where: string, min: number, max: number): number | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.problems.push(`${where}${key}: must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  boolean(obj: JsonObject, key: string, where: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.problems.push(`${where}${key}: must be true or false`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(obj: JsonObject, key: string, where: string, values: readonly T[], normalise: (s: string) => string = (s) => s): T | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const found = typeof v === 'string' ? values.find((x) => normalise(x) === normalise(v)) : undefined;
    if (!found) this.problems.push(`${where}${key}: must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
    return found;
  }

  stringList(obj: JsonObject, key: string, where: string): string[] | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    this.problems.push(`${where}${key}: must be a string or a list of strings`);
    return undefined;
  }
}

const CHARSETS: readonly XmlCharset[] = ['GB2312', 'GBK', 'GB18030', 'UTF-8'];
const RTSP_TRANSPORTS: readonly RtspTransport[] = ['tcp', 'udp', 'auto'];
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const ID_HINT = '20 digits, GB28181-2016 Annex D';
const URL_PATTERN = /^rtsps?:\/\/[^\s/]+/i;
const HOST_PATTERN = /^[A-Za-z0-9.:[\]-]+$/;

function defaultPlatform(host: string): PlatformConfig {
  return {
    host,
    port: DEFAULTS.platformPort,
    id: DEFAULTS.platformId,
    domain: DEFAULTS.platformDomain,
    transport: 'udp',
    expires: DEFAULTS.expires,
    keepaliveInterval: DEFAULTS.keepaliveInterval,
    keepaliveCount: DEFAULTS.keepaliveCount,
    charset: DEFAULTS.charset,
    timeZone: DEFAULTS.timeZone,
  };
}

function defaultLocal(): LocalConfig {
  return { sipIp: '0.0.0.0', sipPort: DEFAULTS.sipPort, mediaIp: '0.0.0.0', mediaPortRange: [...DEFAULTS.mediaPortRange] };
}

function baseConfig(host: string): GatewayConfig {
  return {
    device: { id: DEFAULTS.deviceId, name: 'GB28181 Gateway', manufacturer: 'node-red-contrib-gb28181', model: 'RTSP-GB28181', firmware: '0.1.0' },
    platform: defaultPlatform(host),
    local: defaultLocal(),
    sources: [],
    catalogBatchSize: DEFAULTS.catalogBatchSize,
    logLevel: 'info',
  };
}

function sourceFromUrl(rawUrl: string, fields: Partial<SourceConfig>, deviceId: string, index: number): SourceConfig {
  const { url, credentials } = splitRtspCredentials(rawUrl);
  return {
    channelId: fields.channelId ?? channelIdFor(deviceId, index),
    name: fields.name ?? `Camera ${index + 1}`,
    url,
    username: fields.username ?? credentials.username,
    password: fields.password ?? credentials.password,
    subUrl: fields.subUrl,
    rtspTransport: fields.rtspTransport ?? 'tcp',
    enabled: fields.enabled ?? true,
    recordDirs: fields.recordDirs ?? [],
    record: fields.record ?? { ...DEFAULTS.record },
    onvif: fields.onvif ?? { ...DEFAULTS.onvif },
    ...(fields.longitude !== undefined ? { longitude: fields.longitude } : {}),
    ...(fields.latitude !== undefined ? { latitude: fields.latitude } : {}),
  };
}

const RECORD_MODES: readonly RecordMode[] = ['off', 'continuous', 'on-command'];
const RECORD_KEYS = ['mode', 'segment_seconds', 'max_age_days', 'max_size_mb', 'pattern', 'name_marks'] as const;
const ONVIF_KEYS = ['enabled', 'host', 'port', 'path', 'username', 'password', 'stop_after_ms', 'allow_set_home'] as const;

function readRecordSettings(s: JsonObject, where: string, r: Reader): SourceRecordConfig {
  const o = r.object(s, 'record', where, false) ?? {};
  const w = `${where}record.`;
  r.unknownKeys(o, w, RECORD_KEYS);
  const d = DEFAULTS.record;
  const maxAgeDays = r.number(o, 'max_age_days', w, 0.001, 36500);
  const maxSizeMb = r.number(o, 'max_size_mb', w, 1, 1e9);
  const pattern = r.string(o, 'pattern', w) ?? d.pattern;
  try {
    new RecordNamePattern(pattern);
  } catch (e) {
    r.problems.push(`${w}pattern: ${(e as Error).message} (e.g. {YYYY-MM-DD}/{HH-mm-ss})`);
  }
  return {
    mode: r.oneOf(o, 'mode', w, RECORD_MODES, (x) => x.toLowerCase()) ?? d.mode,
    segmentSeconds: r.integer(o, 'segment_seconds', w, 10, 86400) ?? d.segmentSeconds,
    ...(maxAgeDays !== undefined ? { maxAgeDays } : {}),
    ...(maxSizeMb !== undefined ? { maxSizeMb } : {}),
    pattern,
    nameMarks: r.oneOf(o, 'name_marks', w, ['start', 'end'] as const, (x) => x.toLowerCase()) ?? d.nameMarks,
  };
}

function readOnvifSettings(s: JsonObject, where: string, r: Reader): SourceOnvifConfig {
  const o = r.object(s, 'onvif', where, false) ?? {};
  const w = `${where}onvif.`;
  r.unknownKeys(o, w, ONVIF_KEYS);
  const d = DEFAULTS.onvif;
  const host = r.string(o, 'host', w, { pattern: HOST_PATTERN });
  const path = r.string(o, 'path', w, { pattern: /^\//, hint: 'a path starting with /' });
  const username = r.string(o, 'username', w);
  const password = r.string(o, 'password', w);
  return {
    enabled: r.boolean(o, 'enabled', w) ?? d.enabled,
    ...(host ? { host } : {}),
    port: r.integer(o, 'port', w, 1, 65535) ?? d.port,
    ...(path ? { path } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    stopAfterMs: r.integer(o, 'stop_after_ms', w, 100, 60000) ?? d.stopAfterMs,
    allowSetHome: r.boolean(o, 'allow_set_home', w) ?? d.allowSetHome,
  };
}

const GATEWAY_KEYS = ['device', 'platform', 'local', 'sources', 'catalog_batch_size', 'ffmpeg_path', 'log_level', 'record_cache_dir'] as const;
const SEED_KEYS = ['rtsp_sources', 'wvp_server'] as const;
const LEGACY_KEYS = ['sip', 'local_sip', 'stream_directory', 'rtsp_sources', 'srtp', 'logging', 'pipeline', 'max_channels', 'sip_settings', 'wvp_compatibility', 'network_settings'] as const;

function readGatewayShape(root: JsonObject, r: Reader): GatewayConfig {
  r.unknownKeys(root, '', GATEWAY_KEYS);
  const platformObj = r.object(root, 'platform', '', true) ?? {};
  r.unknownKeys(platformObj, 'platform.', ['host', 'port', 'id', 'domain', 'password', 'transport', 'expires', 'keepalive_interval', 'keepalive_count', 'charset', 'time_zone', 'alarms_as_message']);
  const cfg = baseConfig(r.string(platformObj, 'host', 'platform.', { required: true, pattern: HOST_PATTERN, hint: 'the platform\'s IP address or host name' }) ?? '');
  const p = cfg.platform;
  p.port = r.integer(platformObj, 'port', 'platform.', 1, 65535) ?? p.port;
  p.id = r.string(platformObj, 'id', 'platform.', { pattern: GB_ID_PATTERN, hint: ID_HINT }) ?? p.id;
  p.domain = r.string(platformObj, 'domain', 'platform.', { pattern: /^\d{10}$/, hint: '10 digits' }) ?? p.domain;
  p.password = r.string(platformObj, 'password', 'platform.');
  p.transport = r.oneOf(platformObj, 'transport', 'platform.', ['udp', 'tcp'] as const, (s) => s.toLowerCase()) ?? p.transport;
  p.expires = r.integer(platformObj, 'expires', 'platform.', 60, 86400) ?? p.expires;
  p.keepaliveInterval = r.integer(platformObj, 'keepalive_interval', 'platform.', 1, 3600) ?? p.keepaliveInterval;
  p.keepaliveCount = r.integer(platformObj, 'keepalive_count', 'platform.', 1, 100) ?? p.keepaliveCount;
  p.charset = r.oneOf(platformObj, 'charset', 'platform.', CHARSETS, (s) => s.toUpperCase()) ?? p.charset;
  p.timeZone = r.string(platformObj, 'time_zone', 'platform.') ?? p.timeZone;
  if (!isValidTimeZone(p.timeZone)) r.problems.push(`platform.time_zone: "${p.timeZone}" is not an IANA time zone (e.g. Asia/Shanghai)`);
  const alarmsAsMessage = r.boolean(platformObj, 'alarms_as_message', 'platform.');
  if (alarmsAsMessage !== undefined) p.alarmsAsMessage = alarmsAsMessage;

  const deviceObj = r.object(root, 'device', '', false) ?? {};
  r.unknownKeys(deviceObj, 'device.', ['id', 'name', 'manufacturer', 'model', 'firmware']);
  const d = cfg.device;
  d.id = r.string(deviceObj, 'id', 'device.', { pattern: GB_ID_PATTERN, hint: ID_HINT }) ?? d.id;
  d.name = r.string(deviceObj, 'name', 'device.') ?? d.name;
  d.manufacturer = r.string(deviceObj, 'manufacturer', 'device.') ?? d.manufacturer;
  d.model = r.string(deviceObj, 'model', 'device.') ?? d.model;
  d.firmware = r.string(deviceObj, 'firmware', 'device.') ?? d.firmware;

  const localObj = r.object(root, 'local', '', false) ?? {};
  r.unknownKeys(localObj, 'local.', ['sip_ip', 'sip_port', 'contact_ip', 'media_ip', 'media_port_range']);
  const l = cfg.local;
  l.sipIp = r.string(localObj, 'sip_ip', 'local.', { pattern: HOST_PATTERN }) ?? l.sipIp;
  l.sipPort = r.integer(localObj, 'sip_port', 'local.', 0, 65535) ?? l.sipPort;
  l.contactIp = r.string(localObj, 'contact_ip', 'local.', { pattern: HOST_PATTERN });
  l.mediaIp = r.string(localObj, 'media_ip', 'local.', { pattern: HOST_PATTERN }) ?? l.contactIp ?? l.mediaIp;
  const range = localObj.media_port_range;
  if (range !== undefined) {
    if (Array.isArray(range) && range.length === 2 && range.every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536) && (range[0] as number) <= (range[1] as number)) {
      l.mediaPortRange = [range[0] as number, range[1] as number];
    } else {
      r.problems.push(`local.media_port_range: must be [first, last] with 1 ≤ first ≤ last ≤ 65535, got ${JSON.stringify(range)}`);
    }
  }

  const sources = root.sources;
  if (sources === undefined) r.problems.push('sources: missing (a list of cameras, each with at least a url)');
  else if (!Array.isArray(sources)) r.problems.push('sources: must be a list');
  else {
    sources.forEach((s, i) => {
      const where = `sources[${i}].`;
      if (!isObject(s)) {
        r.problems.push(`sources[${i}]: must be an object with a url`);
        return;
      }
      r.unknownKeys(s, where, ['channel_id', 'name', 'url', 'username', 'password', 'sub_url', 'rtsp_transport', 'enabled', 'record_dirs', 'record', 'onvif', 'longitude', 'latitude']);
      const url = r.string(s, 'url', where, { required: true, pattern: URL_PATTERN, hint: 'rtsp://host[:port]/path' });
      const fields: Partial<SourceConfig> = {
        channelId: r.string(s, 'channel_id', where, { pattern: GB_ID_PATTERN, hint: ID_HINT }),
        name: r.string(s, 'name', where),
        username: r.string(s, 'username', where),
        password: r.string(s, 'password', where),
        subUrl: r.string(s, 'sub_url', where, { pattern: URL_PATTERN, hint: 'rtsp://host[:port]/path' }),
        rtspTransport: r.oneOf(s, 'rtsp_transport', where, RTSP_TRANSPORTS, (x) => x.toLowerCase()),
        enabled: r.boolean(s, 'enabled', where),
        recordDirs: r.stringList(s, 'record_dirs', where),
        record: readRecordSettings(s, where, r),
        onvif: readOnvifSettings(s, where, r),
        longitude: r.number(s, 'longitude', where, -180, 180),
        latitude: r.number(s, 'latitude', where, -90, 90),
      };
      if (url) cfg.sources.push(sourceFromUrl(url, fields, d.id, i));
    });
  }
  cfg.catalogBatchSize = r.integer(root, 'catalog_batch_size', '', 1, 64) ?? cfg.catalogBatchSize;
  cfg.ffmpegPath = r.string(root, 'ffmpeg_path', '');
  cfg.logLevel = r.oneOf(root, 'log_level', '', LOG_LEVELS, (x) => x.toLowerCase()) ?? cfg.logLevel;
  cfg.recordCacheDir = r.string(root, 'record_cache_dir', '');
  return cfg;
}

function readSeedSources(root: JsonObject, r: Reader, cfg: GatewayConfig, extraKeys: readonly string[]): void {
  const list = root.rtsp_sources;
  if (list === undefined) {
    r.problems.push('rtsp_sources: missing (a list of cameras)');
    return;
  }
  if (!Array.isArray(list)) {
    r.problems.push('rtsp_sources: must be a list');
    return;
  }
  list.forEach((s, i) => {
    const where = `rtsp_sources[${i}].`;
    if (typeof s === 'string') {
      if (!URL_PATTERN.test(s)) r.problems.push(`rtsp_sources[${i}]: "${s}" is not an rtsp:// URL`);
      else cfg.sources.push(sourceFromUrl(s, {}, cfg.device.id, i));
      return;
    }
    if (!isObject(s)) {
      r.problems.push(`rtsp_sources[${i}]: must be a URL or an object with a url`);
      return;
    }
    r.unknownKeys(s, where, ['url', 'name', 'device_id', 'channel_id', 'enabled', ...extraKeys]);
    const url = r.string(s, 'url', where, { required: true, pattern: URL_PATTERN, hint: 'rtsp://host[:port]/path' });
    // The seed calls a camera's channel ID `device_id`; the Python gateway calls it `channel_id`.
    const channelId = r.string(s, 'channel_id', where, { pattern: GB_ID_PATTERN, hint: ID_HINT }) ?? r.string(s, 'device_id', where, { pattern: GB_ID_PATTERN, hint: ID_HINT });
    const enabled = r.boolean(s, 'enabled', where);
    if (url) cfg.sources.push(sourceFromUrl(url, { channelId, name: r.string(s, 'name', where), enabled }, cfg.device.id, i));
  });
}

function readSeedShape(root: JsonObject, r: Reader): GatewayConfig {
  r.unknownKeys(root, '', SEED_KEYS);
  const server = r.object(root, 'wvp_server', '', true) ?? {};
  r.unknownKeys(server, 'wvp_server.', ['host', 'port', 'id', 'domain', 'password', 'transport']);
  const cfg = baseConfig(r.string(server, 'host', 'wvp_server.', { required: true, pattern: HOST_PATTERN, hint: 'the platform\'s IP address or host name' }) ?? '');
  const p = cfg.platform;
  p.port = r.integer(server, 'port', 'wvp_server.', 1, 65535) ?? p.port;
  p.id = r.string(server, 'id', 'wvp_server.', { pattern: GB_ID_PATTERN, hint: ID_HINT }) ?? p.id;
  p.domain = r.string(server, 'domain', 'wvp_server.', { pattern: /^\d{10}$/ }) ?? p.domain;
  p.password = r.string(server, 'password', 'wvp_server.');
  p.transport = r.oneOf(server, 'transport', 'wvp_server.', ['udp', 'tcp'] as const, (s) => s.toLowerCase()) ?? p.transport;
  readSeedSources(root, r, cfg, []);
  return cfg;
}

function readLegacyPythonShape(root: JsonObject, r: Reader, ignored: string[]): GatewayConfig {
  r.unknownKeys(root, '', LEGACY_KEYS);
  const sip = r.object(root, 'sip', '', true) ?? {};
  r.unknownKeys(sip, 'sip.', ['device_id', 'username', 'password', 'server', 'port', 'local_port', 'transport', 'local_ip', 'contact_ip', 'server_id', 'server_domain', 'expires', 'heartbeat_interval', 'max_heartbeat_timeout']);
  const cfg = baseConfig(r.string(sip, 'server', 'sip.', { required: true, pattern: HOST_PATTERN, hint: 'the platform\'s IP address' }) ?? '');
  const p = cfg.platform;
  const l = cfg.local;
  cfg.device.id = r.string(sip, 'device_id', 'sip.', { required: true, pattern: GB_ID_PATTERN, hint: ID_HINT }) ?? cfg.device.id;
  const username = r.string(sip, 'username', 'sip.', { pattern: GB_ID_PATTERN, hint: ID_HINT });
  if (username && username !== cfg.device.id) ignored.push('sip.username (GB28181 authenticates with the device ID)');
  p.password = r.string(sip, 'password', 'sip.');
  p.port = r.integer(sip, 'port', 'sip.', 1, 65535) ?? p.port;
  p.transport = r.oneOf(sip, 'transport', 'sip.', ['udp', 'tcp'] as const, (s) => s.toLowerCase()) ?? p.transport;
  p.id = r.string(sip, 'server_id', 'sip.', { pattern: GB_ID_PATTERN, hint: ID_HINT }) ?? p.id;
  p.domain = r.string(sip, 'server_domain', 'sip.', { pattern: /^\d{10}$/ }) ?? p.domain;
  p.expires = r.integer(sip, 'expires', 'sip.', 60, 86400) ?? p.expires;
  p.keepaliveInterval = r.integer(sip, 'heartbeat_interval', 'sip.', 1, 3600) ?? p.keepaliveInterval;
  p.keepaliveCount = r.integer(sip, 'max_heartbeat_timeout', 'sip.', 1, 100) ?? p.keepaliveCount;
  l.sipIp = r.string(sip, 'local_ip', 'sip.', { pattern: HOST_PATTERN }) ?? l.sipIp;
  l.sipPort = r.integer(sip, 'local_port', 'sip.', 0, 65535) ?? l.sipPort;
  l.contactIp = r.string(sip, 'contact_ip', 'sip.', { pattern: HOST_PATTERN });
  l.mediaIp = l.contactIp ?? l.sipIp;

  const sipSettings = r.object(root, 'sip_settings', '', false);
  if (sipSettings) {
    r.unknownKeys(sipSettings, 'sip_settings.', ['local_port', 'bind_address', 'timeout']);
    if (sip.local_port === undefined) l.sipPort = r.integer(sipSettings, 'local_port', 'sip_settings.', 0, 65535) ?? l.sipPort;
    if (sip.local_ip === undefined) l.sipIp = r.string(sipSettings, 'bind_address', 'sip_settings.', { pattern: HOST_PATTERN }) ?? l.sipIp;
    if (sipSettings.timeout !== undefined) ignored.push('sip_settings.timeout');
  }
  const network = r.object(root, 'network_settings', '', false);
  if (network) {
    r.unknownKeys(network, 'network_settings.', ['keepalive_interval']);
    if (sip.heartbeat_interval === undefined) p.keepaliveInterval = r.integer(network, 'keepalive_interval', 'network_settings.', 1, 3600) ?? p.keepaliveInterval;
  }
  const logging = r.object(root, 'logging', '', false);
  if (logging) {
    const level = typeof logging.level === 'string' ? logging.level.toLowerCase() : undefined;
    const mapped = level === 'warning' ? 'warn' : level === 'critical' ? 'error' : level;
    if (mapped && (LOG_LEVELS as readonly string[]).includes(mapped)) cfg.logLevel = mapped as GatewayConfig['logLevel'];
    for (const k of Object.keys(logging)) if (k !== 'level') ignored.push(`logging.${k}`);
  }
  for (const key of ['local_sip', 'srtp', 'pipeline', 'max_channels', 'wvp_compatibility'] as const) {
    if (root[key] !== undefined) ignored.push(key);
  }
  readSeedSources(root, r, cfg, []);
  const dir = r.string(root, 'stream_directory', '');
  if (dir && cfg.sources.length > 0) cfg.sources[0].recordDirs = [dir];
  else if (dir) ignored.push('stream_directory (no camera to attach it to)');
  return cfg;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function detectShape(root: JsonObject): ConfigShape {
  if (root.sip !== undefined || root.stream_directory !== undefined || root.local_sip !== undefined) return 'legacy-python';
  if (root.wvp_server !== undefined) return 'seed';
  if (root.rtsp_sources !== undefined && root.sources === undefined && root.platform === undefined) return 'seed';
  return 'gateway';
}

function checkCrossFields(cfg: GatewayConfig, r: Reader): void {
  const seen = new Map<string, number>();
  cfg.sources.forEach((s, i) => {
    const prev = seen.get(s.channelId);
    if (prev !== undefined) r.problems.push(`sources[${i}]: channel ID ${s.channelId} is already used by source ${prev}`);
    seen.set(s.channelId, i);
    if (s.channelId === cfg.device.id) r.problems.push(`sources[${i}]: channel ID ${s.channelId} equals the device ID; a channel needs its own ID`);
  });
}

/** Validates a parsed JSON document; throws ConfigError listing every problem. */
export function parseGatewayConfig(doc: unknown): LoadedConfig {
  if (!isObject(doc)) throw new ConfigError(['the file must hold a JSON object']);
  const r = new Reader();
  const ignoredKeys: string[] = [];
  const shape = detectShape(doc);
  const config = shape === 'gateway' ? readGatewayShape(doc, r) : shape === 'seed' ? readSeedShape(doc, r) : readLegacyPythonShape(doc, r, ignoredKeys);
  checkCrossFields(config, r);
  if (r.problems.length) throw new ConfigError(r.problems);
  return { config, shape, ignoredKeys };
}

/** Parses JSON text; a syntax error names its position. */
export function parseGatewayConfigText(text: string): LoadedConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`not valid JSON: ${(e as Error).message}`]);
  }
  return parseGatewayConfig(doc);
}

/** The equivalent configuration in the project's own shape (for `--print-config`); passwords masked unless asked. */
export function toGatewayShape(cfg: GatewayConfig, opts: { showSecrets?: boolean } = {}): Record<string, unknown> {
  const secret = (v?: string) => (v === undefined ? undefined : opts.showSecrets ? v : '***');
  return {
    device: { ...cfg.device },
    platform: {
      host: cfg.platform.host, port: cfg.platform.port, id: cfg.platform.id, domain: cfg.platform.domain,
      password: secret(cfg.platform.password), transport: cfg.platform.transport, expires: cfg.platform.expires,
      keepalive_interval: cfg.platform.keepaliveInterval, keepalive_count: cfg.platform.keepaliveCount,
      charset: cfg.platform.charset, time_zone: cfg.platform.timeZone, alarms_as_message: cfg.platform.alarmsAsMessage,
    },
    local: {
      sip_ip: cfg.local.sipIp, sip_port: cfg.local.sipPort, contact_ip: cfg.local.contactIp,
      media_ip: cfg.local.mediaIp, media_port_range: cfg.local.mediaPortRange,
    },
    sources: cfg.sources.map((s) => ({
      channel_id: s.channelId, name: s.name, url: s.url, username: s.username, password: secret(s.password),
      sub_url: s.subUrl, rtsp_transport: s.rtspTransport, enabled: s.enabled, record_dirs: s.recordDirs,
      record: {
        mode: s.record.mode, segment_seconds: s.record.segmentSeconds, max_age_days: s.record.maxAgeDays,
        max_size_mb: s.record.maxSizeMb, pattern: s.record.pattern, name_marks: s.record.nameMarks,
      },
      onvif: {
        enabled: s.onvif.enabled, host: s.onvif.host, port: s.onvif.port, path: s.onvif.path, username: s.onvif.username,
        password: secret(s.onvif.password), stop_after_ms: s.onvif.stopAfterMs, allow_set_home: s.onvif.allowSetHome,
      },
      longitude: s.longitude, latitude: s.latitude,
    })),
    catalog_batch_size: cfg.catalogBatchSize,
    ffmpeg_path: cfg.ffmpegPath,
    log_level: cfg.logLevel,
    record_cache_dir: cfg.recordCacheDir,
  };
}
