import * as assert from 'node:assert/strict';
import { SubscriptionKind, SubscriptionPhase } from '../../lib/device/gb-device';
import { ChannelDescriptor } from '../../lib/session/stream-contract';
import { channels, DEVICE_ID } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { delay, header, RawMessage, xmlAll, xmlText } from './raw-sip-platform';
import { cseqOf, isNotify, notifyText, subscribe, subscribeBody } from './subscribe-client';

const CH1 = '34020000001320000001';
const NEW_ID = '34020000001320000099';

describe('device subscriptions (RFC 6665, GB28181-2016 §9.11)', function () {
  this.timeout(20000);
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  function phases(hh: Harness): Array<[SubscriptionKind, SubscriptionPhase]> {
    const seen: Array<[SubscriptionKind, SubscriptionPhase]> = [];
    hh.device.on('subscription', (kind: SubscriptionKind, phase: SubscriptionPhase) => seen.push([kind, phase]));
    return seen;
  }

  it('accepts a Catalog SUBSCRIBE with Expires, the Event id echoed, a To-tag and a Contact; renews it in the dialog; ends it on Expires 0 with a terminated NOTIFY', async () => {
    h = await startHarness({ channels: channels(3) });
    const seen = phases(h);
    const sub = await subscribe(h, { event: 'Catalog;id=4711', expires: 120, body: subscribeBody('Catalog', 1) });
    assert.equal(sub.response.status, 200);
    assert.equal(header(sub.response, 'expires'), '120');
    assert.equal(header(sub.response, 'event'), 'Catalog;id=4711');
    assert.match(sub.toTag, /^\w+$/);
    assert.match(header(sub.response, 'contact') ?? '', new RegExp(`<sip:${DEVICE_ID}@127\\.0\\.0\\.1:\\d+>`));
    const list = h.device.subscriptions();
    assert.equal(list.length, 1);
    assert.equal(list[0].kind, 'Catalog');
    assert.equal(list[0].callId, sub.callId);
    assert.ok(Math.abs(list[0].expiresAt - (Date.now() + 120_000)) < 2000);

    // Refresh in the dialog (same Call-ID, both tags), as WVP does at cycle − 0.5 s.
    const refreshed = await subscribe(h, { event: 'Catalog;id=4711', expires: 600, body: subscribeBody('Catalog', 2), dialog: sub });
    assert.equal(refreshed.response.status, 200);
    assert.equal(refreshed.toTag, sub.toTag, 'same dialog');
    assert.equal(header(refreshed.response, 'expires'), '600');
    assert.equal(h.device.subscriptions().length, 1);
    assert.ok(Math.abs(h.device.subscriptions()[0].expiresAt - (Date.now() + 600_000)) < 2000);

    const since = h.platform.received.length;
    const ended = await subscribe(h, { event: 'Catalog;id=4711', expires: 0, body: subscribeBody('Catalog', 3), dialog: sub });
    assert.equal(ended.response.status, 200);
    assert.equal(header(ended.response, 'expires'), '0');
    assert.deepEqual(h.device.subscriptions(), []);
    const last = await h.platform.waitFor((m) => isNotify(m, sub.callId), 2000, since);
    assert.match(header(last, 'subscription-state') ?? '', /^terminated/);
    assert.equal(header(last, 'event'), 'Catalog;id=4711');
    assert.equal(xmlText(notifyText(last), 'SumNum'), '0');
    assert.deepEqual(seen, [['Catalog', 'start'], ['Catalog', 'refresh'], ['Catalog', 'end']]);
  });

  it('works over TCP: the NOTIFY goes back on the platform\'s connection', async () => {
    h = await startHarness({ tcp: true, channels: channels(2), device: { catalogNotifyDelayMs: 20 } });
    const sub = await subscribe(h, { event: 'Catalog;id=3', body: subscribeBody('Catalog', 1) });
    assert.equal(sub.response.status, 200);
    const p = h.platform.next((m) => isNotify(m, sub.callId));
    h.device.upsertChannel({ ...channels(2)[0], online: false });
    const n = await p;
    assert.ok(n.from.tcp, 'received on the TCP connection');
    assert.match(header(n, 'via') ?? '', /^SIP\/2\.0\/TCP /);
    assert.equal(xmlText(xmlAll(notifyText(n), 'Item')[0], 'Event'), 'OFF');
  });

  it('ends a subscription at its expiry with a terminated;reason=timeout NOTIFY', async () => {
    h = await startHarness({ channels: channels(2) });
    const seen = phases(h);
    const sub = await subscribe(h, { event: 'Catalog;id=9', expires: 1, body: subscribeBody('Catalog', 1) });
    assert.equal(sub.response.status, 200);
    assert.equal(h.device.subscriptions().length, 1);
    const last = await h.platform.waitFor((m) => isNotify(m, sub.callId), 2500);
    assert.equal(header(last, 'subscription-state'), 'terminated;reason=timeout');
    assert.deepEqual(h.device.subscriptions(), []);
    assert.deepEqual(seen, [['Catalog', 'start'], ['Catalog', 'end']]);
  });

  it('tells presence subscriptions apart by the body CmdType; 400 for a malformed body; 200 and nothing else for an unknown CmdType', async () => {
    h = await startHarness({ channels: channels(2) });
    const alarm = await subscribe(h, { event: 'presence;id=1', body: subscribeBody('Alarm', 1, '<StartAlarmPriority>1</StartAlarmPriority>\r\n<EndAlarmPriority>4</EndAlarmPriority>\r\n') });
    const pos = await subscribe(h, { event: 'presence;id=2', body: subscribeBody('MobilePosition', 2, '<Interval>5</Interval>\r\n') });
    assert.equal(alarm.response.status, 200);
    assert.equal(header(alarm.response, 'event'), 'presence;id=1');
    assert.equal(pos.response.status, 200);
    assert.deepEqual(h.device.subscriptions().map((s) => s.kind).sort(), ['Alarm', 'MobilePosition']);

    const bad = await subscribe(h, { event: 'presence;id=3', body: Buffer.from('<?xml version="1.0"?><Query><CmdType>Alarm</CmdType><SN>1</Query>') });
    assert.equal(bad.response.status, 400);
    const unknown = await subscribe(h, { event: 'presence;id=4', body: subscribeBody('PTZPosition', 4) });
    assert.equal(unknown.response.status, 200, 'not 489: WVP would retry every 10 s (notes §8.7)');
    assert.equal(header(unknown.response, 'event'), 'presence;id=4');
    assert.equal(h.device.subscriptions().length, 2);
    const since = h.platform.received.length;
    await delay(300);
    assert.equal(h.platform.received.slice(since).filter((m) => isNotify(m, unknown.callId)).length, 0);
  });

  it('adopts a refresh of a dialog it no longer knows, and a new subscription of the same kind replaces the old one', async () => {
    h = await startHarness({ channels: channels(2) });
    // A refresh with a To-tag we never gave (we restarted): accepted in that dialog.
    const { data, callId } = h.platform.request('SUBSCRIBE', h.deviceUri, { toTag: 'lost1', extra: ['Event: Catalog;id=5', 'Expires: 60'], contentType: 'Application/MANSCDP+xml', body: subscribeBody('Catalog', 1) });
    const r = await h.ask(data, callId);
    assert.equal(r.status, 200);
    assert.match(header(r, 'to') ?? '', /tag=lost1/);
    assert.equal(h.device.subscriptions()[0].callId, callId);
    const again = await subscribe(h, { event: 'Catalog;id=6', body: subscribeBody('Catalog', 2) });
    assert.equal(again.response.status, 200);
    assert.deepEqual(h.device.subscriptions().map((s) => s.callId), [again.callId]);
  });

  describe('Catalog NOTIFY (GB28181-2016 Annex A.2.4)', () => {
    async function catalogSubscribed(): Promise<{ hh: Harness; callId: string; fromTag: string; toTag: string }> {
      const hh = await startHarness({ channels: channels(3), device: { catalogNotifyDelayMs: 50 } });
      h = hh;
      const sub = await subscribe(hh, { event: 'Catalog;id=77', expires: 600, body: subscribeBody('Catalog', 1) });
      return { hh, ...sub };
    }

    function nextCatalogNotify(hh: Harness, callId: string): Promise<RawMessage> {
      return hh.platform.next((m) => isNotify(m, callId), 2000);
    }

    function items(m: RawMessage): string[] {
      return xmlAll(notifyText(m), 'Item');
    }

    it('sends ADD with the full item, OFF/ON on status, UPDATE on a name change, DEL with the ID only, in the dialog with increasing CSeq', async () => {
      const { hh, callId, fromTag, toTag } = await catalogSubscribed();
      const added: ChannelDescriptor = { id: NEW_ID, name: '新摄像机 南门', online: true, ptzType: 1, longitude: 121.5, latitude: 31.2 };
      let p = nextCatalogNotify(hh, callId);
      hh.device.upsertChannel(added);
      const add = await p;
      const text = notifyText(add);
      assert.match(text, /^<\?xml version="1.0" encoding="GB2312"\?>/);
      assert.match(text, /<Notify>/);
      assert.equal(xmlText(text, 'CmdType'), 'Catalog');
      assert.equal(xmlText(text, 'DeviceID'), DEVICE_ID);
      assert.equal(xmlText(text, 'SumNum'), '1');
      assert.match(text, /<DeviceList Num="1">/);
      const [addItem] = items(add);
      assert.equal(xmlText(addItem, 'DeviceID'), NEW_ID);
      assert.equal(xmlText(addItem, 'Event'), 'ADD');
      assert.equal(xmlText(addItem, 'Name'), '新摄像机 南门');
      assert.equal(xmlText(addItem, 'Status'), 'ON');
      assert.equal(xmlText(addItem, 'ParentID'), DEVICE_ID);
      assert.equal(xmlText(addItem, 'PTZType'), '1');
      assert.equal(xmlText(addItem, 'Longitude'), '121.5');
      // Dialog: Call-ID, tags swapped, Event with its id, active state, MANSCDP content.
      assert.equal(header(add, 'call-id'), callId);
      assert.match(header(add, 'from') ?? '', new RegExp(`<sip:${DEVICE_ID}@[^>]+>;tag=${toTag}`));
      assert.match(header(add, 'to') ?? '', new RegExp(`;tag=${fromTag}`));
      assert.equal(header(add, 'event'), 'Catalog;id=77');
      assert.match(header(add, 'subscription-state') ?? '', /^active;expires=(\d+)$/);
      const left = Number(/expires=(\d+)/.exec(header(add, 'subscription-state') ?? '')?.[1]);
      assert.ok(left > 590 && left <= 600, `expires=${left}`);
      assert.equal(header(add, 'content-type'), 'Application/MANSCDP+xml');
      assert.match(add.uri ?? '', /^sip:34020000002000000001@127\.0\.0\.1:\d+$/, 'sent to the Contact of the SUBSCRIBE');

      p = nextCatalogNotify(hh, callId);
      hh.device.upsertChannel({ ...added, online: false });
      const off = await p;
      assert.deepEqual(items(off).map((i) => [xmlText(i, 'DeviceID'), xmlText(i, 'Event')]), [[NEW_ID, 'OFF']]);
      assert.ok(cseqOf(off) > cseqOf(add));

      p = nextCatalogNotify(hh, callId);
      hh.device.upsertChannel({ ...added, online: true });
      const on = await p;
      assert.deepEqual(items(on).map((i) => xmlText(i, 'Event')), ['ON']);
      assert.ok(cseqOf(on) > cseqOf(off));

      p = nextCatalogNotify(hh, callId);
      hh.device.upsertChannel({ ...added, name: '新摄像机 东门' });
      const upd = await p;
      const [updItem] = items(upd);
      assert.equal(xmlText(updItem, 'Event'), 'UPDATE');
      assert.equal(xmlText(updItem, 'Name'), '新摄像机 东门');

      p = nextCatalogNotify(hh, callId);
      hh.device.removeChannel(NEW_ID);
      const del = await p;
      const [delItem] = items(del);
      assert.equal(xmlText(delItem, 'Event'), 'DEL');
      assert.equal(xmlText(delItem, 'DeviceID'), NEW_ID);
      assert.equal(xmlText(delItem, 'Name'), undefined);
      assert.ok(cseqOf(del) > cseqOf(upd));
    });

    it('sends VLOST/DEFECT for an offline cause, the new event when the cause changes while offline, ON when back; items keep Status OFF', async () => {
      const { hh, callId } = await catalogSubscribed();
      const ch = channels(3)[0];
      assert.equal(ch.online, true);
      const since = hh.platform.received.length;
      let p: Promise<RawMessage>;
      const step = async (next: ChannelDescriptor): Promise<string[]> => {
        p = nextCatalogNotify(hh, callId);
        hh.device.upsertChannel(next);
        return items(await p).map((i) => `${xmlText(i, 'DeviceID')} ${xmlText(i, 'Event')} ${xmlText(i, 'Status')}`);
      };
      assert.deepEqual(await step({ ...ch, online: false, offlineCause: 'unreachable' }), [`${ch.id} OFF OFF`]);
      assert.deepEqual(await step({ ...ch, online: false, offlineCause: 'video-lost' }), [`${ch.id} VLOST OFF`]);
      assert.deepEqual(await step({ ...ch, online: false, offlineCause: 'defect' }), [`${ch.id} DEFECT OFF`]);
      assert.deepEqual(await step({ ...ch, online: true, offlineCause: undefined }), [`${ch.id} ON ON`]);
      assert.deepEqual(await step({ ...ch, online: false, offlineCause: 'video-lost' }), [`${ch.id} VLOST OFF`]);
      const alarms = hh.platform.received.slice(since).filter((m) => m.method === 'MESSAGE' && /<CmdType>Alarm<\/CmdType>/.test(m.body.toString('latin1')));
      assert.equal(alarms.length, 2, 'the video loss alarm still goes out for each online → offline, whatever the cause');
    });

    it('setChannels sends the net changes in one NOTIFY; an OFF and back ON within the gathering time sends nothing', async () => {
      const { hh, callId } = await catalogSubscribed();
      const base = channels(3);
      const p = nextCatalogNotify(hh, callId);
      hh.device.setChannels([{ ...base[0], online: !base[0].online }, base[2], { id: NEW_ID, name: 'N', online: true }]);
      const m = await p;
      const got = items(m).map((i) => `${xmlText(i, 'Event')} ${xmlText(i, 'DeviceID')}`);
      assert.deepEqual(got, [`${base[0].online ? 'OFF' : 'ON'} ${base[0].id}`, `DEL ${base[1].id}`, `ADD ${NEW_ID}`]);
      assert.equal(xmlText(notifyText(m), 'SumNum'), '3');

      const since = hh.platform.received.length;
      hh.device.upsertChannel({ ...base[2], online: false });
      hh.device.upsertChannel({ ...base[2], online: true });
      await hh.device.catalogNotified();
      await delay(200);
      assert.equal(hh.platform.received.slice(since).filter((x) => isNotify(x, callId)).length, 0);
    });

    it('splits a large change into NOTIFYs of catalogBatchSize items, each after the 200 to the previous', async () => {
      const { hh, callId } = await catalogSubscribed();
      const many = channels(20).map((c) => ({ ...c, id: c.id.replace(/^3402000000132/, '3402000000131') }));
      hh.platform.notifyStatus = 0;
      const first = nextCatalogNotify(hh, callId);
      hh.device.setChannels([...channels(3), ...many]);
      const m1 = await first;
      await delay(300);
      const cseqs = () => new Set(hh.platform.received.filter((m) => isNotify(m, callId)).map(cseqOf));
      assert.equal(cseqs().size, 1, 'the second part waits for the 200 to the first');
      hh.platform.notifyStatus = 200;
      hh.platform.reply(m1, 200, 'OK');
      const deadline = Date.now() + 3000;
      while (cseqs().size < 3 && Date.now() < deadline) await delay(20);
      const byCseq = new Map(hh.platform.received.filter((m) => isNotify(m, callId)).map((m) => [cseqOf(m), m]));
      const notes = [...byCseq.keys()].sort((a, b) => a - b).map((k) => byCseq.get(k) as RawMessage);
      assert.deepEqual(notes.map((m) => items(m).length), [8, 8, 4]);
      assert.ok(notes.every((m) => xmlText(notifyText(m), 'SumNum') === '20'));
      const ids = notes.flatMap((m) => items(m).map((i) => xmlText(i, 'DeviceID')));
      assert.deepEqual(ids, many.map((c) => c.id));
    });

    it('a NOTIFY answered 481 ends the subscription (RFC 6665 §4.2.2)', async () => {
      const { hh, callId } = await catalogSubscribed();
      hh.platform.notifyStatus = 481;
      const p = nextCatalogNotify(hh, callId);
      hh.device.upsertChannel({ id: NEW_ID, name: 'N', online: true });
      await p;
      await hh.device.catalogNotified();
      assert.deepEqual(hh.device.subscriptions(), []);
    });
  });

  it('reports MobilePosition every Interval seconds for channels with a position, and stops when unsubscribed', async () => {
    const list: ChannelDescriptor[] = [
      { id: CH1, name: 'A', online: true, longitude: 116.397128, latitude: 39.916527 },
      { id: '34020000001320000002', name: 'B', online: true },
      { id: '34020000001320000003', name: 'C', online: false, longitude: 121.47, latitude: 31.23 },
    ];
    h = await startHarness({ channels: list });
    const t0 = Date.now();
    const sub = await subscribe(h, { event: 'presence;id=31', expires: 60, body: subscribeBody('MobilePosition', 1, '<Interval>1</Interval>\r\n') });
    assert.equal(sub.response.status, 200);
    const positions = () => h!.platform.received.filter((m) => isNotify(m, sub.callId));
    const deadline = Date.now() + 4000;
    while (positions().length < 4 && Date.now() < deadline) await delay(20);
    const got = positions();
    assert.ok(got.length >= 4, `${got.length} position NOTIFYs`);
    const first = notifyText(got[0]);
    assert.equal(xmlText(first, 'CmdType'), 'MobilePosition');
    assert.equal(xmlText(first, 'DeviceID'), CH1);
    assert.equal(xmlText(first, 'Longitude'), '116.397128');
    assert.equal(xmlText(first, 'Latitude'), '39.916527');
    assert.match(xmlText(first, 'Time') ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    for (const f of ['Speed', 'Direction', 'Altitude']) assert.equal(xmlText(first, f), '0');
    assert.equal(header(got[0], 'event'), 'presence;id=31');
    const ids = got.slice(0, 4).map((m) => xmlText(notifyText(m), 'DeviceID'));
    assert.deepEqual(ids, [CH1, '34020000001320000003', CH1, '34020000001320000003'], 'channels without a position are not reported');
    const firstAt = got[0].receivedAt ?? 0;
    const thirdAt = got[2].receivedAt ?? 0;
    assert.ok(firstAt - t0 < 700, `first report after ${firstAt - t0} ms`);
    assert.ok(thirdAt - firstAt > 800 && thirdAt - firstAt < 1500, `second round ${thirdAt - firstAt} ms after the first`);

    await subscribe(h, { event: 'presence;id=31', expires: 0, body: subscribeBody('MobilePosition', 2), dialog: sub });
    await delay(100);
    const count = positions().length;
    await delay(1300);
    assert.equal(positions().length, count, 'no reports after the unsubscribe');
  });
});
