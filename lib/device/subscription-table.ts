/**
 * The device as notifier (RFC 6665, GB28181-2016 §9.11): accepts the platform's SUBSCRIBEs,
 * keeps one dialog per subscription, renews them, ends them on `Expires: 0` or expiry, and sends
 * NOTIFYs in them.
 *
 * What WVP sends (notes §8.7, SIPCommander#*Subscribe): `Event: Catalog;id=…` for the catalog,
 * `Event: presence;id=…` for MobilePosition and Alarm, the body's CmdType deciding; refreshes in
 * the dialog (same Call-ID and tags) at cycle − 0.5 s. A non-2xx makes WVP re-subscribe every
 * 10 s with a WARN, so anything we cannot serve is still answered 200 (and logged) unless its
 * body is malformed (400).
 */
import { DeviceConfig, PlatformConfig } from '../config/gateway-config';
import { Logger } from '../logger';
import { ManscdpMessage, parseManscdp, textOf } from '../manscdp/manscdp-message';
import { MANSCDP_CONTENT_TYPE, writeManscdp, XmlContent } from '../manscdp/manscdp-writer';
import { emptyCatalogNotify } from '../manscdp/catalog-notify';
import { ManscdpError } from '../manscdp/manscdp-message';
import { headerText, randomToken, uriUser } from '../sip/sip-codec';
import { IncomingRequest, SipEndpoint } from '../sip/sip-endpoint';
import { SubscriptionDialog, SubscriptionKind, SubscriptionSummary } from './subscription-dialog';

export type SubscriptionPhase = 'start' | 'refresh' | 'end';

export interface SubscriptionTableOptions {
  endpoint: SipEndpoint;
  device: DeviceConfig;
  platform: PlatformConfig;
  logger: Logger;
  nextSn: () => number;
  /** Called after the 200 for start and refresh, and when a subscription ends. */
  onChange: (sub: SubscriptionDialog, phase: SubscriptionPhase) => void;
  /** Expires when the SUBSCRIBE has none (default 3600 s). */
  defaultExpires?: number;
  /** Longest subscription granted (default 86400 s). */
  maxExpires?: number;
  /** Bound on each NOTIFY transaction (default 4000 ms). */
  notifyTimeoutMs?: number;
  /** Whether an ID is the device or one of its channels (a SUBSCRIBE body's DeviceID). */
  knows: (id: string) => boolean;
  /** Most subscriptions kept per kind (default 4): the oldest is dropped for a new one. */
  maxPerKind?: number;
  /** NOTIFYs in a row left unanswered before a subscription is dropped (default 2). */
  maxUnanswered?: number;
}

const KINDS: readonly SubscriptionKind[] = ['Catalog', 'Alarm', 'MobilePosition'];

export class SubscriptionTable {
  private readonly subs = new Map<string, SubscriptionDialog>();
  private closed = false;

  constructor(private readonly o: SubscriptionTableOptions) {}

  open(): void {
    this.closed = false;
  }

  list(): SubscriptionSummary[] {
    return [...this.subs.values()].map((s) => s.summary());
  }

  active(kind: SubscriptionKind): SubscriptionDialog[] {
    return [...this.subs.values()].filter((s) => s.kind === kind && !s.ended);
  }

  async handle(req: IncomingRequest): Promise<void> {
    const o = this.o;
    const h = req.message.headers;
    const callId = h['call-id'] ?? '';
    const event = headerText(req.message, 'event')?.trim() ?? '';
    const eventPackage = event.split(';')[0].trim();
    // RFC 6665 §8.2.1: Event is mandatory in SUBSCRIBE; WVP always sends one (notes §8.7).
    if (!eventPackage) {
      await o.endpoint.respond(req, 400, 'Bad Request (missing Event header)');
      return;
    }
    // RFC 6665 §4.2.1.1: 489 for a package we do not serve. WVP only uses Catalog and presence,
    // so this never makes it retry every 10 s.
    if (!['catalog', 'presence'].includes(eventPackage.toLowerCase())) {
      await o.endpoint.respond(req, 489, 'Bad Event', { headers: { 'allow-events': 'Catalog, presence' } });
      return;
    }
    const requested = parseExpires(headerText(req.message, 'expires'));
    if (requested === 'bad') {
      await o.endpoint.respond(req, 400, 'Bad Request (malformed Expires)');
      return;
    }
    let body: ManscdpMessage | undefined;
    if (req.body.length > 0) {
      try {
        body = parseManscdp(req.body);
      } catch (e) {
        o.logger.warn(`SUBSCRIBE body rejected: ${(e as Error).message}`, { callId });
        if (e instanceof ManscdpError && e.code === 'MANSCDP_TOO_LARGE') await o.endpoint.respond(req, 413, 'Request Entity Too Large');
        else await o.endpoint.respond(req, 400, `Bad Request (${oneLine((e as Error).message)})`);
        return;
      }
    }
    // Event: Catalog with another CmdType in the body: the request contradicts itself.
    if (body && eventPackage.toLowerCase() === 'catalog' && body.cmdType.toLowerCase() !== 'catalog') {
      await o.endpoint.respond(req, 400, `Bad Request (CmdType ${oneLine(body.cmdType).slice(0, 30)} under Event: Catalog)`);
      return;
    }
    // As for MESSAGE queries: an ID that is neither the device nor a channel is answered 404.
    if (body?.deviceId && !o.knows(body.deviceId)) {
      await o.endpoint.respond(req, 404, 'Not Found (no such device or channel)');
      return;
    }
    const kind = kindOf(body?.cmdType, eventPackage);
    const toTag = h.to?.params.tag ?? undefined;
    const existing = this.subs.get(callId);
    const expires = requested === undefined ? (o.defaultExpires ?? 3600) : Math.min(requested, o.maxExpires ?? 86400);
    const localTag = toTag ?? existing?.localTag ?? randomToken(6);
    const headers: Record<string, string> = { expires: String(expires), contact: `<${o.endpoint.contactUri(o.device.id)}>` };
    if (event) headers.event = event;

    if (!kind) {
      // Accepted so the platform does not retry every 10 s (notes §8.7); nothing will be sent.
      o.logger.info(`SUBSCRIBE for ${body?.cmdType ?? (eventPackage || 'no event')} not supported: accepted, no NOTIFYs will follow`, { callId });
      await o.endpoint.respond(req, 200, 'OK', { headers, toTag: localTag });
      return;
    }

    if (expires === 0) {
      await o.endpoint.respond(req, 200, 'OK', { headers, toTag: localTag });
      if (existing) await this.end(existing, 'unsubscribed', true);
      return;
    }

    if (existing && toTag && toTag === existing.localTag && existing.kind === kind) {
      existing.refreshedBy(req);
      existing.event = event || existing.event;
      this.applyBody(existing, body);
      this.arm(existing, expires);
      await o.endpoint.respond(req, 200, 'OK', { headers, toTag: localTag });
      o.logger.debug(`${kind} subscription refreshed for ${expires} s`, { callId });
      o.onChange(existing, 'refresh');
      return;
    }

    // A new dialog, or a refresh of one we no longer know (we restarted, or it expired): adopt it
    // with the tags it carries rather than answer 481 and have the platform retry.
    if (existing) await this.end(existing, 'replaced', false);
    const subscriber = uriUser(h.from?.uri);
    for (const old of this.active(kind)) {
      // The platform keeps one subscription per kind: a new one replaces the old.
      if (uriUser(old.peers.remoteAddress.uri) === subscriber) await this.end(old, 'replaced by a new subscription', false);
    }
    // Bounded memory and timers under a SUBSCRIBE flood (new Call-IDs, other From users): the oldest goes.
    const cap = Math.max(1, o.maxPerKind ?? 4);
    const kept = this.active(kind).sort((a, b) => a.startedAt - b.startedAt);
    for (const old of kept.slice(0, Math.max(0, kept.length - cap + 1))) await this.end(old, `more than ${cap} ${kind} subscriptions: oldest dropped`, false);
    const sub = new SubscriptionDialog(kind, req, localTag, event);
    this.applyBody(sub, body);
    this.subs.set(callId, sub);
    this.arm(sub, expires);
    await o.endpoint.respond(req, 200, 'OK', { headers, toTag: localTag });
    o.logger.info(`${kind} subscription accepted for ${expires} s${kind === 'MobilePosition' ? `, every ${sub.interval} s` : ''}`, { callId, event });
    o.onChange(sub, 'start');
  }

  /**
   * Sends the bodies (Notify content, in order, each after the 2xx to the previous) in one
   * subscription's dialog. True when all were answered 2xx.
   */
  async notify(sub: SubscriptionDialog, contents: XmlContent[]): Promise<boolean> {
    for (const content of contents) {
      if (sub.ended || this.closed) return false;
      if (!(await this.sendNotify(sub, content, `active;expires=${sub.secondsLeft()}`))) return false;
    }
    return true;
  }

  /** Sends to every active subscription of a kind; resolves with how many took them all. */
  async notifyAll(kind: SubscriptionKind, contents: XmlContent[], filter: (sub: SubscriptionDialog) => boolean = () => true): Promise<number> {
    const results = await Promise.all(this.active(kind).filter(filter).map((s) => this.notify(s, contents)));
    return results.filter(Boolean).length;
  }

  /** Ends every subscription without NOTIFY (the device is stopping and unregisters). */
  closeAll(): void {
    this.closed = true;
    for (const sub of [...this.subs.values()]) void this.end(sub, 'device stopping', false);
  }

  private applyBody(sub: SubscriptionDialog, body: ManscdpMessage | undefined): void {
    sub.targetId = body?.deviceId || this.o.device.id;
    if (sub.kind === 'MobilePosition') {
      const n = Number(textOf(body?.fields.Interval));
      sub.interval = Number.isFinite(n) && n >= 1 ? Math.min(Math.floor(n), 3600) : 5;
    }
  }

  private arm(sub: SubscriptionDialog, expires: number): void {
    if (sub.expiryTimer) clearTimeout(sub.expiryTimer);
    sub.expiresAt = Date.now() + expires * 1000;
    sub.expiryTimer = setTimeout(() => void this.end(sub, 'expired', true), expires * 1000);
  }

  /**
   * Ends a subscription. With `notify`, a Catalog subscription gets its last NOTIFY
   * (`Subscription-State: terminated`, RFC 6665 §4.2.2) with an empty DeviceList, which WVP reads
   * as nothing to do. Alarm and MobilePosition get none: WVP reads any Alarm NOTIFY as an alarm
   * (and warns when it has no AlarmTime) and any MobilePosition NOTIFY as a position.
   */
  private async end(sub: SubscriptionDialog, reason: string, notify: boolean): Promise<void> {
    if (sub.ended) return;
    sub.ended = true;
    if (sub.expiryTimer) clearTimeout(sub.expiryTimer);
    if (this.subs.get(sub.callId) === sub) this.subs.delete(sub.callId);
    this.o.logger.info(`${sub.kind} subscription ended: ${reason}`, { callId: sub.callId });
    this.o.onChange(sub, 'end');
    if (notify && sub.kind === 'Catalog' && !this.closed) {
      const state = reason === 'expired' ? 'terminated;reason=timeout' : 'terminated;reason=noresource';
      await this.sendNotify(sub, emptyCatalogNotify(String(this.o.nextSn()), this.o.device.id), state);
    }
  }

  private async sendNotify(sub: SubscriptionDialog, content: XmlContent, state: string): Promise<boolean> {
    const o = this.o;
    const { remoteAddress, localAddress, remoteTarget } = sub.peers;
    const request = o.endpoint.newRequest({
      method: 'NOTIFY',
      uri: remoteTarget,
      from: localAddress,
      to: remoteAddress,
      callId: sub.callId,
      cseq: ++sub.localCseq,
      headers: { ...(sub.event ? { event: sub.event } : {}), 'subscription-state': state },
      body: writeManscdp('Notify', content, o.platform.charset),
      contentType: MANSCDP_CONTENT_TYPE,
      contactUser: o.device.id,
    });
    try {
      const r = await o.endpoint.request(request, sub.remote, { timeoutMs: o.notifyTimeoutMs ?? 4000 });
      const status = r.status ?? 0;
      sub.unanswered = 0;
      if (status < 300) return true;
      o.logger.warn(`platform answered ${status} to a ${sub.kind} NOTIFY`, { callId: sub.callId });
      // RFC 6665 §4.2.2: a 481 (or any final failure but a retryable 5xx/408) ends the subscription.
      if (status === 481 || (status >= 400 && status < 500 && status !== 408)) await this.end(sub, `NOTIFY answered ${status}`, false);
      return false;
    } catch (e) {
      o.logger.warn(`${sub.kind} NOTIFY failed: ${(e as Error).message}`, { callId: sub.callId });
      // RFC 6665 §4.2.2: a NOTIFY that times out ends the subscription. We allow one miss (a lost
      // datagram); a platform that refreshes later is adopted again in its dialog.
      sub.unanswered += 1;
      if (sub.unanswered >= Math.max(1, o.maxUnanswered ?? 2)) await this.end(sub, `${sub.unanswered} NOTIFYs unanswered`, false);
      return false;
    }
  }
}

/** The subscription's kind: the body's CmdType, else the event package (WVP: Catalog). */
function kindOf(cmdType: string | undefined, eventPackage: string): SubscriptionKind | undefined {
  if (cmdType) return KINDS.find((k) => k.toLowerCase() === cmdType.toLowerCase());
  return eventPackage.toLowerCase() === 'catalog' ? 'Catalog' : undefined;
}

function parseExpires(v: string | undefined): number | undefined | 'bad' {
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  // delta-seconds (RFC 3261 §20.19): any length of digits is valid; the grant is capped anyway.
  if (!/^\d{1,20}$/.test(t)) return 'bad';
  return Number(t);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 100);
}
