/**
 * PresetQuery answer (GB28181-2016 Annex A.2.6 设备预置位查询应答), split like the catalog. WVP
 * needs SN and `<PresetList>` (else 400), counts by SumNum, takes PresetID as the ID and the other
 * child as the name (PresetQueryResponseMessageHandler, notes §8.7).
 */
import { XmlContent } from './manscdp-writer';

export interface PresetItem {
  presetId: number;
  name: string;
}

export function presetQueryResponses(sn: string, channelId: string, presets: PresetItem[], batchSize: number): XmlContent[] {
  const size = Math.max(1, Math.floor(batchSize));
  const parts: XmlContent[] = [];
  for (let i = 0; i === 0 || i < presets.length; i += size) {
    const chunk = presets.slice(i, i + size);
    parts.push({
      CmdType: 'PresetQuery',
      SN: sn,
      DeviceID: channelId,
      SumNum: String(presets.length),
      PresetList: {
        '@Num': String(chunk.length),
        ...(chunk.length ? { Item: chunk.map((p) => ({ PresetID: String(p.presetId), PresetName: p.name })) } : {}),
      },
    });
    if (presets.length === 0) break;
  }
  return parts;
}
