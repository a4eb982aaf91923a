/**
 * Catalog answer (GB28181-2016 §9.5.3, Annex A.2.6 / A.2.1 item fields), split into parts of at
 * most `batchSize` items, each echoing the query's SN and the total SumNum (notes §1.3).
 */
import { ChannelDescriptor } from '../session/stream-contract';
import { XmlContent } from './manscdp-writer';

export interface CatalogContext {
  sn: string;
  deviceId: string;
  /** Civil code of the items: the first 6 digits of the device ID (GB28181-2016 Annex D). */
  civilCode?: string;
  owner?: string;
  manufacturer: string;
  model: string;
}

export function catalogItem(ch: ChannelDescriptor, ctx: CatalogContext): XmlContent {
  const item: XmlContent = {
    DeviceID: ch.id,
    Name: ch.name,
    Manufacturer: ch.manufacturer ?? ctx.manufacturer,
    Model: ch.model ?? ctx.model,
    Owner: ctx.owner ?? 'Owner',
    CivilCode: ctx.civilCode ?? ctx.deviceId.slice(0, 6),
    Address: ch.address ?? 'Address',
    Parental: '0',
    ParentID: ctx.deviceId,
    SafetyWay: '0',
    RegisterWay: '1',
    Secrecy: '0',
    Status: ch.online ? 'ON' : 'OFF',
  };
  if (ch.longitude !== undefined && ch.latitude !== undefined) {
    item.Longitude = String(ch.longitude);
    item.Latitude = String(ch.latitude);
  }
  if (ch.ptzType !== undefined) item.Info = { PTZType: String(ch.ptzType) };
  return item;
}

/** The catalog as a list of Response bodies' content, in order. An empty list still gives one part with SumNum 0. */
export function catalogResponses(channels: ChannelDescriptor[], ctx: CatalogContext, batchSize: number): XmlContent[] {
  const size = Math.max(1, Math.floor(batchSize));
  const parts: XmlContent[] = [];
  for (let i = 0; i < channels.length || (i === 0 && parts.length === 0); i += size) {
    const chunk = channels.slice(i, i + size);
    parts.push({
      CmdType: 'Catalog',
      SN: ctx.sn,
      DeviceID: ctx.deviceId,
      SumNum: String(channels.length),
      DeviceList: { '@Num': String(chunk.length), Item: chunk.map((c) => catalogItem(c, ctx)) },
    });
    if (channels.length === 0) break;
  }
  return parts;
}
