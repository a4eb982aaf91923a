/**
 * Catalog change notification (GB28181-2016 §9.6.2, Annex A.2.4 目录通知): items carry an
 * `<Event>`. WVP (NotifyRequestForCatalogProcessor, XmlUtil#channelContentHandler) reads only
 * DeviceID for ON/OFF/VLOST/DEFECT/DEL and the full item for ADD/UPDATE; we send the full item
 * for every event but DEL, which other platforms read as well.
 */
import { ChannelDescriptor } from '../session/stream-contract';
import { CatalogContext, catalogItem } from './catalog-response';
import { XmlContent } from './manscdp-writer';

export type CatalogEventType = 'ON' | 'OFF' | 'VLOST' | 'DEFECT' | 'ADD' | 'DEL' | 'UPDATE';

export interface CatalogChange {
  event: CatalogEventType;
  /** The channel as it is now (as it was, for DEL). */
  channel: ChannelDescriptor;
}

/** Notify bodies for a list of changes, at most `batchSize` items each; SumNum is the total. */
export function catalogNotifies(changes: CatalogChange[], ctx: CatalogContext, batchSize: number): XmlContent[] {
  const size = Math.max(1, Math.floor(batchSize));
  const parts: XmlContent[] = [];
  for (let i = 0; i < changes.length; i += size) {
    const chunk = changes.slice(i, i + size);
    parts.push({
      CmdType: 'Catalog',
      SN: ctx.sn,
      DeviceID: ctx.deviceId,
      SumNum: String(changes.length),
      DeviceList: {
        '@Num': String(chunk.length),
        Item: chunk.map((c) => (c.event === 'DEL' ? { DeviceID: c.channel.id, Event: 'DEL' } : { ...catalogItem(c.channel, ctx), Event: c.event })),
      },
    });
  }
  return parts;
}

/** A Catalog Notify without items: the last NOTIFY of a subscription that ends (RFC 6665 §4.2.2). */
export function emptyCatalogNotify(sn: string, deviceId: string): XmlContent {
  return { CmdType: 'Catalog', SN: sn, DeviceID: deviceId, SumNum: '0', DeviceList: { '@Num': '0' } };
}
