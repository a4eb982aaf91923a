/**
 * The GB28181 device user agent: one SIP endpoint that registers with the platform, keeps
 * alive, answers its queries and controls, and serves its INVITEs through an injected
 * StreamHandler (the media side). No Node-RED here: the gateway glue and the nodes call this API.
 */
import { EventEmitter } from 'node:events';
import { DeviceConfig, LocalConfig, PlatformConfig } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { GatewayError } from '../errors';
import { DeviceControlEvent } from '../manscdp/device-control';
import { PresetItem } from '../manscdp/preset-query-response';
import { RecordQuery } from '../manscdp/record-info-response';
import { ChannelDescriptor, StreamHandler } from '../session/stream-contract';
import { Registration, RegistrationState } from '../sip/registration';
import { uriUser } from '../sip/sip-codec';
import { IncomingRequest, SipEndpoint } from '../sip/sip-endpoint';
import { AlarmDelivery, AlarmReporter, DeviceAlarm } from './alarm-reporter';
import { AlarmState, AlarmStatus, VIDEO_LOSS } from './alarm-state';
import { CatalogChangeNotifier } from './catalog-change-notifier';
import { SessionSummary } from './invite-dialog';
import { InviteHandler } from './invite-handler';
import { KeepaliveLoop } from './keepalive-loop';
import { ManscdpResponder } from './manscdp-responder';
import { MobilePositionReporter } from './mobile-position-reporter';
import { StateControls } from './state-controls';
import { SubscriptionDialog, SubscriptionSummary } from './subscription-dialog';
import { SubscriptionPhase, SubscriptionTable } from './subscription-table';

export type { DeviceControlEvent } from '../manscdp/device-control';
export type { MansRtspCommand } from './mansrtsp-command';
export type { SessionSummary } from './invite-dialog';
export type { DeviceAlarm, AlarmDelivery } from './alarm-reporter';
export type { AlarmStatus } from './alarm-state';
export type { SubscriptionKind, SubscriptionSummary } from './subscription-dialog';
export type { SubscriptionPhase } from './subscription-table';
export type GbDeviceState = RegistrationState;

/** A preset as PresetQuery lists it (GB28181-2016 Annex A.2.6). */
export type PresetEntry = PresetItem;

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
  /**
   * PresetQuery answer for the query's DeviceID (a channel, or the device ID: return [] then);
   * bounded by the device (presetTimeoutMs, default 3000 ms, WVP waits 4 s): late or failed → empty list.
   */
  presetQuery?: (channelId: string) => Promise<PresetEntry[]>;
  /**
   * RecordCmd Record/StopRecord for the command's DeviceID (a channel, or the device ID). Resolve once
   * the command is accepted (not when a segment is written); a rejection, or no answer within
   * recordCommandTimeoutMs, answers Result ERROR. Without it RecordCmd answers OK.
   */
  recordCommand?: (channelId: string, action: 'start' | 'stop') => Promise<void>;
  /** DeviceStatus `Record`: whether a channel is recording now (default: as the last RecordCmd left it). */
  recording?: (channelId: string) => boolean;
  /**
   * Send alarms as MESSAGE even when the platform holds an Alarm subscription (default false:
   * NOTIFY to subscribers). WVP keeps the alarm's channel and stores it only from a MESSAGE
   * (AlarmNotifyMessageHandler); its NOTIFY path needs `sip.alarm` and drops the channel ID
   * (NotifyRequestProcessor#processNotifyAlarm).
   */
  alarmsAsMessage?: boolean;
  /** Default true: a channel going online→offline raises DeviceAlarm {priority 1, method 2, type 1}. */
  videoLossAlarm?: boolean;
  /** Bound on presetQuery (default 3000 ms). */
  presetTimeoutMs?: number;
  /** Bound on recordCommand before the Response goes out (default 800 ms; WVP waits 1 s, notes §8.6). */
  recordCommandTimeoutMs?: number;
  /** Bound on each NOTIFY transaction (default 4000 ms); two unanswered in a row end the subscription. */
  notifyTimeoutMs?: number;
  /** How long channel changes are gathered before a Catalog NOTIFY (default 100 ms). */
  catalogNotifyDelayMs?: number;
  /** Registration timings (tests shorten them). */
  registration?: { requestTimeoutMs?: number; backoffMinMs?: number; backoffMaxMs?: number };
}

const ALLOWED = 'INVITE, ACK, BYE, CANCEL, INFO, MESSAGE, OPTIONS, SUBSCRIBE, NOTIFY';

/**
 * Events: 'registering' | 'registered' | 'failed'(reason, status?) | 'unregistered'
 * | 'control'(DeviceControlEvent) | 'invite'(StreamRequest) | 'ack'(callId) | 'bye'(callId, by)
 * | 'cancel'(callId) | 'playback-control'(callId, MansRtspCommand) | 'query'(cmdType, sn)
 * | 'alarm'(DeviceAlarm, AlarmDelivery) | 'alarm-reset'(channelId, 'platform'|'video-restored')
 * | 'guard'(deviceId, 'set'|'reset') | 'subscription'(SubscriptionKind, 'start'|'refresh'|'end').
 * 'alarm-reset' with 'platform' follows AlarmCmd ResetAlarm (its DeviceID: a channel, or the device
 * for all); 'video-restored' follows a channel coming back online after a video-loss alarm.
 */
export class GbDevice extends EventEmitter {
  private readonly opts: GbDeviceOptions;
  private readonly logger: Logger;
  private readonly endpoint: SipEndpoint;
  private readonly registration: Registration;
  private readonly keepalive: KeepaliveLoop;
  private readonly responder: ManscdpResponder;
  private readonly invites: InviteHandler;
  private readonly alarms = new AlarmState();
  private readonly subscriptionTable: SubscriptionTable;
  private readonly catalogNotifier: CatalogChangeNotifier;
  private readonly positions: MobilePositionReporter;
  private readonly alarmReporter: AlarmReporter;
  private readonly stateControls: StateControls;
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
    this.stateControls = new StateControls({
      deviceId: opts.device.id,
      alarms: this.alarms,
      channelIds: () => [...this.channelMap.keys()],
      logger: this.logger,
      recordCommand: opts.recordCommand,
      recordCommandTimeoutMs: opts.recordCommandTimeoutMs,
      emit: (event, ...args) => this.safeEmit(event, ...args),
    });
    this.subscriptionTable = new SubscriptionTable({
      endpoint: this.endpoint,
      device: opts.device,
      platform: opts.platform,
      logger: this.logger,
      nextSn,
      knows: (id) => id === opts.device.id || this.channelMap.has(id),
      notifyTimeoutMs: opts.notifyTimeoutMs,
      onChange: (sub, phase) => this.onSubscription(sub, phase),
    });
    this.catalogNotifier = new CatalogChangeNotifier({
      table: this.subscriptionTable,
      device: opts.device,
      platform: opts.platform,
      logger: this.logger,
      channels: () => this.channels(),
      nextSn,
      batchSize: opts.catalogBatchSize ?? 8,
      delayMs: opts.catalogNotifyDelayMs,
    });
    this.positions = new MobilePositionReporter({
      table: this.subscriptionTable,
      deviceId: opts.device.id,
      channels: () => this.channels(),
      nextSn,
      timeZone: opts.platform.timeZone,
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
      applyControl: (ev) => this.stateControls.apply(ev),
      onQuery: (cmdType, sn) => this.safeEmit('query', cmdType, sn),
      online: () => true,
      alarmStatus: (id) => this.alarms.status(id),
      recording: (id) => (opts.recording ? opts.recording(id) : this.stateControls.recording(id)),
      presetQuery: opts.presetQuery,
      presetTimeoutMs: opts.presetTimeoutMs,
    });
    this.alarmReporter = new AlarmReporter({
      table: this.subscriptionTable,
      deviceId: opts.device.id,
      platform: opts.platform,
      logger: this.logger,
      nextSn,
      registered: () => this.started && this.registration.state === 'registered',
      platformEndpoint: () => this.registration.platformEndpoint,
      sendMessage: (to, body) => this.responder.send(to, body),
      messageOnly: opts.alarmsAsMessage,
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
    this.subscriptionTable.open();
    this.started = true;
    this.registration.start();
  }

  /** Ends sessions with BYE, unregisters (bounded), closes the socket. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.keepalive.stop();
    this.responder.close();
    this.catalogNotifier.stop();
    this.positions.stopAll();
    this.subscriptionTable.closeAll();
    await this.invites.closeAll();
    await this.registration.stop(2000);
    await this.endpoint.stop();
  }

  localSipPort(): number {
    return this.endpoint.localPort;
  }

  /** Replaces the channel list; Catalog subscribers get the differences (ADD/DEL/ON/OFF/VLOST/DEFECT/UPDATE). */
  setChannels(list: ChannelDescriptor[]): void {
    const before = new Map(this.channelMap);
    this.channelMap.clear();
    for (const ch of list) this.channelMap.set(ch.id, { ...ch });
    for (const [id, prev] of before) if (!this.channelMap.has(id)) this.alarms.forget(prev.id);
    for (const ch of list) this.statusChanged(before.get(ch.id), ch);
    this.catalogNotifier.changed();
  }

  upsertChannel(ch: ChannelDescriptor): void {
    const prev = this.channelMap.get(ch.id);
    this.channelMap.set(ch.id, { ...ch });
    this.statusChanged(prev, ch);
    this.catalogNotifier.changed();
  }

  removeChannel(id: string): void {
    if (!this.channelMap.delete(id)) return;
    this.alarms.forget(id);
    this.catalogNotifier.changed();
  }

  channels(): ChannelDescriptor[] {
    return [...this.channelMap.values()].map((c) => ({ ...c }));
  }

  /**
   * Raises an alarm (the source's state becomes alarmed until ResetAlarm) and sends it: NOTIFY to
   * Alarm subscribers, else a MESSAGE `<Notify>` CmdType Alarm (GB28181-2016 §9.4). Rejects with
   * GatewayError ALARM_INVALID for a priority outside 1..4 or a method outside 1..7.
   */
  async raiseAlarm(alarm: DeviceAlarm): Promise<AlarmDelivery> {
    if (![1, 2, 3, 4].includes(alarm.priority) || !Number.isInteger(alarm.method) || alarm.method < 1 || alarm.method > 7) {
      throw new GatewayError('ALARM_INVALID', `alarm priority must be 1..4 and method 1..7 (got ${String(alarm.priority)}, ${String(alarm.method)})`, { channelId: alarm.channelId });
    }
    if (alarm.type !== undefined && !(Number.isInteger(alarm.type) && alarm.type >= 0)) {
      throw new GatewayError('ALARM_INVALID', `alarm type must be a non-negative integer (got ${String(alarm.type)})`, { channelId: alarm.channelId });
    }
    this.alarms.raise(alarm.channelId, alarm.method, alarm.type);
    const delivery = await this.alarmReporter.send(alarm);
    this.logger.info(`alarm priority ${alarm.priority} method ${alarm.method}${alarm.type !== undefined ? ` type ${alarm.type}` : ''}: ${delivery}`, { channelId: alarm.channelId });
    this.safeEmit('alarm', alarm, delivery);
    return delivery;
  }

  /** Alarm and guard state of a channel (or the device), as DeviceStatus reports it. */
  alarmStatus(channelId: string): AlarmStatus {
    return this.alarms.status(channelId);
  }

  subscriptions(): SubscriptionSummary[] {
    return this.subscriptionTable.list();
  }

  /** Resolves once pending Catalog NOTIFYs have been sent. */
  catalogNotified(): Promise<void> {
    return this.catalogNotifier.settled();
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
    if (method === 'SUBSCRIBE') return this.subscriptionTable.handle(req);
    // The device never subscribes, so no NOTIFY can match a subscription of ours (RFC 6665 §4.1.3).
    await ep.respond(req, 481, 'Subscription Does Not Exist');
  }

  /** Video loss (GB28181-2016 §9.4: AlarmMethod 2, AlarmType 1) when a channel goes offline; cleared when it returns. */
  private statusChanged(prev: ChannelDescriptor | undefined, next: ChannelDescriptor): void {
    if (!prev || prev.online === next.online) return;
    if (!next.online && this.opts.videoLossAlarm !== false) {
      this.raiseAlarm({ channelId: next.id, priority: 1, method: VIDEO_LOSS.method, type: VIDEO_LOSS.type, description: `video loss: ${next.name}` })
        .catch((e: unknown) => this.logger.warn(`video loss alarm failed: ${(e as Error).message}`, { channelId: next.id }));
    }
    if (next.online && this.alarms.clear(next.id, VIDEO_LOSS.method, VIDEO_LOSS.type)) {
      this.logger.info('video back: video loss alarm cleared', { channelId: next.id });
      this.safeEmit('alarm-reset', next.id, 'video-restored');
    }
  }

  private onSubscription(sub: SubscriptionDialog, phase: SubscriptionPhase): void {
    if (sub.kind === 'Catalog' && phase === 'start') this.catalogNotifier.subscribed();
    if (sub.kind === 'MobilePosition') {
      if (phase === 'end') this.positions.stop(sub);
      else this.positions.start(sub);
    }
    this.safeEmit('subscription', sub.kind, phase);
  }
}
