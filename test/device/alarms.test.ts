import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { AlarmDelivery, DeviceAlarm } from '../../lib/device/gb-device';
import { GatewayError } from '../../lib/errors';
import { ChannelDescriptor } from '../../lib/session/stream-contract';
import { DEVICE_ID } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { delay, header, manscdpQuery, RawMessage, xmlAll, xmlText } from './raw-sip-platform';
import { isNotify, notifyText, subscribe, subscribeBody } from './subscribe-client';

const CH1 = '34020000001320000001';
const CH2 = '34020000001320000002';
const LIST: ChannelDescriptor[] = [
  { id: CH1, name: '大门', online: true },
  { id: CH2, name: '后院', online: true },
];
/** 2024-03-01T12:34:56Z = 20:34:56 in Asia/Shanghai. */
const T = Date.UTC(2024, 2, 1, 12, 34, 56);

describe('device alarms (GB28181-2016 §9.4) and guard/alarm-reset controls', function () {
  this.timeout(15000);
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  function alarmMessages(hh: Harness, since = 0): RawMessage[] {
    return hh.platform.received.slice(since).filter((m) => m.method === 'MESSAGE' && xmlText(iconv.decode(m.body, 'gbk'), 'CmdType') === 'Alarm');
  }

  function control(hh: Harness, inner: string, sn: number, target = CH1): Promise<RawMessage> {
    const body = Buffer.from(`<?xml version="1.0" encoding="GB2312"?>\r\n<Control>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${target}</DeviceID>\r\n${inner}\r\n</Control>\r\n`);
    const { data, callId } = hh.platform.request('MESSAGE', hh.deviceUri, { contentType: 'Application/MANSCDP+xml', body });
    return hh.ask(data, callId);
  }

  async function response(hh: Harness, cmdType: string, sn: number, timeoutMs = 1500): Promise<string> {
    const m = await hh.platform.waitFor((x) => x.method === 'MESSAGE' && /<Response>/.test(x.body.toString('latin1')) && xmlText(iconv.decode(x.body, 'gbk'), 'CmdType') === cmdType && xmlText(iconv.decode(x.body, 'gbk'), 'SN') === String(sn), timeoutMs);
    return iconv.decode(m.body, 'gbk');
  }

  async function dutyStatus(hh: Harness, sn: number, target: string): Promise<string[]> {
    const { data, callId } = hh.platform.request('MESSAGE', hh.deviceUri, { contentType: 'Application/MANSCDP+xml', body: manscdpQuery('DeviceStatus', sn, target) });
    assert.equal((await hh.ask(data, callId)).status, 200);
    const x = await response(hh, 'DeviceStatus', sn);
    assert.equal(xmlText(x, 'Online'), 'ONLINE');
    return xmlAll(x, 'Item').map((i) => `${xmlText(i, 'DeviceID')} ${xmlText(i, 'DutyStatus')}`);
  }

  it('without an Alarm subscription sends a MESSAGE <Notify> CmdType Alarm with the fields WVP reads', async () => {
    h = await startHarness({ channels: LIST });
    const events: Array<[DeviceAlarm, AlarmDelivery]> = [];
    h.device.on('alarm', (a: DeviceAlarm, how: AlarmDelivery) => events.push([a, how]));
    const alarm: DeviceAlarm = { channelId: CH1, priority: 2, method: 5, type: 2, description: '移动侦测 门口', timeMs: T, longitude: 116.39, latitude: 39.91 };
    assert.equal(await h.device.raiseAlarm(alarm), 'message');
    const [m] = alarmMessages(h);
    const x = iconv.decode(m.body, 'gbk');
    assert.match(x, /<Notify>/);
    assert.match(x, /encoding="GB2312"/);
    assert.equal(xmlText(x, 'DeviceID'), CH1);
    assert.equal(xmlText(x, 'AlarmPriority'), '2');
    assert.equal(xmlText(x, 'AlarmMethod'), '5');
    assert.equal(xmlText(x, 'AlarmTime'), '2024-03-01T20:34:56');
    assert.equal(xmlText(x, 'AlarmDescription'), '移动侦测 门口');
    assert.equal(xmlText(x, 'Longitude'), '116.39');
    assert.equal(xmlText(x, 'Latitude'), '39.91');
    assert.equal(xmlText(xmlText(x, 'Info') ?? '', 'AlarmType'), '2');
    assert.match(xmlText(x, 'SN') ?? '', /^\d+$/);
    assert.equal(header(m, 'content-type'), 'Application/MANSCDP+xml');
    assert.deepEqual(events.map((e) => e[1]), ['message']);
    assert.deepEqual(h.device.alarmStatus(CH1), { alarmed: true, guarded: false });
    assert.deepEqual(h.device.alarmStatus(CH2), { alarmed: false, guarded: false });
  });

  it('with an Alarm subscription sends the alarm as a NOTIFY in its dialog; falls back to a MESSAGE when the NOTIFY is refused', async () => {
    h = await startHarness({ channels: LIST });
    const sub = await subscribe(h, { event: 'presence;id=88', expires: 300, body: subscribeBody('Alarm', 1) });
    assert.equal(sub.response.status, 200);
    const p = h.platform.next((m) => isNotify(m, sub.callId));
    assert.equal(await h.device.raiseAlarm({ channelId: CH2, priority: 1, method: 2, type: 1, timeMs: T }), 'notify');
    const n = await p;
    const x = notifyText(n);
    assert.equal(xmlText(x, 'CmdType'), 'Alarm');
    assert.equal(xmlText(x, 'DeviceID'), CH2);
    assert.equal(xmlText(x, 'AlarmTime'), '2024-03-01T20:34:56');
    assert.equal(header(n, 'event'), 'presence;id=88');
    assert.match(header(n, 'subscription-state') ?? '', /^active;expires=\d+$/);
    assert.match(header(n, 'from') ?? '', new RegExp(`tag=${sub.toTag}`));
    assert.equal(alarmMessages(h).length, 0, 'no MESSAGE besides the NOTIFY');

    h.platform.notifyStatus = 481;
    assert.equal(await h.device.raiseAlarm({ channelId: CH1, priority: 3, method: 7, timeMs: T }), 'message');
    assert.equal(alarmMessages(h).length, 1);
    assert.deepEqual(h.device.subscriptions(), [], 'a 481 ends the subscription');
  });

  it('alarmsAsMessage: an Alarm subscriber still gets a MESSAGE (WVP files alarms with their channel only from a MESSAGE)', async () => {
    h = await startHarness({ channels: LIST, device: { alarmsAsMessage: true } });
    const sub = await subscribe(h, { event: 'presence;id=89', expires: 300, body: subscribeBody('Alarm', 1) });
    assert.equal(sub.response.status, 200);
    const since = h.platform.received.length;
    assert.equal(await h.device.raiseAlarm({ channelId: CH2, priority: 1, method: 5, type: 2, timeMs: T }), 'message');
    const sent = alarmMessages(h, since);
    assert.equal(sent.length, 1);
    const x = iconv.decode(sent[0].body, 'gbk');
    assert.equal(xmlText(x, 'DeviceID'), CH2);
    assert.equal(xmlText(x, 'AlarmMethod'), '5');
    assert.equal(xmlText(xmlText(x, 'Info') ?? '', 'AlarmType'), '2');
    await delay(100);
    assert.equal(h.platform.received.slice(since).filter((m) => isNotify(m, sub.callId)).length, 0, 'no NOTIFY');
  });

  it('an alarm is not sent while unregistered, and invalid alarms are refused', async () => {
    h = await startHarness({ channels: LIST });
    await assert.rejects(h.device.raiseAlarm({ channelId: CH1, priority: 5 as 1, method: 2 }), (e: unknown) => e instanceof GatewayError && e.code === 'ALARM_INVALID');
    await assert.rejects(h.device.raiseAlarm({ channelId: CH1, priority: 1, method: 9 }), (e: unknown) => e instanceof GatewayError && e.code === 'ALARM_INVALID');
    await h.device.stop();
    assert.equal(await h.device.raiseAlarm({ channelId: CH1, priority: 1, method: 2 }), 'not-sent');
  });

  it('a channel going offline raises a video-loss alarm (and a Catalog OFF); back online clears it', async () => {
    h = await startHarness({ channels: LIST, device: { catalogNotifyDelayMs: 30 } });
    const alarmSub = await subscribe(h, { event: 'presence;id=1', body: subscribeBody('Alarm', 1) });
    const catalogSub = await subscribe(h, { event: 'Catalog;id=2', body: subscribeBody('Catalog', 2) });
    const resets: string[] = [];
    h.device.on('alarm-reset', (id: string) => resets.push(id));
    const alarmP = h.platform.next((m) => isNotify(m, alarmSub.callId));
    const offP = h.platform.next((m) => isNotify(m, catalogSub.callId));
    h.device.upsertChannel({ ...LIST[0], online: false });
    const a = notifyText(await alarmP);
    assert.equal(xmlText(a, 'DeviceID'), CH1);
    assert.equal(xmlText(a, 'AlarmPriority'), '1');
    assert.equal(xmlText(a, 'AlarmMethod'), '2');
    assert.equal(xmlText(xmlText(a, 'Info') ?? '', 'AlarmType'), '1');
    const off = notifyText(await offP);
    assert.equal(xmlText(xmlAll(off, 'Item')[0], 'Event'), 'OFF');
    assert.equal(h.device.alarmStatus(CH1).alarmed, true);

    const onP = h.platform.next((m) => isNotify(m, catalogSub.callId));
    h.device.upsertChannel({ ...LIST[0], online: true });
    assert.equal(xmlText(xmlAll(notifyText(await onP), 'Item')[0], 'Event'), 'ON');
    assert.equal(h.device.alarmStatus(CH1).alarmed, false);
    assert.deepEqual(resets, [CH1]);
  });

  it('videoLossAlarm false: offline raises no alarm', async () => {
    h = await startHarness({ channels: LIST, device: { videoLossAlarm: false } });
    h.device.upsertChannel({ ...LIST[1], online: false });
    await delay(300);
    assert.equal(alarmMessages(h).length, 0);
    assert.equal(h.device.alarmStatus(CH2).alarmed, false);
  });

  it('AlarmCmd ResetAlarm and GuardCmd change what DeviceStatus reports (Alarmstatus DutyStatus), each answered with a Response', async () => {
    h = await startHarness({ channels: LIST });
    const guards: string[] = [];
    const resets: string[] = [];
    h.device.on('guard', (id: string, action: string) => guards.push(`${id} ${action}`));
    h.device.on('alarm-reset', (id: string) => resets.push(id));
    assert.deepEqual(await dutyStatus(h, 1, DEVICE_ID), [`${CH1} OFFDUTY`, `${CH2} OFFDUTY`]);

    await h.device.raiseAlarm({ channelId: CH1, priority: 1, method: 5, type: 2 });
    assert.deepEqual(await dutyStatus(h, 2, CH1), [`${CH1} ALARM`]);

    assert.equal((await control(h, '<AlarmCmd>ResetAlarm</AlarmCmd>\r\n<Info>\r\n<AlarmMethod>5</AlarmMethod>\r\n</Info>', 3)).status, 200);
    assert.equal(xmlText(await response(h, 'DeviceControl', 3), 'Result'), 'OK');
    assert.deepEqual(resets, [CH1]);
    assert.deepEqual(h.device.alarmStatus(CH1), { alarmed: false, guarded: false });
    assert.deepEqual(await dutyStatus(h, 4, CH1), [`${CH1} OFFDUTY`]);

    assert.equal((await control(h, '<GuardCmd>SetGuard</GuardCmd>', 5, DEVICE_ID)).status, 200);
    assert.equal(xmlText(await response(h, 'DeviceControl', 5), 'Result'), 'OK');
    assert.deepEqual(await dutyStatus(h, 6, DEVICE_ID), [`${CH1} ONDUTY`, `${CH2} ONDUTY`]);
    assert.equal(h.device.alarmStatus(DEVICE_ID).guarded, true);

    assert.equal((await control(h, '<GuardCmd>ResetGuard</GuardCmd>', 7, CH2)).status, 200);
    assert.equal(xmlText(await response(h, 'DeviceControl', 7), 'Result'), 'OK');
    assert.deepEqual(await dutyStatus(h, 8, DEVICE_ID), [`${CH1} ONDUTY`, `${CH2} OFFDUTY`]);
    assert.deepEqual(guards, [`${DEVICE_ID} set`, `${CH2} reset`]);
  });
});
