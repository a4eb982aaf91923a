import * as assert from 'node:assert/strict';
import { alarmNotify } from '../../lib/manscdp/alarm-notify';
import { catalogNotifies, emptyCatalogNotify } from '../../lib/manscdp/catalog-notify';
import { deviceStatusResponse, dutyStatus } from '../../lib/manscdp/device-status-response';
import { parseManscdp, textOf, childOf } from '../../lib/manscdp/manscdp-message';
import { writeManscdp } from '../../lib/manscdp/manscdp-writer';
import { mobilePositionNotify } from '../../lib/manscdp/mobile-position-notify';
import { presetQueryResponse } from '../../lib/manscdp/preset-query-response';
import { channels, DEVICE_ID } from '../device/device-fixture';

const CTX = { sn: '9', deviceId: DEVICE_ID, manufacturer: 'M', model: 'X' };

describe('MANSCDP notify bodies (GB28181-2016 Annex A.2.4, A.2.5)', () => {
  it('catalog change items carry Event; DEL only the ID; split with a constant SumNum', () => {
    const list = channels(10);
    const changes = list.map((channel, i) => ({ channel, event: i === 0 ? ('DEL' as const) : i % 2 ? ('ON' as const) : ('ADD' as const) }));
    const parts = catalogNotifies(changes, CTX, 4);
    assert.equal(parts.length, 3);
    const parsed = parts.map((p) => parseManscdp(writeManscdp('Notify', p, 'GB2312')));
    for (const m of parsed) {
      assert.equal(m.root, 'Notify');
      assert.equal(m.cmdType, 'Catalog');
      assert.equal(textOf(m.fields.SumNum), '10');
    }
    const first = childOf(parsed[0].fields.DeviceList, 'Item');
    assert.ok(Array.isArray(first));
    assert.deepEqual(Object.keys(first[0] as object).sort(), ['DeviceID', 'Event']);
    assert.equal(textOf(childOf(first[1], 'Event')), 'ON');
    assert.equal(textOf(childOf(first[1], 'Name')), list[1].name);
    assert.equal(textOf(childOf(first[2], 'Event')), 'ADD');
    assert.equal(catalogNotifies([], CTX, 4).length, 0);
    const empty = parseManscdp(writeManscdp('Notify', emptyCatalogNotify('3', DEVICE_ID), 'UTF-8'));
    assert.equal(textOf(empty.fields.SumNum), '0');
  });

  it('alarm notify: AlarmTime in the platform zone without suffix; optional fields left out', () => {
    const at = Date.UTC(2024, 11, 31, 16, 0, 1);
    const full = alarmNotify(5, { channelId: 'C', priority: 1, method: 2, type: 1, description: 'd', timeMs: at, longitude: 1.5, latitude: 2.5 }, 'Asia/Shanghai');
    assert.equal(full.AlarmTime, '2025-01-01T00:00:01');
    assert.deepEqual(full.Info, { AlarmType: '1' });
    const bare = alarmNotify(6, { channelId: 'C', priority: 4, method: 7, timeMs: at }, 'UTC');
    assert.equal(bare.AlarmTime, '2024-12-31T16:00:01');
    const m = parseManscdp(writeManscdp('Notify', bare, 'GB2312'));
    assert.equal(m.fields.Info, undefined);
    assert.equal(m.fields.Longitude, undefined);
    assert.equal(textOf(m.fields.AlarmPriority), '4');
  });

  it('mobile position notify and preset answers', () => {
    const p = mobilePositionNotify(1, { channelId: 'C', timeMs: 0, longitude: 120.1, latitude: 30.2 }, 'UTC');
    assert.equal(p.Time, '1970-01-01T00:00:00');
    assert.equal(p.Speed, '0');
    const none = presetQueryResponse('8', 'C', []);
    assert.deepEqual(none.PresetList, { '@Num': '0' });
    // WVP (PresetQueryResponseMessageHandler) counts by PresetList@Num and does not merge parts: one message, Num = all.
    const some = presetQueryResponse('8', 'C', [1, 2, 3, 4, 5].map((n) => ({ presetId: n, name: `p${n}` })));
    assert.equal((some.PresetList as { '@Num': string })['@Num'], '5');
    assert.equal(some.SumNum, '5');
    assert.equal(((some.PresetList as { Item: unknown[] }).Item).length, 5);
  });

  it('DeviceStatus Alarmstatus: ALARM over guard, ONDUTY when guarded, OFFDUTY otherwise', () => {
    assert.equal(dutyStatus({ alarmed: true, guarded: false }), 'ALARM');
    assert.equal(dutyStatus({ alarmed: false, guarded: true }), 'ONDUTY');
    assert.equal(dutyStatus({ alarmed: false, guarded: false }), 'OFFDUTY');
    const r = deviceStatusResponse({ sn: '1', deviceId: 'D', online: true, deviceTime: 't', alarmStatus: [{ deviceId: 'C', duty: 'ALARM' }] });
    const m = parseManscdp(writeManscdp('Response', r, 'GB2312'));
    assert.equal(textOf(childOf(m.fields.Alarmstatus, '@_Num')), '1');
    assert.equal(textOf(childOf(childOf(m.fields.Alarmstatus, 'Item'), 'DutyStatus')), 'ALARM');
    assert.equal(deviceStatusResponse({ sn: '1', deviceId: 'D', online: true, deviceTime: 't' }).Alarmstatus, undefined);
  });
});
