/**
 * Keepalive MESSAGEs while registered (GB28181-2016 §9.6). After `count` consecutive failures,
 * or at once on 404/401/403 (the platform no longer knows us, notes §1.2), it asks for a fresh
 * registration.
 */
import { XmlCharset } from '../config/gateway-config';
import { Logger, silentLogger } from '../logger';
import { keepaliveNotify } from '../manscdp/notify-bodies';
import { MANSCDP_CONTENT_TYPE, writeManscdp } from '../manscdp/manscdp-writer';
import { randomToken } from '../sip/sip-codec';
import { SipEndpoint } from '../sip/sip-endpoint';
import { RemoteEndpoint } from '../sip/sip-transport';

export interface KeepaliveOptions {
  endpoint: SipEndpoint;
  deviceId: string;
  platformId: string;
  platformDomain: string;
  target: () => RemoteEndpoint;
  intervalSeconds: number;
  count: number;
  charset: XmlCharset;
  nextSn: () => number;
  /** Called when the platform appears to have lost us. */
  onLost: (reason: string) => void;
  logger?: Logger;
}

export class KeepaliveLoop {
  private timer?: NodeJS.Timeout;
  private failures = 0;
  private running = false;
  private inFlight = false;
  private readonly logger: Logger;

  constructor(private readonly opts: KeepaliveOptions) {
    this.logger = opts.logger ?? silentLogger;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(200, this.opts.intervalSeconds * 1000));
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    // The next tick is timed from this send, not from its answer: a silent platform is noticed after count × interval.
    this.schedule();
    if (this.inFlight) return;
    this.inFlight = true;
    const o = this.opts;
    const request = o.endpoint.newRequest({
      method: 'MESSAGE',
      uri: `sip:${o.platformId}@${o.platformDomain}`,
      from: { uri: `sip:${o.deviceId}@${o.platformDomain}`, tag: randomToken(6) },
      to: { uri: `sip:${o.platformId}@${o.platformDomain}` },
      callId: `${randomToken(12)}@${o.endpoint.contactHost}`,
      cseq: 1,
      body: writeManscdp('Notify', keepaliveNotify(o.nextSn(), o.deviceId), o.charset),
      contentType: MANSCDP_CONTENT_TYPE,
    });
    const timeoutMs = Math.max(500, Math.min(o.intervalSeconds * 900, 8000));
    let lost: string | undefined;
    try {
      const response = await o.endpoint.request(request, o.target(), { timeoutMs });
      const status = response.status ?? 0;
      if (status >= 200 && status < 300) this.failures = 0;
      else if (status === 404 || status === 401 || status === 403) lost = `keepalive answered ${status} ${response.reason ?? ''}`.trim();
      else {
        this.failures++;
        this.logger.warn(`keepalive answered ${status}`, { failures: this.failures });
      }
    } catch (e) {
      this.failures++;
      this.logger.warn(`keepalive failed: ${(e as Error).message}`, { failures: this.failures });
    }
    this.inFlight = false;
    if (!this.running) return;
    if (!lost && this.failures >= o.count) lost = `${this.failures} keepalives without answer`;
    if (lost) {
      this.stop();
      o.onLost(lost);
    }
  }
}
