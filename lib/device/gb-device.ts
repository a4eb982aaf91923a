/**
 * The GB28181 device user agent: one SIP endpoint that registers with the platform, keeps
 * alive, answers its queries and controls, and serves its INVITEs through an injected
 * StreamHandler (the media side). No Node-RED here: the gateway glue and the nodes call this API.
 */
import { EventEmitter } from 'node:events';
import { DeviceConfig, LocalConfig, PlatformConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { DeviceControlEvent } from '../manscdp/device-control';
import { RecordQuery } from '../manscdp/record-info-response';
import { ChannelDescriptor, StreamHandler } from '../session/stream-contract';
import { Registration, RegistrationState } from '../sip/registration';
import { uriUser } from '../sip/sip-codec';
import { IncomingRequest, SipEndpoint } from '../sip/sip-endpoint';
import { SessionSummary } from './invite-dialog';
import { InviteHandler } from './invite-handler';
import { KeepaliveLoop } from './keepalive-loop';
import { ManscdpResponder } from './manscdp-responder';

export type { DeviceControlEvent } from '../manscdp/device-control';
export type { MansRtspCommand } from './mansrtsp-command';
export type { SessionSummary } from './invite-dialog';
export type GbDeviceState = RegistrationState;

/** An alarm the device reports (GB28181-2016 §9.4, Annex A.2.5 报警通知). */
export interface DeviceAlarm {
  /** Alarm source: a channel ID or the device ID. */
  channelId: string;
  /** AlarmPriority: 1 first-level (highest) .. 4. */
  priority: 1 | 2 | 3 | 4;
  /** AlarmMethod 1..7 (2 device alarm, 5 video alarm, 6 device fault, 7 other). */
  method: number;
  /** AlarmType (for method 2: 1 = video loss). */
  type?: number;
  description?: string;
  /** Default Date.now(); written as AlarmTime in the platform's time zone. */
  timeMs?: number;
  longitude?: number;
  latitude?: number;
}

/** How an alarm left the device: NOTIFY to Alarm subscribers, a MESSAGE, or not at all (not registered / refused). */
export type AlarmDelivery = 'notify' | 'message' | 'not-sent';

export type SubscriptionKind = 'Catalog' | 'Alarm' | 'MobilePosition';

export interface SubscriptionSummary {
  kind: SubscriptionKind;
  callId: string;
  /** Unix ms. */
  expiresAt: number;
}

export interface PresetEntry {
  presetId: number;
  name: string;
}

export interface GbDeviceOptions {
  device: DeviceConfig;
  platform: PlatformConfig;
  local: LocalConfig;
  /** Catalog items per MESSAGE (default 8). */
  catalogBatchSize?: number;
  logger?: Logger;
  userAgent?: string;
  streamHandler?: StreamHandler;
  /** Bound on StreamHandler.prepare (default 8000 ms). */
  inviteTimeoutMs?: number;
  /** Archive lookup for RecordInfo; without it RecordInfo answers SumNum 0. */
  recordQuery?: RecordQuery;
  /** Delay between the 200 to a query and its answer MESSAGE (default 60 ms; WVP must be waiting, notes §8.1). */
  answerDelayMs?: number;
  /** PresetQuery answer; bounded by the device (presetTimeoutMs, default 3000 ms, WVP waits 4 s). */
  presetQuery?: (channelId: string) => Promise<PresetEntry[]>;
  /** RecordCmd Record/StopRecord; a rejection (or no answer within recordCommandTimeoutMs) answers Result ERROR. */
  recordCommand?: (channelId: string, action: 'start' | 'stop') => Promise<void>;
  /** DeviceStatus `Record`: whether a channel is recording now (default: as the last RecordCmd left it). */
  recording?: (channelId: string) => boolean;
  /** Default true: a channel going online→offline raises DeviceAlarm {priority 1, method 2, type 1}. */
  videoLossAlarm?: boolean;
  /** Bound on presetQuery (default 3000 ms). */
  presetTimeoutMs?: number;
  /** Bound on recordCommand before the Response goes out (default 800 ms; WVP waits 1 s, notes §8.6). */
  recordCommandTimeoutMs?: number;
  /** Registration timings (tests shorten them). */
  registration?: { requestTimeoutMs?: number; backoffMinMs?: number; backoffMaxMs?: number };
}

const ALLOWED = 'INVITE, ACK, BYE, CANCEL, INFO, MESSAGE, OPTIONS, SUBSCRIBE, NOTIFY';

/**
 * Events: 'registering' | 'registered' | 'failed'(reason, status?) | 'unregistered'
 * | 'control'(DeviceControlEvent) | 'invite'(StreamRequest) | 'ack'(callId) | 'bye'(callId, by)
 * | 'cancel'(callId) | 'playback-control'(callId, MansRtspCommand) | 'query'(cmdType, sn)
 * | 'alarm'(DeviceAlarm, AlarmDelivery) | 'alarm-reset'(channelId) | 'guard'(deviceId, 'set'|'reset')
 * | 'subscription'(SubscriptionKind, 'start'|'refresh'|'end').
 */
export class GbDevice extends EventEmitter {
  private readonly opts: GbDeviceOptions;
  private readonly logger: Logger;
  private readonly endpoint: SipEndpoint;
  private readonly registration: Registration;
  private readonly keepalive: KeepaliveLoop;
  private readonly responder: ManscdpResponder;
  private readonly invites: InviteHandler;
  private readonly channelMap = new Map<string, ChannelDescriptor>();
  private handler?: StreamHandler;
  private sn = Math.floor(Math.random() * 100000);
  private started = false;

  constructor(opts: GbDeviceOptions) {
    super();
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
    this.handler = opts.streamHandler;
    const userAgent = opts.userAgent ?? 'node-red-contrib-gb28181';
    this.endpoint = new SipEndpoint({ protocol: opts.platform.transport, bindIp: opts.local.sipIp, port: opts.local.sipPort, contactIp: opts.local.contactIp, userAgent, logger: this.logger });
    this.registration = new Registration({ endpoint: this.endpoint, deviceId: opts.device.id, platform: opts.platform, logger: this.logger, ...opts.registration });
    const nextSn = () => ++this.sn;
    this.keepalive = new KeepaliveLoop({
      endpoint: this.endpoint,
      deviceId: opts.device.id,
      platformId: opts.platform.id,
      platformDomain: opts.platform.domain,
      target: () => this.registration.platformEndpoint,
      intervalSeconds: opts.platform.keepaliveInterval,
      count: opts.platform.keepaliveCount,
      charset: opts.platform.charset,
      nextSn,
      onLost: (reason) => this.registration.restart(reason),
      logger: this.logger,
    });
    this.responder = new ManscdpResponder({
      endpoint: this.endpoint,
      device: opts.device,
      platform: opts.platform,
      logger: this.logger,
      channels: () => this.channels(),
      catalogBatchSize: opts.catalogBatchSize ?? 8,
      answerDelayMs: opts.answerDelayMs ?? 60,
      recordQuery: opts.recordQuery,
      onControl: (ev: DeviceControlEvent) => this.safeEmit('control', ev),
      onQuery: (cmdType, sn) => this.safeEmit('query', cmdType, sn),
      online: () => true,
    });
    this.invites = new InviteHandler({
      endpoint: this.endpoint,
      device: opts.device,
      platform: opts.platform,
      logger: this.logger,
      channel: (id) => this.channelMap.get(id),
      streamHandler: () => this.handler,
      inviteTimeoutMs: opts.inviteTimeoutMs ?? 8000,
      emit: (event, ...args) => this.safeEmit(event, ...args),
      nextSn,
    });
    this.registration.on('registering', () => this.emit('registering'));
    this.registration.on('registered', () => {
      this.keepalive.start();
      this.emit('registered');
    });
    this.registration.on('failed', (reason: string, status?: number) => {
      this.keepalive.stop();
      this.emit('failed', reason, status);
    });
    this.registration.on('unregistered', () => this.emit('unregistered'));
    this.endpoint.on('request', (req: IncomingRequest) => {
      this.onRequest(req).catch((e: unknown) => this.logger.error(`request handling failed: ${(e as Error).stack ?? String(e)}`));
    });
  }

  get state(): GbDeviceState {
    return this.registration.state;
  }

  get lastFailure(): string | undefined {
    return this.registration.lastFailure;
  }

  get clockOffsetMs(): number | undefined {
    return this.registration.clockOffsetMs;
  }

  /** Binds the SIP port (rejects with SipBindError when it is taken), then registers in the background. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.endpoint.start();
    this.responder.open();
    this.started = true;
    this.registration.start();
  }

  /** Ends sessions with BYE, unregisters (bounded), closes the socket. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.keepalive.stop();
    this.responder.close();
    await this.invites.closeAll();
    await this.registration.stop(2000);
    await this.endpoint.stop();
  }

  localSipPort(): number {
    return this.endpoint.localPort;
  }

  setChannels(list: ChannelDescriptor[]): void {
    this.channelMap.clear();
    for (const ch of list) this.channelMap.set(ch.id, { ...ch });
  }

  upsertChannel(ch: ChannelDescriptor): void {
    this.channelMap.set(ch.id, { ...ch });
  }

  removeChannel(id: string): void {
    this.channelMap.delete(id);
  }

  channels(): ChannelDescriptor[] {
    return [...this.channelMap.values()].map((c) => ({ ...c }));
  }

  /** Sends an alarm: NOTIFY to Alarm subscribers, else a MESSAGE `<Notify>` CmdType Alarm (GB28181-2016 §9.4). */
  async raiseAlarm(alarm: DeviceAlarm): Promise<AlarmDelivery> {
    void alarm;
    return 'not-sent';
  }

  alarmStatus(channelId: string): { alarmed: boolean; guarded: boolean } {
    void channelId;
    return { alarmed: false, guarded: false };
  }

  subscriptions(): SubscriptionSummary[] {
    return [];
  }

  setStreamHandler(h: StreamHandler): void {
    this.handler = h;
  }

  endSession(callId: string, reason: string): Promise<void> {
    return this.invites.endSession(callId, reason);
  }

  sendMediaStatus(callId: string, notifyType = 121): Promise<void> {
    return this.invites.sendMediaStatus(callId, notifyType);
  }

  activeSessions(): SessionSummary[] {
    return this.invites.activeSessions();
  }

  /** A listener that throws must not break the SIP exchange in progress. */
  private safeEmit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (e) {
      this.logger.error(`'${event}' listener failed: ${(e as Error).message}`);
    }
  }

  /** Only the platform we register with may INVITE, query or control (its address, or its ID as From user). */
  private fromPlatform(req: IncomingRequest): boolean {
    const p = this.opts.platform;
    return req.remote.address === p.host || uriUser(req.message.headers.from?.uri) === p.id;
  }

  private async onRequest(req: IncomingRequest): Promise<void> {
    const method = (req.message.method ?? '').toUpperCase();
    const ep = this.endpoint;
    switch (method) {
      case 'ACK':
        this.invites.handleAck(req);
        return;
      case 'BYE':
        return this.invites.handleBye(req);
      case 'CANCEL':
        return this.invites.handleCancel(req);
      case 'INFO':
        return this.invites.handleInfo(req);
      case 'OPTIONS':
        await ep.respond(req, 200, 'OK', { headers: { allow: ALLOWED } });
        return;
      default:
        break;
    }
    if (!['INVITE', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY'].includes(method)) {
      await ep.respond(req, 405, 'Method Not Allowed', { headers: { allow: ALLOWED } });
      return;
    }
    if (!this.fromPlatform(req)) {
      this.logger.warn(`${method} from ${req.remote.address}:${req.remote.port} refused: not our platform`);
      await ep.respond(req, 403, 'Forbidden (not the registered platform)');
      return;
    }
    if (method === 'INVITE') return this.invites.handleInvite(req);
    if (method === 'MESSAGE') return this.responder.handle(req);
    if (method === 'SUBSCRIBE') {
      // Accepted so WVP does not re-subscribe every 10 s (notes §8.7); we send no NOTIFYs yet.
      const expires = String(req.message.headers.expires ?? '3600');
      const event = typeof req.message.headers.event === 'string' ? req.message.headers.event : undefined;
      await ep.respond(req, 200, 'OK', { headers: { expires, ...(event ? { event } : {}) } });
      return;
    }
    await ep.respond(req, 200, 'OK');
  }
}
