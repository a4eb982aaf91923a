import * as assert from 'node:assert/strict';
import { catalogDiff } from '../../lib/device/catalog-diff';
import { ChannelDescriptor } from '../../lib/session/stream-contract';

const map = (list: ChannelDescriptor[]) => new Map(list.map((c) => [c.id, c]));

describe('catalog diff (GB28181-2016 catalog events)', () => {
  it('gives ADD, DEL, ON/OFF and UPDATE in channel-ID order; nothing for equal catalogs', () => {
    const a: ChannelDescriptor = { id: 'a', name: 'A', online: true };
    const b: ChannelDescriptor = { id: 'b', name: 'B', online: true };
    const c: ChannelDescriptor = { id: 'c', name: 'C', online: false };
    const d: ChannelDescriptor = { id: 'd', name: 'D', online: true };
    const out = catalogDiff(map([a, b, c]), map([d, { ...c, online: true, name: 'C2' }, { ...b, online: false }]));
    assert.deepEqual(out.map((x) => `${x.event} ${x.channel.id}`), ['DEL a', 'OFF b', 'ON c', 'UPDATE c', 'ADD d']);
    assert.equal(out.find((x) => x.event === 'UPDATE')?.channel.name, 'C2');
    assert.deepEqual(catalogDiff(map([a, b]), map([{ ...b }, { ...a }])), []);
    assert.deepEqual(catalogDiff(map([a]), map([{ ...a, hasAudio: true }])), [], 'fields the catalog does not show are no change');
    assert.deepEqual(catalogDiff(map([a]), map([{ ...a, ptzType: 1 }])).map((x) => x.event), ['UPDATE']);
  });

  it('reports an offline cause as VLOST/DEFECT, a new cause while offline as its event, and ON when back (GB28181-2016 A.2.4)', () => {
    const a: ChannelDescriptor = { id: 'a', name: 'A', online: true };
    const b: ChannelDescriptor = { id: 'b', name: 'B', online: true };
    const c: ChannelDescriptor = { id: 'c', name: 'C', online: true };
    const ev = (x: ChannelDescriptor[], y: ChannelDescriptor[]) => catalogDiff(map(x), map(y)).map((e) => `${e.event} ${e.channel.id}`);
    assert.deepEqual(
      ev([a, b, c], [{ ...a, online: false, offlineCause: 'video-lost' }, { ...b, online: false, offlineCause: 'defect' }, { ...c, online: false, offlineCause: 'unreachable' }]),
      ['VLOST a', 'DEFECT b', 'OFF c'],
    );
    const offA: ChannelDescriptor = { ...a, online: false };
    assert.deepEqual(ev([offA], [{ ...offA, offlineCause: 'video-lost' }]), ['VLOST a'], 'OFF → VLOST while offline');
    assert.deepEqual(ev([{ ...offA, offlineCause: 'video-lost' }], [{ ...offA, offlineCause: 'defect' }]), ['DEFECT a']);
    assert.deepEqual(ev([{ ...offA, offlineCause: 'defect' }], [offA]), ['OFF a'], 'cause gone while offline → OFF');
    assert.deepEqual(ev([{ ...offA, offlineCause: 'unreachable' }], [offA]), [], 'unreachable and no cause are both OFF');
    assert.deepEqual(ev([{ ...offA, offlineCause: 'defect' }], [{ ...a, offlineCause: 'defect' }]), ['ON a'], 'back online → ON');
    assert.deepEqual(ev([a], [{ ...a, offlineCause: 'video-lost' }]), [], 'a cause is ignored while online');
  });
});
