/**
 * Catalog change NOTIFYs to Catalog subscribers (GB28181-2016 §9.6.2, Annex A.2.4): channel
 * list changes are gathered for a short moment, then the difference between what subscribers
 * were last told and the catalog now goes out as ADD/DEL/ON/OFF/UPDATE items, split like the
 * catalog answer.
 */
import { DeviceConfig, PlatformConfig } from '../config/gateway-config';
import { Logger } from '../logger';
import { catalogNotifies } from '../manscdp/catalog-notify';
import { ChannelDescriptor } from '../session/stream-contract';
import { catalogDiff } from './catalog-diff';
import { SubscriptionTable } from './subscription-table';

export interface CatalogChangeNotifierOptions {
  table: SubscriptionTable;
  device: DeviceConfig;
  platform: PlatformConfig;
  logger: Logger;
  channels: () => ChannelDescriptor[];
  nextSn: () => number;
  batchSize: number;
  /** How long changes are gathered before a NOTIFY (default 100 ms). */
  delayMs?: number;
}

export class CatalogChangeNotifier {
  /** The catalog as subscribers last saw it (kept up to date without subscribers too). */
  private told = new Map<string, ChannelDescriptor>();
  private timer?: NodeJS.Timeout;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly o: CatalogChangeNotifierOptions) {}

  /**
   * A Catalog subscription started. When it is the only one, the catalog now is what it starts
   * from (the platform queries the full catalog itself); changes gathered for nobody are dropped.
   */
  subscribed(): void {
    if (this.o.table.active('Catalog').length !== 1) return;
    this.stop();
    this.told = snapshot(this.o.channels());
  }

  /** Something in the channel list may have changed. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueueFlush();
    }, this.o.delayMs ?? 100);
  }

  /** Resolves once the changes gathered so far have been sent (tests, stop). */
  async settled(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.enqueueFlush();
    }
    await this.sending;
  }

  /** One flush at a time, in order. */
  private enqueueFlush(): void {
    this.sending = this.sending.then(() => this.flush()).catch((e: unknown) => this.o.logger.warn(`catalog NOTIFY failed: ${(e as Error).message}`));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    const now = snapshot(this.o.channels());
    const changes = catalogDiff(this.told, now);
    this.told = now;
    if (changes.length === 0) return;
    const subs = this.o.table.active('Catalog');
    if (subs.length === 0) return;
    const d = this.o.device;
    const parts = catalogNotifies(changes, { sn: String(this.o.nextSn()), deviceId: d.id, manufacturer: d.manufacturer, model: d.model }, this.o.batchSize);
    this.o.logger.info(`catalog NOTIFY: ${changes.map((c) => `${c.event} ${c.channel.id}`).join(', ')}`);
    await this.o.table.notifyAll('Catalog', parts);
  }
}

function snapshot(list: ChannelDescriptor[]): Map<string, ChannelDescriptor> {
  return new Map(list.map((c) => [c.id, { ...c }]));
}
