import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { PlatformEmulator, SubscriptionChange, SubscriptionInfo } from '../../lib/sim/platform/platform-emulator';
import { hdr, RawSip, RawSipDevice, startRegisteredRawDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001320000001';
const bodyOf = (m: RawSip): string => iconv.decode(m.body, 'gb18030');
const tagOf = (value: string | undefined): string | undefined => /;tag=([^;>\s]+)/.exec(value ?? '')?.[1];
const eventId = (value: string | undefined): string | undefined => /;id=([^;\s]+)/.exec(value ?? '')?.[1];

describe('PlatformEmulator SUBSCRIBE dialogs (SIPCommander#*Subscribe, SIPRequestHeaderProvider#createSubscribeRequest)', function () {
  this.timeout(15_000);
  let platform: PlatformEmulator;
  let device: RawSipDevice;

  beforeEach(async () => {
    ({ platform, device } = await startRegisteredRawDevice(DEVICE_ID));
  });

  afterEach(async () => {
    device?.close();
    await platform?.stop();
  });

  it('sends a Catalog SUBSCRIBE as WVP writes it and keeps Expires, Call-ID and Event id from the 200', async () => {
    const changes: Array<[SubscriptionChange, SubscriptionInfo]> = [];
    platform.on('subscription', (c, i) => changes.push([c, i]));
    const pending = platform.subscribe(DEVICE_ID, 'Catalog', { expires: 10 });
    const sub = await device.request('SUBSCRIBE');
    assert.equal(sub.startLine, `SUBSCRIBE sip:${DEVICE_ID}@127.0.0.1:${device.port} SIP/2.0`);
    assert.match(hdr(sub, 'Via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;rport;branch=z9hG4bK/);
    assert.match(hdr(sub, 'From') ?? '', /^<sip:34020000002000000001@3402000000>;tag=\w+$/);
    assert.equal(hdr(sub, 'To'), `<sip:${DEVICE_ID}@127.0.0.1:${device.port}>`, 'no To tag on the initial SUBSCRIBE');
    assert.match(hdr(sub, 'CSeq') ?? '', /^\d+ SUBSCRIBE$/);
    assert.match(hdr(sub, 'Contact') ?? '', /^<sip:34020000002000000001@127\.0\.0\.1:\d+>$/);
    assert.equal(hdr(sub, 'Expires'), '30', 'a cycle under 30 s is raised to 30');
    assert.match(hdr(sub, 'Event') ?? '', /^Catalog;id=\d{1,4}$/);
    assert.equal(hdr(sub, 'Content-Type'), 'Application/MANSCDP+xml');
    assert.equal(Number(hdr(sub, 'Content-Length')), sub.body.length);
    assert.match(bodyOf(sub), /^<\?xml version="1\.0" encoding="GB2312"\?>\r\n<Query>\r\n<CmdType>Catalog<\/CmdType>\r\n<SN>\d{6}<\/SN>\r\n<DeviceID>34020000001320000001<\/DeviceID>\r\n<\/Query>\r\n$/);

    device.reply(sub, 200, 'OK', ['Expires: 25', 'Event: Catalog;id=4242']);
    const handle = await pending;
    assert.equal(handle.status, 200);
    assert.equal(handle.state, 'active');
    assert.equal(handle.expires, 25, 'expires comes from the 200');
    assert.equal(handle.eventId, '4242', 'the Event id of the 200 is kept for refreshes');
    assert.equal(handle.callId, hdr(sub, 'Call-ID'));
    assert.deepEqual(changes.map(([c]) => c), ['subscribed']);
    assert.deepEqual(platform.subscriptions(DEVICE_ID), [handle]);
  });

  it('refreshes inside the dialog (same Call-ID and tags, higher CSeq) and ends it with Expires: 0', async () => {
    const pending = platform.subscribe(DEVICE_ID, 'Catalog', { expires: 120 });
    const first = await device.request('SUBSCRIBE');
    assert.equal(hdr(first, 'Expires'), '120');
    device.reply(first, 200, 'OK', ['Expires: 120', `Event: ${hdr(first, 'Event')}`]);
    const handle = await pending;

    const refreshing = handle.refresh();
    const second = await device.request('SUBSCRIBE');
    assert.equal(hdr(second, 'Call-ID'), hdr(first, 'Call-ID'));
    assert.equal(tagOf(hdr(second, 'From')), tagOf(hdr(first, 'From')));
    assert.equal(tagOf(hdr(second, 'To')), 'dev200', 'the To tag of the 200 is used in the dialog');
    assert.equal(eventId(hdr(second, 'Event')), eventId(hdr(first, 'Event')));
    assert.ok(parseInt(hdr(second, 'CSeq') ?? '', 10) > parseInt(hdr(first, 'CSeq') ?? '', 10));
    assert.equal(hdr(second, 'Expires'), '120');
    assert.notEqual(/<SN>(\d+)/.exec(bodyOf(second))?.[1], undefined);
    device.reply(second, 200, 'OK', ['Expires: 120']); // no Event id: WVP picks a fresh one next time
    assert.equal(await refreshing, 200);
    assert.equal(handle.refreshes, 1);

    const ending = handle.unsubscribe();
    const third = await device.request('SUBSCRIBE');
    assert.equal(hdr(third, 'Expires'), '0');
    assert.equal(hdr(third, 'Call-ID'), hdr(first, 'Call-ID'));
    assert.equal(tagOf(hdr(third, 'To')), 'dev200');
    assert.match(hdr(third, 'Event') ?? '', /^Catalog;id=\d{1,4}$/);
    device.reply(third, 200, 'OK', ['Expires: 0']);
    assert.equal(await ending, 200);
    assert.equal(handle.state, 'terminated');
    assert.deepEqual(platform.subscriptions(), []);
  });

  it('subscribes MobilePosition and Alarm with Event: presence, the Interval and the right CmdType', async () => {
    const mp = platform.subscribe(DEVICE_ID, 'MobilePosition', { expires: 60, interval: 7 });
    const mpReq = await device.request('SUBSCRIBE');
    assert.match(hdr(mpReq, 'Event') ?? '', /^presence;id=\d{1,4}$/);
    assert.match(bodyOf(mpReq), /<CmdType>MobilePosition<\/CmdType>\r\n<SN>\d+<\/SN>\r\n<DeviceID>34020000001320000001<\/DeviceID>\r\n<Interval>7<\/Interval>\r\n<\/Query>/);
    device.reply(mpReq, 200, 'OK', ['Expires: 60']);
    assert.equal((await mp).status, 200);

    const mpDefault = platform.subscribe(DEVICE_ID, 'MobilePosition', { expires: 60 });
    const mpDefaultReq = await device.request('SUBSCRIBE');
    assert.match(bodyOf(mpDefaultReq), /<Interval>5<\/Interval>/, 'WVP default interval 5');
    device.reply(mpDefaultReq, 200, 'OK');
    assert.equal((await mpDefault).expires, 60, 'no Expires in the 200: the requested cycle');

    const alarm = platform.subscribe(DEVICE_ID, 'Alarm', { expires: 3600 });
    const alarmReq = await device.request('SUBSCRIBE');
    assert.match(hdr(alarmReq, 'Event') ?? '', /^presence;id=\d{1,4}$/);
    assert.equal(hdr(alarmReq, 'Expires'), '3600');
    assert.match(bodyOf(alarmReq), /<CmdType>Alarm<\/CmdType>/);
    assert.doesNotMatch(bodyOf(alarmReq), /<Interval>/);
    device.reply(alarmReq, 200, 'OK');
    assert.equal((await alarm).state, 'active');
    assert.equal(platform.subscriptions(DEVICE_ID).length, 3);
  });

  it('keeps a refused subscription as failed, rejects an unanswered one and drops dialogs when the device unregisters', async () => {
    const refused = platform.subscribe(DEVICE_ID, 'Catalog', { expires: 60 });
    device.reply(await device.request('SUBSCRIBE'), 489, 'Bad Event');
    const handle = await refused;
    assert.equal(handle.status, 489);
    assert.equal(handle.state, 'failed');

    const unanswered = platform.subscribe(DEVICE_ID, 'Alarm', { expires: 60, timeoutMs: 600 });
    await assert.rejects(unanswered, (e: Error & { code?: string }) => e.code === 'PLATFORM_REQUEST_TIMEOUT');

    const ok = platform.subscribe(DEVICE_ID, 'MobilePosition', { expires: 60 });
    // The unanswered Alarm SUBSCRIBE and its retransmissions are still queued: pick the new one by body.
    device.reply(await device.next((m) => m.startLine.startsWith('SUBSCRIBE ') && bodyOf(m).includes('MobilePosition')), 200, 'OK');
    const active = await ok;
    const ended = platform.waitForEvent('subscription', (c, i) => c === 'terminated' && i.callId === active.callId, 3000);
    device.register({ callId: 'gone', cseq: 1, expires: 0 });
    await ended;
    assert.equal(active.state, 'terminated');
    await assert.rejects(platform.subscribe(DEVICE_ID, 'Catalog', { expires: 60 }), (e: Error & { code?: string }) => e.code === 'PLATFORM_UNKNOWN_DEVICE');
  });

  it('refreshes by itself 0.5 s before the cycle ends when autoRefresh is on', async function () {
    this.timeout(40_000);
    const pending = platform.subscribe(DEVICE_ID, 'Catalog', { expires: 30, autoRefresh: true });
    const first = await device.request('SUBSCRIBE');
    device.reply(first, 200, 'OK', ['Expires: 30']);
    await pending;
    const answeredAt = Date.now();
    const refresh = await device.request('SUBSCRIBE', 35_000);
    const after = Date.now() - answeredAt;
    assert.ok(after >= 29_000 && after < 30_500, `refreshed after ${after} ms`);
    assert.equal(hdr(refresh, 'Call-ID'), hdr(first, 'Call-ID'));
    assert.equal(hdr(refresh, 'Expires'), '30');
    device.reply(refresh, 200, 'OK', ['Expires: 30']);
    await platform.waitForEvent('subscription', (c) => c === 'refreshed', 3000);
  });
});
