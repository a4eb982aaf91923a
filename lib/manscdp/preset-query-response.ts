/**
 * PresetQuery answer (GB28181-2016 Annex A.2.6 设备预置位查询应答), in one message. WVP
 * needs SN and `<PresetList>` (else 400), counts by `PresetList@Num`, takes PresetID as the ID and the other
 * child as the name (PresetQueryResponseMessageHandler, notes §8.7).
 */
import { XmlContent } from './manscdp-writer';

export interface PresetItem {
  presetId: number;
  name: string;
}

/**
 * One Response with every preset. WVP does not merge parts: it counts by `PresetList@Num` and
 * delivers as soon as one message holds that many items, so a second part would be lost
 * (PresetQueryResponseMessageHandler#handForDevice/addCatch). GB28181 allows at most 255 presets,
 * about 20 KB of XML, which fits one datagram.
 */
export function presetQueryResponse(sn: string, channelId: string, presets: PresetItem[]): XmlContent {
  return {
    CmdType: 'PresetQuery',
    SN: sn,
    DeviceID: channelId,
    SumNum: String(presets.length),
    PresetList: {
      '@Num': String(presets.length),
      ...(presets.length ? { Item: presets.map((p) => ({ PresetID: String(p.presetId), PresetName: p.name })) } : {}),
    },
  };
}
