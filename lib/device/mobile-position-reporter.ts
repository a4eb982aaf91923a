/**
 * Reports channel positions to MobilePosition subscribers every `<Interval>` seconds
 * (GB28181-2016 §9.11.3, Annex A.2.5): one NOTIFY per channel that has a configured longitude
 * and latitude, the first right after the subscription is accepted.
 */
import { Logger } from '../logger';
import { mobilePositionNotify } from '../manscdp/mobile-position-notify';
import { ChannelDescriptor } from '../session/stream-contract';
import { SubscriptionDialog } from './subscription-dialog';
import { SubscriptionTable } from './subscription-table';

export interface MobilePositionReporterOptions {
  table: SubscriptionTable;
  deviceId: string;
  channels: () => ChannelDescriptor[];
  nextSn: () => number;
  timeZone: string;
  logger: Logger;
}

interface Reporting {
  timer: NodeJS.Timeout;
  busy: boolean;
}

export class MobilePositionReporter {
  private readonly running = new Map<SubscriptionDialog, Reporting>();

  constructor(private readonly o: MobilePositionReporterOptions) {}

  /** Starts (or restarts, after a refresh that may change the interval) the reports of a subscription. */
  start(sub: SubscriptionDialog): void {
    this.stop(sub);
    const r: Reporting = { timer: setInterval(() => this.tick(sub, r), sub.interval * 1000), busy: false };
    this.running.set(sub, r);
    setImmediate(() => this.tick(sub, r));
  }

  stop(sub: SubscriptionDialog): void {
    const r = this.running.get(sub);
    if (r) clearInterval(r.timer);
    this.running.delete(sub);
  }

  stopAll(): void {
    for (const r of this.running.values()) clearInterval(r.timer);
    this.running.clear();
  }

  private tick(sub: SubscriptionDialog, r: Reporting): void {
    // A slow platform must not pile reports up: skip a tick while the previous one is still out.
    if (r.busy || this.running.get(sub) !== r || sub.ended) return;
    const targets = this.o.channels().filter((c) => c.longitude !== undefined && c.latitude !== undefined && (sub.targetId === this.o.deviceId || sub.targetId === c.id));
    if (targets.length === 0) return;
    r.busy = true;
    void (async () => {
      for (const c of targets) {
        if (this.running.get(sub) !== r) break;
        const content = mobilePositionNotify(this.o.nextSn(), { channelId: c.id, timeMs: Date.now(), longitude: c.longitude as number, latitude: c.latitude as number }, this.o.timeZone);
        await this.o.table.notify(sub, [content]);
      }
    })()
      .catch((e: unknown) => this.o.logger.warn(`position report failed: ${(e as Error).message}`, { callId: sub.callId }))
      .finally(() => {
        r.busy = false;
      });
  }
}
