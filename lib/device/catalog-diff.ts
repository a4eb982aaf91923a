/**
 * What changed between two catalogs, as GB28181-2016 catalog events (Annex A.2.4): ADD, DEL,
 * ON/OFF/VLOST/DEFECT for status, UPDATE for any other field a platform shows. Comparing snapshots (rather
 * than queuing each call's change) sends one final state per channel, which matters to WVP: it
 * saves a batch's ON items before its OFF items, so an OFF then ON in one NOTIFY would end OFF.
 */
import { CatalogChange } from '../manscdp/catalog-notify';
import { ChannelDescriptor } from '../session/stream-contract';

const SHOWN_FIELDS = ['name', 'manufacturer', 'model', 'address', 'ptzType', 'longitude', 'latitude'] as const;

export function catalogDiff(before: ReadonlyMap<string, ChannelDescriptor>, after: ReadonlyMap<string, ChannelDescriptor>): CatalogChange[] {
  const changes: CatalogChange[] = [];
  const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const id of ids) {
    const a = before.get(id);
    const b = after.get(id);
    if (!a && b) changes.push({ event: 'ADD', channel: b });
    else if (a && !b) changes.push({ event: 'DEL', channel: a });
    else if (a && b) {
      if (a.online !== b.online) changes.push({ event: b.online ? 'ON' : offlineEvent(b), channel: b });
      // A new reason while offline (camera reachable again but still no video, say) is news too.
      else if (!b.online && offlineEvent(a) !== offlineEvent(b)) changes.push({ event: offlineEvent(b), channel: b });
      if (SHOWN_FIELDS.some((f) => a[f] !== b[f])) changes.push({ event: 'UPDATE', channel: b });
    }
  }
  return changes;
}

/** The event an offline channel is reported with (GB28181-2016 Annex A.2.4): no cause means OFF. */
export function offlineEvent(ch: ChannelDescriptor): 'OFF' | 'VLOST' | 'DEFECT' {
  if (ch.offlineCause === 'video-lost') return 'VLOST';
  if (ch.offlineCause === 'defect') return 'DEFECT';
  return 'OFF';
}
