/**
 * One SUBSCRIBE dialog the emulator holds with a device, built as WVP does
 * (SIPCommander#catalogSubscribe/mobilePositionSubscribe/alarmSubscribe, SIPRequestHeaderProvider#createSubscribeRequest):
 * - `Event: Catalog;id=<0..9999>` for Catalog, `Event: presence;id=<0..9999>` for MobilePosition and Alarm;
 * - body `<Query>` with CmdType, SN, DeviceID (+ `<Interval>` for MobilePosition, default 5);
 * - Expires = max(cycle, 30) while subscribed, 0 to end it;
 * - refreshes and the final Expires: 0 reuse the Call-ID and both tags of the 200 (DeviceServiceImpl keeps a
 *   SipTransactionInfo built from the response), and the Event id of the 200 when it carries one;
 * - optional automatic refresh at cycle × 1000 − 500 ms (SubscribeTaskRunner#updateDelay).
 * RFC 6665 §4.1.2 (refresh / unsubscribe inside the dialog).
 */
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../errors';
import { headerParam, headerValue, SipHeaderField, SipRequest, SipResponse } from './sip-text-codec';

export type SubscriptionKind = 'Catalog' | 'MobilePosition' | 'Alarm';
export type SubscriptionState = 'pending' | 'active' | 'failed' | 'terminated';

export interface SubscribeOptions {
  /** Subscription cycle in seconds; raised to 30 as WVP does. */
  expires: number;
  /** MobilePosition `<Interval>` in seconds (WVP default 5). */
  interval?: number;
  /** Refresh by itself at cycle − 0.5 s like WVP (default false: tests call refresh()). */
  autoRefresh?: boolean;
  /** Final-answer deadline for each SUBSCRIBE (default: the emulator's sipTimeoutMs). */
  timeoutMs?: number;
}

/** What the subscription needs from the emulator to put a SUBSCRIBE on the wire. */
export interface SubscribeTransport {
  /** Our identity and address, read when a request is built (the port is known only after start()). */
  local(): { serverId: string; domain: string; host: string; port: number; transportName: string; userAgent: string };
  nextCseq(): number;
  newSn(): number;
  /** `<Query>` body in the device charset. */
  queryBody(cmdType: string, sn: number, deviceId: string, extra: Record<string, string>): Buffer;
  /** Device address as last registered; undefined when it is gone. */
  deviceAddress(deviceId: string): { address: string; port: number } | undefined;
  send(req: SipRequest, to: { address: string; port: number }, timeoutMs: number): Promise<SipResponse>;
  changed(sub: PlatformSubscription, change: SubscriptionChange): void;
}

export type SubscriptionChange = 'subscribed' | 'rejected' | 'refreshed' | 'refresh-failed' | 'unsubscribed' | 'terminated';

/** Snapshot handed to event listeners. */
export interface SubscriptionInfo {
  deviceId: string;
  kind: SubscriptionKind;
  callId: string;
  eventId: string;
  status: number;
  expires: number;
  state: SubscriptionState;
  refreshes: number;
}

const token = (bytes: number): string => randomBytes(bytes).toString('hex');
/** createSubscribeRequest: `(int) Math.floor(Math.random() * 10000)`. */
const randomEventId = (): string => String(Math.floor(Math.random() * 10000));

export class PlatformSubscription {
  readonly deviceId: string;
  readonly kind: SubscriptionKind;
  readonly callId: string;
  private readonly fromTag = token(16);
  private toTag?: string;
  private currentEventId = randomEventId();
  private lastStatus = 0;
  private grantedExpires: number;
  private currentState: SubscriptionState = 'pending';
  private refreshCount = 0;
  private timer?: NodeJS.Timeout;
  /** The last SUBSCRIBE we sent, for wire-format assertions. */
  lastRequest?: SipRequest;
  /** The last final response, for assertions. */
  lastResponse?: SipResponse;

  constructor(
    private readonly transport: SubscribeTransport,
    deviceId: string,
    kind: SubscriptionKind,
    private readonly options: SubscribeOptions,
    private readonly defaultTimeoutMs: number,
  ) {
    this.deviceId = deviceId;
    this.kind = kind;
    this.callId = `${token(16)}@${transport.local().host}`;
    this.grantedExpires = this.cycle;
  }

  /** Status of the last SUBSCRIBE exchange (0 before the first answer). */
  get status(): number {
    return this.lastStatus;
  }

  /** `id` of the Event header used by the last SUBSCRIBE. */
  get eventId(): string {
    return this.currentEventId;
  }

  /** Expires granted by the last 2xx (the requested cycle when it had none). */
  get expires(): number {
    return this.grantedExpires;
  }

  get state(): SubscriptionState {
    return this.currentState;
  }

  get refreshes(): number {
    return this.refreshCount;
  }

  get eventPackage(): 'Catalog' | 'presence' {
    return this.kind === 'Catalog' ? 'Catalog' : 'presence';
  }

  /** WVP: cycle > 0 → max(cycle, 30). */
  get cycle(): number {
    return this.options.expires > 0 ? Math.max(Math.floor(this.options.expires), 30) : 0;
  }

  info(): SubscriptionInfo {
    return {
      deviceId: this.deviceId, kind: this.kind, callId: this.callId, eventId: this.currentEventId, status: this.lastStatus,
      expires: this.grantedExpires, state: this.currentState, refreshes: this.refreshCount,
    };
  }

  /** Initial SUBSCRIBE; resolves with the final status (non-2xx leaves the handle 'failed'). */
  async start(): Promise<number> {
    const res = await this.exchange(this.cycle);
    if (res.status >= 200 && res.status < 300) {
      this.currentState = 'active';
      this.transport.changed(this, 'subscribed');
      this.armRefresh();
    } else {
      this.currentState = 'failed';
      this.transport.changed(this, 'rejected');
    }
    return res.status;
  }

  /** In-dialog refresh with the same Call-ID, tags and (if the 200 gave one) Event id. */
  async refresh(): Promise<number> {
    this.disarm();
    let res: SipResponse;
    try {
      res = await this.exchange(this.cycle);
    } catch (e) {
      this.currentState = 'failed';
      this.transport.changed(this, 'refresh-failed');
      throw e;
    }
    if (res.status >= 200 && res.status < 300) {
      this.refreshCount++;
      this.currentState = 'active';
      this.transport.changed(this, 'refreshed');
      this.armRefresh();
    } else {
      this.currentState = 'failed';
      this.transport.changed(this, 'refresh-failed');
    }
    return res.status;
  }

  /** In-dialog SUBSCRIBE with Expires: 0 (removeCatalogSubscribe / removeMobilePositionSubscribe). */
  async unsubscribe(): Promise<number> {
    this.disarm();
    const res = await this.exchange(0);
    this.currentState = 'terminated';
    this.transport.changed(this, 'unsubscribed');
    return res.status;
  }

  /** The device ended it (Subscription-State: terminated) or went away: no more refreshes. */
  terminate(): void {
    this.disarm();
    if (this.currentState === 'terminated') return;
    this.currentState = 'terminated';
    this.transport.changed(this, 'terminated');
  }

  /** True when a request belongs to this dialog (same Call-ID and our From tag as its To tag). */
  matches(req: SipRequest): boolean {
    if (headerValue(req, 'Call-ID') !== this.callId) return false;
    const toTag = headerParam(headerValue(req, 'To') ?? '', 'tag');
    return toTag === undefined || toTag === this.fromTag;
  }

  private armRefresh(): void {
    this.disarm();
    if (!this.options.autoRefresh || this.cycle <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh().catch(() => undefined);
    }, Math.max(0, this.cycle * 1000 - 500));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async exchange(expires: number): Promise<SipResponse> {
    const to = this.transport.deviceAddress(this.deviceId);
    if (!to) throw new GatewayError('PLATFORM_UNKNOWN_DEVICE', `device ${this.deviceId} is not registered`, { deviceId: this.deviceId, callId: this.callId });
    const req = this.buildRequest(expires, to);
    this.lastRequest = req;
    const res = await this.transport.send(req, to, this.options.timeoutMs ?? this.defaultTimeoutMs);
    this.lastResponse = res;
    this.lastStatus = res.status;
    if (res.status >= 200 && res.status < 300) {
      this.toTag = headerParam(headerValue(res, 'To') ?? '', 'tag') ?? this.toTag;
      const answeredId = headerParam(headerValue(res, 'Event') ?? '', 'id');
      // A 200 without an Event id: WVP builds a fresh random id for the next refresh.
      this.currentEventId = answeredId || randomEventId();
      const granted = headerValue(res, 'Expires');
      this.grantedExpires = granted !== undefined && /^\d+$/.test(granted.trim()) ? Number(granted.trim()) : expires;
    }
    return res;
  }

  private buildRequest(expires: number, to: { address: string; port: number }): SipRequest {
    const t = { ...this.transport.local(), nextCseq: () => this.transport.nextCseq() };
    const target = `sip:${this.deviceId}@${to.address}:${to.port}`;
    const extra: Record<string, string> = this.kind === 'MobilePosition' ? { Interval: String(this.options.interval ?? 5) } : {};
    const cmdType = this.kind === 'Catalog' ? 'Catalog' : this.kind === 'Alarm' ? 'Alarm' : 'MobilePosition';
    const headers: SipHeaderField[] = [
      { name: 'Via', value: `SIP/2.0/${t.transportName} ${t.host}:${t.port};rport;branch=z9hG4bK${token(8)}` },
      { name: 'From', value: `<sip:${t.serverId}@${t.domain}>;tag=${this.fromTag}` },
      { name: 'To', value: this.toTag ? `<${target}>;tag=${this.toTag}` : `<${target}>` },
      { name: 'Call-ID', value: this.callId },
      { name: 'CSeq', value: `${t.nextCseq()} SUBSCRIBE` },
      { name: 'Max-Forwards', value: '70' },
      { name: 'Contact', value: `<sip:${t.serverId}@${t.host}:${t.port}>` },
      { name: 'Expires', value: String(expires) },
      { name: 'Event', value: `${this.eventPackage};id=${this.currentEventId}` },
      { name: 'User-Agent', value: t.userAgent },
      { name: 'Content-Type', value: 'Application/MANSCDP+xml' },
    ];
    return { kind: 'request', method: 'SUBSCRIBE', uri: target, headers, body: this.transport.queryBody(cmdType, this.transport.newSn(), this.deviceId, extra) };
  }

  /** Stops the refresh timer without a state change (platform stopping). */
  dispose(): void {
    this.disarm();
  }
}
