/**
 * A small GB28181 platform that behaves on the wire like WVP-GB28181-pro, for our tests, the demo and
 * the benchmarks. It registers devices (RegisterRequestProcessor + DigestServerAuthenticationHelper),
 * answers keepalives, queries them (SIPCommander), aggregates multi-part answers
 * (CatalogResponseMessageHandler, RecordInfoResponseMessageHandler), INVITEs channels with WVP's SDP and
 * receives the PS-over-RTP the device sends. It imports nothing from the device side.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { Logger, silentLogger } from '../../logger';
import { GatewayError } from '../../errors';
import { PlatformSipTransport, SipPeer, SipTransportKind } from './platform-sip-transport';
import {
  addressUri, headerParam, headerValue, headerValues, SipHeaderField, SipMessage, SipRequest, SipResponse, uriUser,
} from './sip-text-codec';
import { digestChallenge, verifyDigestResponse } from './platform-digest';
import { buildPlatformXml, decodeManscdpBody, encodeManscdpBody, ManscdpDocument, parseManscdp, PlatformCharset } from './manscdp-body';
import { buildWvpOffer, InviteSessionType, MediaTransportMode, parseAnswerSdp } from './wvp-sdp';
import { RtpPsReceiver } from './rtp-ps-receiver';
import { DialogRequestSender, InviteSession } from './invite-session';
import { SipClientTransactions } from './sip-client-transactions';
import { PlatformSubscription, SubscribeOptions, SubscribeTransport, SubscriptionChange, SubscriptionInfo, SubscriptionKind } from './platform-subscription';
import { CatalogChange, MobilePositionReport, parseAlarm, parseCatalogChanges, parseMobilePosition, PlatformAlarm } from './device-notifications';
import { DeviceEventState, PlatformChannelState } from './device-event-state';
import { PresetListMerge, PresetQueryResult, presetResponseRejection } from './preset-list';
import { wvpCmdString, wvpPresetCommandString, wvpPtzCommandString, WvpPtzCommand, WvpPtzSpeeds } from './ptz-command';

export { InviteSession } from './invite-session';
export type { RtpPacketRecord } from './rtp-ps-receiver';
export type { MediaTransportMode, InviteSessionType } from './wvp-sdp';
export { PlatformSubscription } from './platform-subscription';
export type { SubscribeOptions, SubscriptionChange, SubscriptionInfo, SubscriptionKind, SubscriptionState } from './platform-subscription';
export type { CatalogChange, CatalogEventName, MobilePositionReport, PlatformAlarm } from './device-notifications';
export type { PlatformChannelState } from './device-event-state';
export type { PresetEntry, PresetQueryResult } from './preset-list';
export type { WvpPtzCommand, WvpPtzSpeeds } from './ptz-command';

export interface PlatformEmulatorOptions {
  host?: string;
  port?: number;
  transport?: SipTransportKind;
  serverId?: string;
  domain?: string;
  /** undefined or '' = no challenge (WVP with an empty sip.password accepts any device). */
  password?: string;
  /** Per-device passwords; they override `password` as a device's own password does in WVP. */
  devicePasswords?: Record<string, string>;
  /** qop="auth" in the challenge (default true). */
  qop?: boolean;
  /** How device bodies are decoded and ours encoded, like WVP's per-device charset (default GB2312). */
  charset?: PlatformCharset;
  /** c=/o= address in our INVITEs (default host). */
  sdpIp?: string;
  mediaPortRange?: [number, number];
  /** After a first registration, query DeviceInfo, ConfigDownload/BasicParam and Catalog as WVP does (default true). */
  autoQuery?: boolean;
  /**
   * Host of the To URI in INVITE/ACK/BYE/INFO: 'address' = device ip:port as current WVP
   * (SIPRequestHeaderProvider#createInviteRequest), 'domain' = the SIP domain as older releases did.
   */
  inviteToHost?: 'address' | 'domain';
  /** Drop a device whose registration expires or whose keepalives stop, as WVP does (default true). */
  offlineCheck?: boolean;
  /**
   * Final answer expected to our MESSAGEs within this time (WVP `sip.timeout`, SIPSender), default 1000 ms;
   * UDP requests are retransmitted at 500 ms meanwhile.
   */
  sipTimeoutMs?: number;
  /** User-Agent of our requests and responses. */
  userAgent?: string;
  /**
   * IANA zone in which zone-less times from devices (AlarmTime) are read, as WVP's DateUtil does with
   * its configured zone; default this process's zone.
   */
  timeZone?: string;
  logger?: Logger;
}

export type CatalogItem = Record<string, string>;
export type RecordItem = Record<string, string>;

export interface CatalogResult {
  sn: number;
  sumNum: number;
  items: CatalogItem[];
  messages: number;
}

export interface RecordInfoResult {
  sn: number;
  sumNum: number;
  items: RecordItem[];
  messages: number;
}

export interface RegisteredDevice {
  deviceId: string;
  /** Where we send requests: Via received/rport, else the packet source (WVP SipUtils#getRemoteAddressFromRequest). */
  address: string;
  port: number;
  transport: SipTransportKind;
  expires: number;
  callId: string;
  registeredAt: number;
  lastKeepalive?: number;
  /** Results of the automatic queries after registration (autoQuery). */
  deviceInfo?: Record<string, string>;
  basicParam?: Record<string, string>;
  catalog?: CatalogResult;
}

export interface InviteOptions {
  transport: MediaTransportMode;
  sessionType?: InviteSessionType;
  /** Unix seconds for Playback/Download t=. */
  startTime?: number;
  endTime?: number;
  downloadSpeed?: number;
  streamNumber?: 0 | 1;
  /** File path or stream receiving the RTP payloads (MPEG-PS). */
  output?: string | NodeJS.WritableStream;
  /** Wait for the final response (default 10000 ms, WVP play-timeout). */
  timeoutMs?: number;
  /**
   * WVP play-timeout: when set, no RTP within this many ms of the INVITE makes us BYE the session
   * and emit 'media-timeout' on it (RtpServerServiceImpl#openCommonRTPServer). Off by default.
   */
  mediaTimeoutMs?: number;
}

export interface DeviceControlResult {
  status: number;
  response?: Record<string, string>;
  /**
   * 'rejected' non-2xx SIP answer; 'sent' 2xx and no `<Response>` awaited (PTZCmd);
   * 'ok' / 'error' `<Response>` with Result absent or OK / anything else (WVP MessageSubscribe);
   * 'timeout' 2xx but no `<Response>` in time ("消息超时未回复" in WVP).
   */
  outcome: 'rejected' | 'sent' | 'ok' | 'error' | 'timeout';
}

/** DeviceStatus answer with its `<Alarmstatus>` list (GB28181-2016 Annex A.2.6). */
export interface DeviceStatusResult {
  fields: Record<string, string>;
  /** WVP: `<Online>` equal to ONLINE (case-insensitive). */
  online: boolean;
  alarmStatus: Array<{ deviceId: string; dutyStatus: string }>;
}

/** A Catalog NOTIFY after WVP's filtering (NotifyRequestForCatalogProcessor). */
export interface CatalogNotification {
  deviceId: string;
  callId: string;
  sn: string;
  changes: CatalogChange[];
  /** The SUBSCRIBE dialog it arrived in, when it matches one of ours. */
  subscription?: SubscriptionInfo;
}

export interface NotifyMeta {
  callId: string;
  event?: string;
  subscriptionState?: string;
  subscription?: SubscriptionInfo;
}

export interface PlatformEmulatorEvents {
  register: [device: RegisteredDevice];
  unregister: [device: RegisteredDevice];
  keepalive: [device: RegisteredDevice];
  message: [deviceId: string, cmdType: string, fields: Record<string, string>, rawBody: string];
  bye: [callId: string];
  request: [method: string, msg: SipRequest];
  'sdp-problem': [callId: string, problems: string[]];
  'manscdp-problem': [deviceId: string, problem: string];
  /** Outcome of one automatic query after registration. */
  'auto-query': [deviceId: string, query: 'DeviceInfo' | 'BasicParam' | 'Catalog', error?: Error];
  /** A REGISTER with the stored Call-ID (refresh). */
  refresh: [device: RegisteredDevice];
  /** Dropped without an unregister: registration expired or keepalives stopped (WVP DeviceServiceImpl#offline). */
  offline: [device: RegisteredDevice, reason: 'registration expired' | 'keepalive timeout'];
  /** A SUBSCRIBE dialog of ours changed (answer, refresh, Expires: 0, device ended it). */
  subscription: [change: SubscriptionChange, info: SubscriptionInfo];
  /** Every NOTIFY that parsed as MANSCDP, answered 200 first as WVP does. */
  notify: [deviceId: string, cmdType: string, fields: Record<string, string>, rawBody: string, meta: NotifyMeta];
  'catalog-notify': [notification: CatalogNotification];
  'mobile-position': [report: MobilePositionReport];
  /** An alarm WVP would keep, from a NOTIFY (Alarm subscription) or a MESSAGE `<Notify>`. */
  alarm: [alarm: PlatformAlarm];
}

interface PendingAnswer {
  onDocument: (doc: ManscdpDocument) => void;
  /** The answer was refused on the wire (PresetQuery without SN/PresetList). */
  onRejected?: (error: Error) => void;
  /** DeviceID of the query, to find it when the answer carries no SN. */
  target?: string;
}

const RESPONSE_CACHE_MS = 32_000;
const CATALOG_PART_GAP_MS = 5000;
/** Notes §8.7: a partial preset list is delivered 1 s after the last part. */
const PRESET_PART_GAP_MS = 1000;
/** SipConfig#ptzSpeed default, used by SIPCommander#ptzdirectCmd / ptzZoomCmd. */
const WVP_PTZ_SPEED = 50;

const token = (bytes = 8): string => randomBytes(bytes).toString('hex');
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * WVP's GbSipDate: wall-clock `yyyy-MM-ddTHH:mm:ss.SSS` of WVP's JVM zone (GB28181-2016 §9.1.2.2 time
 * sync); `timeZone` stands for that zone (WVP's images run in Asia/Shanghai), default this process's.
 */
export function gbSipDate(d = new Date(), timeZone?: string): string {
  if (!timeZone) return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(d);
  const f = (t: string) => parts.find((p) => p.type === t)?.value ?? '00';
  return `${f('year')}-${f('month')}-${f('day')}T${f('hour')}:${f('minute')}:${f('second')}.${pad(d.getMilliseconds(), 3)}`;
}

export class PlatformEmulator extends EventEmitter<PlatformEmulatorEvents> implements DialogRequestSender {
  readonly host: string;
  readonly serverId: string;
  readonly domain: string;
  readonly transportKind: SipTransportKind;
  private readonly opts: PlatformEmulatorOptions;
  private readonly logger: Logger;
  private readonly transport: PlatformSipTransport;
  private readonly registry = new Map<string, RegisteredDevice>();
  private readonly transactions: SipClientTransactions;
  private readonly responseCache = new Map<string, { bytes: SipResponse; to: SipPeer; at: number }>();
  private readonly pendingAnswers = new Map<string, PendingAnswer>();
  private readonly sessions = new Map<string, InviteSession>();
  private readonly usedSn = new Set<number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly offlineTimers = new Map<string, NodeJS.Timeout>();
  private readonly subscriptionsByCall = new Map<string, PlatformSubscription>();
  private readonly eventState = new DeviceEventState();
  private readonly subscribeTransport: SubscribeTransport;
  private cseq = 1;
  private ssrcSeq = 0;
  private started = false;

  constructor(options: PlatformEmulatorOptions = {}) {
    super();
    this.opts = options;
    this.host = options.host ?? '127.0.0.1';
    this.serverId = options.serverId ?? '34020000002000000001';
    this.domain = options.domain ?? '3402000000';
    this.transportKind = options.transport ?? 'udp';
    this.logger = options.logger ?? silentLogger;
    this.transport = new PlatformSipTransport(this.transportKind, this.host, this.logger);
    this.transport.on('message', (msg, source) => this.onMessage(msg, source));
    this.transactions = new SipClientTransactions(this.transport);
    this.subscribeTransport = this.makeSubscribeTransport();
  }

  get port(): number {
    return this.transport.port;
  }

  private get charset(): PlatformCharset {
    return this.opts.charset ?? 'GB2312';
  }

  async start(): Promise<{ port: number }> {
    const port = await this.transport.start(this.opts.port ?? 0);
    this.started = true;
    this.logger.info('platform emulator listening', { peer: `${this.host}:${port}`, transport: this.transportKind });
    return { port };
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const t of this.offlineTimers.values()) clearTimeout(t);
    this.offlineTimers.clear();
    for (const sub of this.subscriptionsByCall.values()) sub.dispose();
    this.subscriptionsByCall.clear();
    this.transactions.abortAll('platform stopped');
    for (const s of [...this.sessions.values()]) s.close();
    this.sessions.clear();
    this.pendingAnswers.clear();
    await this.transport.stop();
  }

  devices(): RegisteredDevice[] {
    return [...this.registry.values()].map((d) => ({ ...d }));
  }

  device(deviceId: string): RegisteredDevice | undefined {
    const d = this.registry.get(deviceId);
    return d ? { ...d } : undefined;
  }

  /** Resolves with the first event `name` whose arguments satisfy `predicate`. */
  waitForEvent<K extends keyof PlatformEmulatorEvents>(name: K, predicate?: (...args: PlatformEmulatorEvents[K]) => boolean, timeoutMs = 10_000): Promise<PlatformEmulatorEvents[K]> {
    return new Promise((resolve, reject) => {
      const listener = (...args: PlatformEmulatorEvents[K]): void => {
        if (predicate && !predicate(...args)) return;
        clearTimeout(timer);
        this.off(name, listener as never);
        resolve(args);
      };
      const timer = setTimeout(() => {
        this.off(name, listener as never);
        reject(new GatewayError('PLATFORM_WAIT_TIMEOUT', `no '${String(name)}' event within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on(name, listener as never);
    });
  }

  async waitForRegistration(deviceId: string, timeoutMs = 10_000): Promise<RegisteredDevice> {
    const known = this.registry.get(deviceId);
    if (known) return { ...known };
    const [dev] = await this.waitForEvent('register', (d) => d.deviceId === deviceId, timeoutMs);
    return dev;
  }

  // ---------------------------------------------------------------- incoming

  private onMessage(msg: SipMessage, source: SipPeer): void {
    if (!this.started) return;
    if (msg.kind === 'response') {
      this.onResponse(msg);
      return;
    }
    const cacheKey = this.requestKey(msg);
    const cached = cacheKey ? this.responseCache.get(cacheKey) : undefined;
    if (cached) {
      // A retransmitted request: RFC 3261 §17.2 says resend the last response, do not reprocess.
      void this.transport.send(cached.bytes, cached.to).catch(() => undefined);
      return;
    }
    this.emit('request', msg.method, msg);
    try {
      switch (msg.method) {
        case 'REGISTER':
          this.onRegister(msg, source);
          break;
        case 'MESSAGE':
          this.onManscdpMessage(msg, source);
          break;
        case 'BYE':
          this.onBye(msg, source);
          break;
        case 'ACK':
          break;
        case 'NOTIFY':
          this.onNotify(msg, source);
          break;
        case 'OPTIONS':
        case 'INFO':
          this.respond(msg, source, 200, 'OK');
          break;
        default:
          this.respond(msg, source, 405, 'Method Not Allowed');
      }
    } catch (e) {
      this.logger.warn('platform failed on a request', { method: msg.method, error: String(e) });
      this.respond(msg, source, 400, 'Bad Request');
    }
  }

  private requestKey(req: SipRequest): string | undefined {
    const via = headerValues(req, 'Via')[0];
    const branch = via ? headerParam(via, 'branch') : undefined;
    if (!branch || req.method === 'ACK') return undefined;
    return `${branch}|${req.method}|${headerValue(req, 'Call-ID') ?? ''}`;
  }

  private respond(req: SipRequest, source: SipPeer, status: number, reason: string, extra: SipHeaderField[] = [], body?: Buffer): void {
    const vias = headerValues(req, 'Via');
    const headers: SipHeaderField[] = vias.map((v, i) => ({ name: 'Via', value: i === 0 ? this.stampVia(v, source) : v }));
    const from = headerValue(req, 'From');
    let to = headerValue(req, 'To') ?? '';
    if (status > 100 && to && headerParam(to, 'tag') === undefined) to += `;tag=${token(4)}`;
    if (from) headers.push({ name: 'From', value: from });
    headers.push({ name: 'To', value: to });
    headers.push({ name: 'Call-ID', value: headerValue(req, 'Call-ID') ?? '' });
    headers.push({ name: 'CSeq', value: headerValue(req, 'CSeq') ?? '' });
    headers.push(...extra);
    headers.push({ name: 'User-Agent', value: this.userAgent });
    const res: SipResponse = { kind: 'response', status, reason, headers, body: body ?? Buffer.alloc(0) };
    const key = this.requestKey(req);
    if (key && status >= 200) {
      const now = Date.now();
      for (const [k, v] of this.responseCache) if (now - v.at > RESPONSE_CACHE_MS) this.responseCache.delete(k);
      this.responseCache.set(key, { bytes: res, to: source, at: now });
    }
    void this.transport.send(res, source).catch((e: unknown) => this.logger.warn('platform could not send a response', { status, error: String(e) }));
  }

  /** RFC 3581 §4: received= and rport= on the top Via of what we answer. */
  private stampVia(via: string, source: SipPeer): string {
    let out = via;
    if (headerParam(via, 'rport') !== undefined) out = out.replace(/;\s*rport(=\d*)?/i, `;rport=${source.port}`);
    if (headerParam(via, 'received') === undefined) out += `;received=${source.address}`;
    return out;
  }

  private get sipTimeoutMs(): number {
    return this.opts.sipTimeoutMs ?? 1000;
  }

  private get userAgent(): string {
    return this.opts.userAgent ?? 'WVP-Pro emulator';
  }

  /** WVP SipUtils#getRemoteAddressFromRequest with sipUseSourceIpAsRemoteAddress=false. */
  private remoteAddress(req: SipRequest, source: SipPeer): SipPeer {
    const via = headerValues(req, 'Via')[0] ?? '';
    const received = headerParam(via, 'received');
    const rport = headerParam(via, 'rport');
    const sentBy = /^SIP\/2\.0\/\w+\s+([^;:\s]+)(?::(\d+))?/i.exec(via);
    const address = received || (rport !== undefined ? source.address : sentBy?.[1] ?? source.address);
    let port: number;
    if (rport !== undefined && /^\d+$/.test(rport)) port = Number(rport);
    else if (rport !== undefined) port = source.port;
    else port = sentBy?.[2] ? Number(sentBy[2]) : 5060;
    return { address, port };
  }

  private onRegister(req: SipRequest, source: SipPeer): void {
    const deviceId = uriUser(addressUri(headerValue(req, 'From') ?? '')) ?? '';
    // UserSetting.deviceIdStrict (default on): a device ID that is not 20 digits is refused.
    if (!/^\d{20}$/.test(deviceId)) {
      this.respond(req, source, 403, 'Forbidden');
      return;
    }
    const expiresRaw = headerValue(req, 'Expires');
    const expires = expiresRaw !== undefined && /^\d+$/.test(expiresRaw.trim()) ? Number(expiresRaw.trim()) : undefined;
    const callId = headerValue(req, 'Call-ID') ?? '';
    const known = this.registry.get(deviceId);
    const okHeaders = (): SipHeaderField[] => {
      const h: SipHeaderField[] = [{ name: 'Date', value: gbSipDate(new Date(), this.opts.timeZone) }];
      const contact = headerValue(req, 'Contact');
      if (contact) h.push({ name: 'Contact', value: contact });
      h.push({ name: 'Expires', value: String(expires ?? 0) });
      return h;
    };
    const remote = this.remoteAddress(req, source);
    const transport: SipTransportKind = /^SIP\/2\.0\/TCP/i.test(headerValues(req, 'Via')[0] ?? '') ? 'tcp' : 'udp';

    if (known && known.callId === callId) {
      // A refresh is recognised by the stored Call-ID alone and gets no challenge.
      if (expires === undefined) {
        this.respond(req, source, 400, 'Bad Request');
        return;
      }
      this.respond(req, source, 200, 'OK', okHeaders());
      if (expires === 0) this.unregister(deviceId);
      else {
        Object.assign(known, { expires, address: remote.address, port: remote.port, transport });
        this.armOffline(deviceId, expires * 1000, 'registration expired');
        this.emit('refresh', { ...known });
      }
      return;
    }
    const password = this.opts.devicePasswords?.[deviceId] || this.opts.password;
    const authorization = headerValue(req, 'Authorization');
    if (password && authorization === undefined) {
      this.respond(req, source, 401, 'Unauthorized', [{ name: 'WWW-Authenticate', value: digestChallenge(this.domain, this.opts.qop !== false) }]);
      return;
    }
    if (password && authorization !== undefined && !verifyDigestResponse(req.method, authorization, password)) {
      this.respond(req, source, 403, 'wrong password');
      return;
    }
    if (expires === undefined) {
      this.respond(req, source, 400, 'Bad Request');
      return;
    }
    this.respond(req, source, 200, 'OK', okHeaders());
    if (expires === 0) {
      this.unregister(deviceId);
      return;
    }
    const device: RegisteredDevice = { deviceId, address: remote.address, port: remote.port, transport, expires, callId, registeredAt: Date.now() };
    this.registry.set(deviceId, device);
    this.logger.info('device registered', { deviceId, peer: `${remote.address}:${remote.port}` });
    this.armOffline(deviceId, expires * 1000, 'registration expired');
    this.emit('register', { ...device });
    if (this.opts.autoQuery !== false) this.later(() => void this.runAutoQueries(deviceId), 0);
  }

  private unregister(deviceId: string): void {
    const dev = this.registry.get(deviceId);
    if (!dev) return;
    this.registry.delete(deviceId);
    this.disarmOffline(deviceId);
    this.endSubscriptions(deviceId);
    this.emit('unregister', { ...dev });
  }

  private armOffline(deviceId: string, ms: number, reason: 'registration expired' | 'keepalive timeout'): void {
    if (this.opts.offlineCheck === false) return;
    this.disarmOffline(deviceId);
    const timer = setTimeout(() => {
      this.offlineTimers.delete(deviceId);
      const dev = this.registry.get(deviceId);
      if (!dev) return;
      this.registry.delete(deviceId);
      this.endSubscriptions(deviceId);
      this.logger.info('device offline', { deviceId, reason });
      this.emit('offline', { ...dev }, reason);
    }, ms);
    timer.unref();
    this.offlineTimers.set(deviceId, timer);
  }

  private disarmOffline(deviceId: string): void {
    const t = this.offlineTimers.get(deviceId);
    if (t) clearTimeout(t);
    this.offlineTimers.delete(deviceId);
  }

  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** What WVP does on a first registration (DeviceServiceImpl#online): DeviceInfo, BasicParam, then Catalog. */
  private async runAutoQueries(deviceId: string): Promise<void> {
    const steps: Array<['DeviceInfo' | 'BasicParam' | 'Catalog', () => Promise<void>]> = [
      ['DeviceInfo', async () => this.store(deviceId, { deviceInfo: await this.queryDeviceInfo(deviceId) })],
      ['BasicParam', async () => this.store(deviceId, { basicParam: await this.queryBasicParam(deviceId) })],
      ['Catalog', async () => this.store(deviceId, { catalog: await this.queryCatalog(deviceId) })],
    ];
    for (const [name, step] of steps) {
      if (!this.started || !this.registry.has(deviceId)) return;
      try {
        await step();
        this.emit('auto-query', deviceId, name);
      } catch (e) {
        this.logger.debug('auto query failed', { deviceId, query: name, error: String(e) });
        this.emit('auto-query', deviceId, name, e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  private store(deviceId: string, patch: Partial<RegisteredDevice>): void {
    const dev = this.registry.get(deviceId);
    if (dev) Object.assign(dev, patch);
  }

  private onManscdpMessage(req: SipRequest, source: SipPeer): void {
    const callId = headerValue(req, 'Call-ID') ?? '';
    const fromUser = uriUser(addressUri(headerValue(req, 'From') ?? '')) ?? '';
    const session = this.sessions.get(callId);
    const raw = decodeManscdpBody(req.body, this.charset);
    let doc: ManscdpDocument;
    try {
      doc = parseManscdp(raw);
    } catch (e) {
      this.emit('manscdp-problem', fromUser, String(e));
      this.respond(req, source, 400, 'Bad Request');
      return;
    }
    if (session) {
      // In-dialog MESSAGE (MediaStatus 121 in the INVITE's Call-ID, notes §8.5): found by Call-ID.
      this.respond(req, source, 200, 'OK');
      session.emit('message', doc.cmdType, doc.fields, raw);
      this.emit('message', session.deviceId, doc.cmdType, doc.fields, raw);
      return;
    }
    const device = this.registry.get(fromUser);
    if (!device) {
      // MessageRequestProcessor: a MESSAGE from an unknown device gets 404.
      this.respond(req, source, 404, `device ${fromUser} not found`);
      return;
    }
    if (doc.root === 'Response' && doc.cmdType === 'PresetQuery' && this.refusePresetAnswer(req, source, fromUser, doc)) return;
    this.respond(req, source, 200, 'OK');
    if (doc.cmdType === 'Keepalive' && doc.root === 'Notify') {
      device.lastKeepalive = Date.now();
      const remote = this.remoteAddress(req, source);
      device.address = remote.address;
      device.port = remote.port;
      // KeepaliveNotifyMessageHandler: offline deadline = now + min(Expires, HeartBeatInterval × HeartBeatCount).
      const interval = Number(device.basicParam?.HeartBeatInterval ?? '60') || 60;
      const count = Number(device.basicParam?.HeartBeatCount ?? '3') || 3;
      this.armOffline(fromUser, Math.min(device.expires, interval * count) * 1000, 'keepalive timeout');
      this.emit('keepalive', { ...device });
    }
    this.emit('message', fromUser, doc.cmdType, doc.fields, raw);
    if (doc.root === 'Response') this.pendingAnswers.get(`${fromUser}|${doc.cmdType}|${doc.sn}`)?.onDocument(doc);
    // AlarmNotifyMessageHandler / MobilePositionNotifyMessageHandler: a 200 and nothing else (no <Response> MESSAGE).
    if (doc.root === 'Notify' && doc.cmdType === 'Alarm') this.recordAlarm(fromUser, doc, 'message');
    if (doc.root === 'Notify' && doc.cmdType === 'MobilePosition') this.recordPosition(fromUser, doc, 'message');
  }

  /** PresetQueryResponseMessageHandler: no SN or no PresetList → 400 "xml error"; the query's caller never hears back. */
  private refusePresetAnswer(req: SipRequest, source: SipPeer, deviceId: string, doc: ManscdpDocument): boolean {
    const rejection = presetResponseRejection(doc);
    if (!rejection) return false;
    this.respond(req, source, 400, 'xml error');
    this.emit('manscdp-problem', deviceId, rejection);
    const prefix = `${deviceId}|PresetQuery|`;
    const pending = doc.sn
      ? this.pendingAnswers.get(`${prefix}${doc.sn}`)
      : [...this.pendingAnswers.entries()].find(([k, p]) => k.startsWith(prefix) && p.target === doc.deviceId)?.[1];
    pending?.onRejected?.(new GatewayError('PLATFORM_PRESET_REJECTED', `${rejection} (WVP's caller would time out)`, { deviceId, channelId: doc.deviceId }));
    return true;
  }

  /** NotifyRequestProcessor: 200 at once, then dispatch on the body's CmdType (Catalog, Alarm, MobilePosition). */
  private onNotify(req: SipRequest, source: SipPeer): void {
    this.respond(req, source, 200, 'OK');
    const callId = headerValue(req, 'Call-ID') ?? '';
    const deviceId = uriUser(addressUri(headerValue(req, 'From') ?? '')) ?? '';
    const sub = [...this.subscriptionsByCall.values()].find((s) => s.matches(req));
    const subscriptionState = headerValue(req, 'Subscription-State');
    if (sub && subscriptionState && /^\s*terminated/i.test(subscriptionState)) sub.terminate();
    if (!req.body.length) {
      this.emit('manscdp-problem', deviceId, 'NOTIFY without a body: WVP ignores it');
      return;
    }
    const raw = decodeManscdpBody(req.body, this.charset);
    let doc: ManscdpDocument;
    try {
      doc = parseManscdp(raw);
    } catch (e) {
      this.emit('manscdp-problem', deviceId, `NOTIFY body: ${String(e)}`);
      return;
    }
    const meta: NotifyMeta = { callId, event: headerValue(req, 'Event'), subscriptionState, subscription: sub?.info() };
    this.emit('notify', deviceId, doc.cmdType, doc.fields, raw, meta);
    if (!this.registry.has(deviceId)) {
      this.emit('manscdp-problem', deviceId, `NOTIFY ${doc.cmdType} from a device that is not online: WVP ignores it`);
      return;
    }
    switch (doc.cmdType) {
      case 'Catalog':
        this.applyCatalogNotify(deviceId, callId, doc, sub);
        break;
      case 'Alarm':
        this.recordAlarm(deviceId, doc, 'notify');
        break;
      case 'MobilePosition':
        this.recordPosition(deviceId, doc, 'notify');
        break;
      default:
        this.emit('manscdp-problem', deviceId, `NOTIFY with CmdType "${doc.cmdType}": WVP only logs it`);
    }
  }

  private applyCatalogNotify(deviceId: string, callId: string, doc: ManscdpDocument, sub: PlatformSubscription | undefined): void {
    const parsed = parseCatalogChanges(doc);
    for (const p of parsed.problems) this.emit('manscdp-problem', deviceId, p);
    if (!parsed.value) return;
    for (const change of parsed.value) {
      if (!this.eventState.applyCatalogChange(deviceId, change)) {
        this.emit('manscdp-problem', deviceId, `Catalog NOTIFY ${change.event} for channel ${change.channelId} that the platform does not know: WVP updates nothing`);
      }
    }
    this.emit('catalog-notify', { deviceId, callId, sn: doc.sn, changes: parsed.value, subscription: sub?.info() });
  }

  private recordAlarm(deviceId: string, doc: ManscdpDocument, via: 'notify' | 'message'): void {
    const parsed = parseAlarm(doc, deviceId, via, this.opts.timeZone);
    for (const p of parsed.problems) this.emit('manscdp-problem', deviceId, p);
    if (!parsed.value) return;
    // DeviceAlarmMethod.Other (7) goes to a redis channel instead of WVP's alarm list ("作者自用判断").
    if (parsed.value.method === 7) this.emit('manscdp-problem', deviceId, 'Alarm with AlarmMethod 7: WVP forwards it to redis and does not list it among device alarms');
    this.eventState.addAlarm(parsed.value);
    this.emit('alarm', parsed.value);
  }

  private recordPosition(deviceId: string, doc: ManscdpDocument, via: 'notify' | 'message'): void {
    const parsed = parseMobilePosition(doc, deviceId, via);
    for (const p of parsed.problems) this.emit('manscdp-problem', deviceId, p);
    if (!parsed.value) return;
    this.eventState.addPosition(parsed.value);
    this.emit('mobile-position', parsed.value);
  }

  private endSubscriptions(deviceId: string): void {
    for (const [callId, sub] of this.subscriptionsByCall) {
      if (sub.deviceId !== deviceId) continue;
      this.subscriptionsByCall.delete(callId);
      sub.terminate();
    }
  }

  private onBye(req: SipRequest, source: SipPeer): void {
    const callId = headerValue(req, 'Call-ID') ?? '';
    const session = this.sessions.get(callId);
    if (!session) {
      this.respond(req, source, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    this.respond(req, source, 200, 'OK');
    session.handleRemoteBye();
    this.emit('bye', callId);
  }

  private onResponse(res: SipResponse): void {
    if (this.transactions.onResponse(res)) return;
    // A retransmitted 2xx to an INVITE whose ACK was lost: ACK again (RFC 3261 §13.2.2.4).
    const session = this.sessions.get(headerValue(res, 'Call-ID') ?? '');
    if (session && res.status >= 200 && res.status < 300 && /INVITE/i.test(headerValue(res, 'CSeq') ?? '')) {
      const dev = this.registry.get(session.deviceId);
      if (dev) void this.transport.send(session.ack, dev).catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- outgoing

  private viaHeader(branch: string): SipHeaderField {
    return { name: 'Via', value: `SIP/2.0/${this.transportKind.toUpperCase()} ${this.host}:${this.port};rport;branch=${branch}` };
  }

  private requireDevice(deviceId: string): RegisteredDevice {
    const dev = this.registry.get(deviceId);
    if (!dev) throw new GatewayError('PLATFORM_UNKNOWN_DEVICE', `device ${deviceId} is not registered`, { deviceId });
    return dev;
  }

  private sendRequest(req: SipRequest, to: SipPeer, timeoutMs: number): Promise<SipResponse> {
    return this.transactions.send(req, to, timeoutMs);
  }

  private newSn(): number {
    for (;;) {
      const sn = Math.floor((Math.random() * 9 + 1) * 100000);
      if (!this.usedSn.has(sn)) {
        this.usedSn.add(sn);
        if (this.usedSn.size > 10000) this.usedSn.clear();
        return sn;
      }
    }
  }

  /** A MANSCDP MESSAGE as SIPRequestHeaderProvider#createMessageRequest writes it. */
  private buildMessage(dev: RegisteredDevice, xml: string): SipRequest {
    const target = `sip:${dev.deviceId}@${dev.address}:${dev.port}`;
    return {
      kind: 'request', method: 'MESSAGE', uri: target,
      headers: [
        this.viaHeader(`z9hG4bK${token()}`),
        { name: 'From', value: `<sip:${this.serverId}@${this.domain}>;tag=${token(4)}` },
        { name: 'To', value: `<${target}>` },
        { name: 'Call-ID', value: `${token(16)}@${this.host}` },
        { name: 'CSeq', value: `${this.cseq++} MESSAGE` },
        { name: 'Max-Forwards', value: '70' },
        { name: 'User-Agent', value: this.userAgent },
        { name: 'Content-Type', value: 'Application/MANSCDP+xml' },
      ],
      body: encodeManscdpBody(xml, this.charset),
    };
  }

  /**
   * Sends a query and feeds every matching `<Response>` (same device, CmdType and SN) to `onDocument`
   * until it calls `done`. The SIP 200 must come within `sipTimeoutMs` as in WVP's SIPSender.
   */
  private async query<T>(deviceId: string, root: 'Query' | 'Control', cmdType: string, target: string, extra: Record<string, string>, timeoutMs: number,
    collect: (doc: ManscdpDocument, done: (v: T) => void, fail: (e: Error) => void, sn: number) => void, onTimeout?: () => T | undefined): Promise<T> {
    const dev = this.requireDevice(deviceId);
    const sn = this.newSn();
    const key = `${deviceId}|${cmdType}|${sn}`;
    let abandon: () => void = () => undefined;
    const result = new Promise<T>((resolve, reject) => {
      const timer = this.later(() => {
        this.pendingAnswers.delete(key);
        const partial = onTimeout?.();
        if (partial !== undefined) resolve(partial);
        else reject(new GatewayError('PLATFORM_QUERY_TIMEOUT', `no ${cmdType} answer within ${timeoutMs} ms`, { deviceId, key: String(sn) }));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.pendingAnswers.delete(key);
      };
      abandon = finish;
      this.pendingAnswers.set(key, {
        onDocument: (doc) => collect(doc, (v) => { finish(); resolve(v); }, (e) => { finish(); reject(e); }, sn),
        onRejected: (e) => { finish(); reject(e); },
        target,
      });
    });
    result.catch(() => undefined);
    const res = await this.sendRequest(this.buildMessage(dev, buildPlatformXml(root, cmdType, sn, target, extra, this.charset)), dev, this.sipTimeoutMs)
      .catch((e: unknown) => {
        abandon();
        throw e;
      });
    if (res.status < 200 || res.status >= 300) {
      abandon();
      throw new GatewayError('PLATFORM_QUERY_REJECTED', `${cmdType} query answered ${res.status} ${res.reason}`, { deviceId, status: res.status });
    }
    return result;
  }

  /** Catalog (CatalogResponseMessageHandler): parts aggregated by SN until SumNum, at most 5 s between parts. */
  async queryCatalog(deviceId: string, timeoutMs = 30_000): Promise<CatalogResult> {
    const result = await this.collectCatalog(deviceId, timeoutMs);
    this.eventState.seedCatalog(deviceId, result.items);
    return result;
  }

  private collectCatalog(deviceId: string, timeoutMs: number): Promise<CatalogResult> {
    let items: CatalogItem[] = [];
    let messages = 0;
    let sumNum = -1;
    let lastSn = 0;
    let gapTimer: NodeJS.Timeout | undefined;
    return this.query<CatalogResult>(deviceId, 'Query', 'Catalog', deviceId, {}, timeoutMs, (doc, done, _fail, sn) => {
      messages++;
      lastSn = sn;
      sumNum = Number((doc.fields.SumNum ?? '0').trim());
      items = items.concat(doc.items);
      if (gapTimer) clearTimeout(gapTimer);
      const result = (): CatalogResult => ({ sn, sumNum, items, messages });
      if (items.length >= sumNum) done(result());
      else gapTimer = this.later(() => done(result()), CATALOG_PART_GAP_MS);
    }, () => (messages > 0 ? { sn: lastSn, sumNum, items, messages } : undefined));
  }

  /** RecordInfo (RecordInfoResponseMessageHandler): unique by StartTime+EndTime, complete at SumNum. */
  queryRecordInfo(deviceId: string, channelId: string, start: string, end: string, timeoutMs = 15_000): Promise<RecordInfoResult> {
    const byKey = new Map<string, RecordItem>();
    let messages = 0;
    return this.query<RecordInfoResult>(deviceId, 'Query', 'RecordInfo', channelId,
      { StartTime: start, EndTime: end, Secrecy: '0', Type: 'all' }, timeoutMs, (doc, done, _fail, sn) => {
        messages++;
        const sumNum = Number((doc.fields.SumNum ?? '0').trim());
        const keys = doc.items.filter((i) => i.DeviceID).map((i) => `${i.StartTime}|${i.EndTime}`);
        if (new Set(keys).size !== keys.length) {
          // Collectors.toMap throws on a duplicate inside one MESSAGE: WVP loses the whole MESSAGE.
          this.emit('manscdp-problem', deviceId, `RecordInfo SN ${sn}: duplicate StartTime+EndTime inside one MESSAGE, message dropped`);
          return;
        }
        for (const item of doc.items) if (item.DeviceID) byKey.set(`${item.StartTime}|${item.EndTime}`, item);
        if (byKey.size >= sumNum) done({ sn, sumNum, items: [...byKey.values()], messages });
      });
  }

  private querySimple(deviceId: string, cmdType: string, extra: Record<string, string> = {}, timeoutMs = 5000): Promise<Record<string, string>> {
    return this.query<Record<string, string>>(deviceId, 'Query', cmdType, deviceId, extra, timeoutMs, (doc, done) => done({ ...doc.fields }));
  }

  queryDeviceInfo(deviceId: string, timeoutMs = 5000): Promise<Record<string, string>> {
    return this.querySimple(deviceId, 'DeviceInfo', {}, timeoutMs);
  }

  queryDeviceStatus(deviceId: string, timeoutMs = 5000): Promise<Record<string, string>> {
    return this.querySimple(deviceId, 'DeviceStatus', {}, timeoutMs);
  }

  /** DeviceStatus with `<Online>` read as WVP does and the `<Alarmstatus>` items. */
  queryDeviceStatusDetail(deviceId: string, timeoutMs = 5000): Promise<DeviceStatusResult> {
    return this.query<DeviceStatusResult>(deviceId, 'Query', 'DeviceStatus', deviceId, {}, timeoutMs, (doc, done) => done({
      fields: { ...doc.fields },
      online: (doc.fields.Online ?? '').trim().toUpperCase() === 'ONLINE',
      alarmStatus: doc.items.map((i) => ({ deviceId: (i.DeviceID ?? '').trim(), dutyStatus: (i.DutyStatus ?? '').trim() })),
    }));
  }

  /**
   * PresetQuery (SIPCommander#presetQuery): parts merged by PresetID until SumNum (or PresetList@Num);
   * fewer than announced are delivered `partialAfterMs` after the last part. An answer without SN or
   * PresetList is refused with 400 "xml error" and rejects this call with PLATFORM_PRESET_REJECTED.
   */
  queryPresets(deviceId: string, channelId: string, timeoutMs = 4000, partialAfterMs = PRESET_PART_GAP_MS): Promise<PresetQueryResult> {
    const merge = new PresetListMerge();
    let lastSn = 0;
    let gapTimer: NodeJS.Timeout | undefined;
    return this.query<PresetQueryResult>(deviceId, 'Query', 'PresetQuery', channelId, {}, timeoutMs, (doc, done, _fail, sn) => {
      lastSn = sn;
      for (const p of merge.add(doc)) this.emit('manscdp-problem', deviceId, `PresetQuery SN ${sn}: ${p}`);
      if (gapTimer) clearTimeout(gapTimer);
      if (merge.done) done(merge.result(sn));
      else gapTimer = this.later(() => done(merge.result(sn)), partialAfterMs);
    }, () => (merge.messages > 0 ? merge.result(lastSn) : undefined));
  }

  /** ConfigDownload/BasicParam; the BasicParam children are returned without their prefix, next to Result/SN/DeviceID. */
  async queryBasicParam(deviceId: string, timeoutMs = 5000): Promise<Record<string, string>> {
    const fields = await this.querySimple(deviceId, 'ConfigDownload', { ConfigType: 'BasicParam' }, timeoutMs);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) out[k.startsWith('BasicParam.') ? k.slice('BasicParam.'.length) : k] = v;
    return out;
  }

  /**
   * DeviceControl (SIPCommander#frontEndCmd, recordCmd, ...). PTZCmd gets WVP's Info/ControlPriority 5.
   * Returns the SIP status; a `<Response>` with the same SN is awaited for `responseTimeoutMs`
   * (default 0 for PTZCmd, which WVP does not wait for, 1000 ms otherwise as for RecordCmd).
   */
  async sendDeviceControl(deviceId: string, channelId: string, fields: Record<string, string>, responseTimeoutMs?: number): Promise<DeviceControlResult> {
    const dev = this.requireDevice(deviceId);
    const extra: Record<string, string> = { ...fields };
    if (fields.PTZCmd !== undefined && extra['Info.ControlPriority'] === undefined) extra['Info.ControlPriority'] = '5';
    const wait = responseTimeoutMs ?? (fields.PTZCmd !== undefined ? 0 : 1000);
    const sn = this.newSn();
    const key = `${deviceId}|DeviceControl|${sn}`;
    let response: Record<string, string> | undefined;
    let gotResponse: () => void = () => undefined;
    const responded = new Promise<void>((resolve) => (gotResponse = resolve));
    this.pendingAnswers.set(key, { onDocument: (doc) => { response = { ...doc.fields }; gotResponse(); } });
    try {
      const res = await this.sendRequest(this.buildMessage(dev, buildPlatformXml('Control', 'DeviceControl', sn, channelId, extra, this.charset)), dev, this.sipTimeoutMs);
      const accepted = res.status >= 200 && res.status < 300;
      if (wait > 0 && accepted && !response) {
        await Promise.race([responded, new Promise<void>((r) => this.later(r, wait))]);
      }
      let outcome: DeviceControlResult['outcome'];
      if (!accepted) outcome = 'rejected';
      else if (response) outcome = response.Result === undefined || response.Result.trim().toUpperCase() === 'OK' ? 'ok' : 'error';
      else outcome = wait > 0 ? 'timeout' : 'sent';
      return { status: res.status, response, outcome };
    } finally {
      this.pendingAnswers.delete(key);
    }
  }

  /** PtzController#ptz (the REST call behind WVP's web UI): PTZCmd from frontEndCmdString, ControlPriority 5, no answer awaited. */
  ptz(deviceId: string, channelId: string, command: WvpPtzCommand, speeds: WvpPtzSpeeds = {}): Promise<DeviceControlResult> {
    return this.sendDeviceControl(deviceId, channelId, { PTZCmd: wvpPtzCommandString(command, speeds) });
  }

  /** PtzController#ptz with command "stop": A50F0100000000B5. */
  ptzStop(deviceId: string, channelId: string): Promise<DeviceControlResult> {
    return this.ptz(deviceId, channelId, 'stop');
  }

  /**
   * SIPCommander#ptzCmd with SipUtils#cmdString (leftRight/upDown/inOut: 0 stop, 1 left|up|zoom-out,
   * 2 right|down|zoom-in); speeds default to WVP's sip.ptz-speed 50.
   */
  ptzCmd(deviceId: string, channelId: string, move: { leftRight?: 0 | 1 | 2; upDown?: 0 | 1 | 2; inOut?: 0 | 1 | 2; moveSpeed?: number; zoomSpeed?: number }): Promise<DeviceControlResult> {
    const cmd = wvpCmdString(move.leftRight ?? 0, move.upDown ?? 0, move.inOut ?? 0, move.moveSpeed ?? WVP_PTZ_SPEED, move.zoomSpeed ?? WVP_PTZ_SPEED);
    return this.sendDeviceControl(deviceId, channelId, { PTZCmd: cmd });
  }

  /** PtzController preset add/call/delete: PTZCmd 0x81/0x82/0x83 with data 1 = 1, data 2 = preset (1..255). */
  preset(deviceId: string, channelId: string, action: 'set' | 'call' | 'delete', presetId: number): Promise<DeviceControlResult> {
    return this.sendDeviceControl(deviceId, channelId, { PTZCmd: wvpPresetCommandString(action, presetId) });
  }

  /** SIPCommander#homePositionCmd: `<HomePosition>` Enabled 1 with ResetTime and PresetIndex, or Enabled 0. */
  homePosition(deviceId: string, channelId: string, opts: { enabled: boolean; resetTime?: number; presetIndex?: number }, responseTimeoutMs = 1000): Promise<DeviceControlResult> {
    const fields: Record<string, string> = opts.enabled
      ? { 'HomePosition.Enabled': '1', 'HomePosition.ResetTime': String(opts.resetTime ?? 0), 'HomePosition.PresetIndex': String(opts.presetIndex ?? 0) }
      : { 'HomePosition.Enabled': '0' };
    return this.sendDeviceControl(deviceId, channelId, fields, responseTimeoutMs);
  }

  /** SIPCommander#alarmCmd: `<AlarmCmd>ResetAlarm</AlarmCmd>` (+ Info/AlarmMethod, Info/AlarmType); DeviceID is the device's unless `targetId` is given. */
  alarmReset(deviceId: string, opts: { targetId?: string; alarmMethod?: string | number; alarmType?: string | number } = {}, responseTimeoutMs = 1000): Promise<DeviceControlResult> {
    const fields: Record<string, string> = { AlarmCmd: 'ResetAlarm' };
    if (opts.alarmMethod !== undefined && opts.alarmMethod !== '') fields['Info.AlarmMethod'] = String(opts.alarmMethod);
    if (opts.alarmType !== undefined && opts.alarmType !== '') fields['Info.AlarmType'] = String(opts.alarmType);
    return this.sendDeviceControl(deviceId, opts.targetId ?? deviceId, fields, responseTimeoutMs);
  }

  /** SIPCommander#guardCmd: `<GuardCmd>SetGuard|ResetGuard</GuardCmd>`, DeviceID the device's unless `targetId` is given. */
  guard(deviceId: string, action: 'set' | 'reset', opts: { targetId?: string } = {}, responseTimeoutMs = 1000): Promise<DeviceControlResult> {
    return this.sendDeviceControl(deviceId, opts.targetId ?? deviceId, { GuardCmd: action === 'set' ? 'SetGuard' : 'ResetGuard' }, responseTimeoutMs);
  }

  /** SIPCommander#recordCmd: `<RecordCmd>Record|StopRecord</RecordCmd>`, waiting 1000 ms for the `<Response>` (notes §8.6). */
  recordCmd(deviceId: string, channelId: string, command: 'Record' | 'StopRecord', responseTimeoutMs = 1000): Promise<DeviceControlResult> {
    return this.sendDeviceControl(deviceId, channelId, { RecordCmd: command }, responseTimeoutMs);
  }

  // ---------------------------------------------------------------- subscriptions and pushed state

  /**
   * SUBSCRIBE as WVP sends it (see PlatformSubscription). Resolves with the handle once the device answered,
   * whatever the status (`handle.status`, `handle.state` 'active' or 'failed'); rejects when no answer comes.
   */
  async subscribe(deviceId: string, kind: SubscriptionKind, opts: SubscribeOptions): Promise<PlatformSubscription> {
    this.requireDevice(deviceId);
    const sub = new PlatformSubscription(this.subscribeTransport, deviceId, kind, opts, this.sipTimeoutMs);
    this.subscriptionsByCall.set(sub.callId, sub);
    try {
      await sub.start();
    } catch (e) {
      this.subscriptionsByCall.delete(sub.callId);
      throw e;
    }
    return sub;
  }

  /** Our SUBSCRIBE dialogs still known (active, failed or pending), optionally for one device. */
  subscriptions(deviceId?: string): PlatformSubscription[] {
    return [...this.subscriptionsByCall.values()].filter((s) => deviceId === undefined || s.deviceId === deviceId);
  }

  /** Channels as the platform sees them: the last catalog answer with Catalog NOTIFY changes applied. */
  channels(deviceId: string): PlatformChannelState[] {
    return this.eventState.channelList(deviceId);
  }

  /** 'ON' / 'OFF' after the last catalog answer and notifications; undefined for an unknown channel. */
  channelStatus(deviceId: string, channelId: string): 'ON' | 'OFF' | undefined {
    return this.eventState.channel(deviceId, channelId)?.status;
  }

  /** Alarms kept so far (NOTIFY and MESSAGE), oldest first. */
  alarms(deviceId?: string): PlatformAlarm[] {
    return this.eventState.alarms(deviceId);
  }

  clearAlarms(deviceId?: string): void {
    this.eventState.clearAlarms(deviceId);
  }

  /** Mobile positions received (the last 100), oldest first. */
  positions(deviceId?: string): MobilePositionReport[] {
    return this.eventState.positions(deviceId);
  }

  private makeSubscribeTransport(): SubscribeTransport {
    return {
      local: () => ({ serverId: this.serverId, domain: this.domain, host: this.host, port: this.port, transportName: this.transportKind.toUpperCase(), userAgent: this.userAgent }),
      nextCseq: () => this.cseq++,
      newSn: () => this.newSn(),
      queryBody: (cmdType, sn, deviceId, extra) => encodeManscdpBody(buildPlatformXml('Query', cmdType, sn, deviceId, extra, this.charset), this.charset),
      deviceAddress: (deviceId) => {
        const dev = this.registry.get(deviceId);
        return dev ? { address: dev.address, port: dev.port } : undefined;
      },
      send: (req, to, timeoutMs) => this.sendRequest(req, to, timeoutMs),
      changed: (sub, change) => {
        if (change === 'unsubscribed' || change === 'terminated') this.subscriptionsByCall.delete(sub.callId);
        this.emit('subscription', change, sub.info());
      },
    };
  }

  /** To URI of our INVITE dialogs: current WVP writes the device's ip:port, older releases the SIP domain. */
  private inviteToUri(channelId: string, hostport: string): string {
    return `sip:${channelId}@${this.opts.inviteToHost === 'domain' ? this.domain : hostport}`;
  }

  /** GB28181 SSRC as WVP's SSRCFactory: "0" live / "1" history + domain[3..8) + 4 digits. */
  private nextSsrc(history: boolean): string {
    this.ssrcSeq = (this.ssrcSeq % 9999) + 1;
    return `${history ? '1' : '0'}${this.domain.substring(3, 8)}${String(this.ssrcSeq).padStart(4, '0')}`;
  }

  /** INVITE as SIPCommander#playStreamCmd/playbackStreamCmd/downloadStreamCmd, then ACK and media. */
  async invite(deviceId: string, channelId: string, opts: InviteOptions): Promise<InviteSession> {
    const dev = this.requireDevice(deviceId);
    const sessionType = opts.sessionType ?? 'Play';
    const ssrc = this.nextSsrc(sessionType !== 'Play');
    const sdpIp = this.opts.sdpIp ?? this.host;
    const receiver = new RtpPsReceiver(opts.transport, this.host, opts.output);
    const mediaPort = await receiver.open(this.opts.mediaPortRange);
    const offerSdp = buildWvpOffer({
      originUser: channelId, channelId, sdpIp, mediaPort, transport: opts.transport, sessionType, ssrc,
      startTime: opts.startTime, endTime: opts.endTime, downloadSpeed: opts.downloadSpeed, streamNumber: opts.streamNumber,
    });
    const callId = `${token(16)}@${this.host}`;
    const fromTag = token(4);
    const cseq = this.cseq++;
    const hostport = `${dev.address}:${dev.port}`;
    const req: SipRequest = {
      kind: 'request', method: 'INVITE', uri: `sip:${channelId}@${hostport}`,
      headers: [
        this.viaHeader(`z9hG4bK${token()}`),
        { name: 'From', value: `<sip:${this.serverId}@${this.domain}>;tag=${fromTag}` },
        { name: 'To', value: `<${this.inviteToUri(channelId, hostport)}>` },
        { name: 'Call-ID', value: callId },
        { name: 'CSeq', value: `${cseq} INVITE` },
        { name: 'Max-Forwards', value: '70' },
        { name: 'User-Agent', value: this.userAgent },
        { name: 'Contact', value: `<sip:${this.serverId}@${this.host}:${this.port}>` },
        { name: 'Subject', value: `${channelId}:${ssrc},${this.serverId}:0` },
        { name: 'Content-Type', value: 'APPLICATION/SDP' },
      ],
      body: Buffer.from(offerSdp, 'utf8'),
    };
    let res: SipResponse;
    const invitedAt = Date.now();
    try {
      res = await this.sendRequest(req, dev, opts.timeoutMs ?? 10_000);
    } catch (e) {
      await receiver.close();
      throw e;
    }
    if (res.status < 200 || res.status >= 300) {
      // RFC 3261 §17.1.1.3: the transaction ACKs a non-2xx final answer with the INVITE's branch.
      const failedAck: SipRequest = {
        kind: 'request', method: 'ACK', uri: req.uri,
        headers: [
          req.headers[0],
          req.headers[1],
          { name: 'To', value: headerValue(res, 'To') ?? `<sip:${channelId}@${hostport}>` },
          { name: 'Call-ID', value: callId },
          { name: 'CSeq', value: `${cseq} ACK` },
          { name: 'Max-Forwards', value: '70' },
        ],
        body: Buffer.alloc(0),
      };
      await this.transport.send(failedAck, dev).catch(() => undefined);
      await receiver.close();
      throw new GatewayError('PLATFORM_INVITE_REJECTED', `INVITE answered ${res.status} ${res.reason}`, { deviceId, channelId, callId, status: res.status });
    }
    const answerSdp = res.body.toString('utf8');
    const answer = parseAnswerSdp(answerSdp, { transport: opts.transport, ssrc });
    const toTag = headerParam(headerValue(res, 'To') ?? '', 'tag') ?? '';
    // InviteResponseProcessor: the ACK's Request-URI user is the o= username of the answer (notes §1.6).
    const ack: SipRequest = {
      kind: 'request', method: 'ACK', uri: `sip:${answer.originUser ?? channelId}@${hostport}`,
      headers: [
        this.viaHeader(`z9hG4bK${token()}`),
        { name: 'From', value: `<sip:${this.serverId}@${this.domain}>;tag=${fromTag}` },
        { name: 'To', value: `<${this.inviteToUri(channelId, hostport)}>;tag=${toTag}` },
        { name: 'Call-ID', value: callId },
        { name: 'CSeq', value: `${cseq} ACK` },
        { name: 'Max-Forwards', value: '70' },
        { name: 'User-Agent', value: this.userAgent },
      ],
      body: Buffer.alloc(0),
    };
    const session = new InviteSession({
      callId, deviceId, channelId, ssrc, transport: opts.transport, fromTag, toTag, status: res.status, answerSdp, answer, offerSdp, ack, receiver,
    }, this);
    this.sessions.set(callId, session);
    await this.transport.send(ack, dev);
    if (answer.problems.length) this.emit('sdp-problem', callId, answer.problems);
    if (opts.mediaTimeoutMs !== undefined) {
      const left = Math.max(0, opts.mediaTimeoutMs - (Date.now() - invitedAt));
      this.later(() => {
        if (session.firstPacketAt !== undefined || session.isEnded) return;
        session.emit('media-timeout');
        session.bye().catch((e: unknown) => this.logger.debug('BYE after media timeout failed', { callId, error: String(e) }));
      }, left);
    }
    if (opts.transport === 'tcp-active') {
      // PlayServiceImpl#tcpActiveHandler: connect to the answer's c=/m= right after the 200.
      const host = answer.connectionIp ?? dev.address;
      const port = answer.mediaPort ?? 0;
      try {
        await receiver.connect(host, port);
      } catch (e) {
        session.close();
        throw e;
      }
    }
    return session;
  }

  sendInDialog(session: InviteSession, method: 'BYE' | 'INFO', body?: Buffer, contentType?: string): Promise<SipResponse> {
    const dev = this.requireDevice(session.deviceId);
    const hostport = `${dev.address}:${dev.port}`;
    const headers: SipHeaderField[] = [
      this.viaHeader(`z9hG4bK${token()}`),
      { name: 'From', value: `<sip:${this.serverId}@${this.domain}>;tag=${session.fromTag}` },
      { name: 'To', value: `<${this.inviteToUri(session.channelId, hostport)}>;tag=${session.toTag}` },
      { name: 'Call-ID', value: session.callId },
      { name: 'CSeq', value: `${this.cseq++} ${method}` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'User-Agent', value: this.userAgent },
      { name: 'Contact', value: `<sip:${this.serverId}@${this.host}:${this.port}>` },
    ];
    if (contentType) headers.push({ name: 'Content-Type', value: contentType });
    return this.sendRequest({ kind: 'request', method, uri: `sip:${session.channelId}@${hostport}`, headers, body: body ?? Buffer.alloc(0) }, dev, 4000);
  }

  forgetSession(session: InviteSession): void {
    if (this.sessions.get(session.callId) === session) this.sessions.delete(session.callId);
  }

  /** Sessions still open. */
  openSessions(): InviteSession[] {
    return [...this.sessions.values()];
  }
}
