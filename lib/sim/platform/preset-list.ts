/**
 * PresetQuery answers as WVP reads them (PresetQueryResponseMessageHandler, PresetDataCatch):
 * - a MESSAGE without `<SN>` or without `<PresetList>` is answered `400 xml error` and ignored;
 * - the expected count is SumNum, or the `Num` attribute of PresetList when SumNum is absent;
 * - in each Item, `PresetID` is the ID and any other child is taken as the name (the last one wins);
 * - parts of one SN are merged by PresetID until the count is reached.
 * GB28181-2016 Annex A.2.6 (PresetQuery response).
 */
import { ManscdpDocument } from './manscdp-body';

export interface PresetEntry {
  presetId: number;
  name: string;
}

export interface PresetQueryResult {
  sn: number;
  /** The count the device announced (SumNum, else PresetList@Num). */
  sumNum: number;
  presets: PresetEntry[];
  messages: number;
  /** False when delivered after the gap timeout with fewer presets than announced. */
  complete: boolean;
}

/** Why WVP answers 400 "xml error" to this PresetQuery response, or undefined when it accepts it. */
export function presetResponseRejection(doc: ManscdpDocument): string | undefined {
  const hasList = 'PresetList' in doc.fields || Object.keys(doc.fields).some((k) => k.startsWith('PresetList.')) || doc.items.length > 0;
  if (doc.fields.SN === undefined) return 'PresetQuery response without <SN>: WVP answers 400 xml error';
  if (!hasList) return 'PresetQuery response without <PresetList>: WVP answers 400 xml error';
  return undefined;
}

/** Merges the parts of one PresetQuery answer. */
export class PresetListMerge {
  private readonly byId = new Map<number, PresetEntry>();
  private announced = -1;
  messages = 0;

  /** Adds one accepted part; returns the problems found in it. */
  add(doc: ManscdpDocument): string[] {
    const problems: string[] = [];
    this.messages++;
    const sumNum = doc.fields.SumNum?.trim();
    const num = doc.fields['PresetList.@Num']?.trim();
    const count = sumNum !== undefined && /^\d+$/.test(sumNum) ? Number(sumNum) : num !== undefined && /^\d+$/.test(num) ? Number(num) : undefined;
    if (count === undefined) problems.push('PresetQuery response has neither a numeric SumNum nor PresetList@Num');
    else this.announced = count;
    for (const item of doc.items) {
      const id = item.PresetID?.trim();
      if (id === undefined || !/^\d+$/.test(id)) {
        problems.push(`PresetQuery item with PresetID "${id ?? ''}" is not a number: WVP cannot read it`);
        continue;
      }
      let name = '';
      for (const [k, v] of Object.entries(item)) if (k !== 'PresetID') name = v;
      this.byId.set(Number(id), { presetId: Number(id), name });
    }
    return problems;
  }

  get total(): number {
    return this.announced;
  }

  get size(): number {
    return this.byId.size;
  }

  get done(): boolean {
    return this.announced >= 0 && this.byId.size >= this.announced;
  }

  result(sn: number): PresetQueryResult {
    return { sn, sumNum: Math.max(this.announced, 0), presets: [...this.byId.values()], messages: this.messages, complete: this.done };
  }
}
