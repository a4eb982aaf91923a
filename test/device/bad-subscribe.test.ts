/**
 * Hostile input for the subscription, alarm and control surfaces: each bad SUBSCRIBE, NOTIFY or
 * DeviceControl gets a clear answer, nothing piles up, and the device still answers a Catalog
 * query right after every case.
 */
import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { DEVICE_ID } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { delay, header, manscdpQuery, RawMessage, RawSipPlatform, xmlText } from './raw-sip-platform';
import { isNotify, notifyText, subscribe, subscribeBody } from './subscribe-client';
import { channels } from './device-fixture';

const CH = '34020000001320000001';
const MANSCDP = 'Application/MANSCDP+xml';

interface Case {
  name: string;
  expect: number;
  stranger?: boolean;
  build: (p: RawSipPlatform, deviceUri: string) => { data: Buffer; callId: string };
  check?: (r: RawMessage, h: Harness) => void;
}

function sub(extra: string[], body?: Buffer | string, opts: { toTag?: string; contentType?: string } = {}) {
  return (p: RawSipPlatform, uri: string) =>
    p.request('SUBSCRIBE', uri, {
      extra,
      toTag: opts.toTag,
      contentType: body === undefined ? undefined : (opts.contentType ?? MANSCDP),
      body: body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'latin1') : body,
    });
}

function control(inner: string, deviceId = CH) {
  return (p: RawSipPlatform, uri: string) =>
    p.request('MESSAGE', uri, { contentType: MANSCDP, body: Buffer.from(`<?xml version="1.0"?><Control><CmdType>DeviceControl</CmdType><SN>7</SN><DeviceID>${deviceId}</DeviceID>${inner}</Control>`, 'latin1') });
}

const CATALOG_BODY = subscribeBody('Catalog', 1);
const CASES: Case[] = [
  { name: 'SUBSCRIBE without Event', expect: 400, build: sub(['Expires: 60'], CATALOG_BODY) },
  { name: 'SUBSCRIBE with an empty Event', expect: 400, build: sub(['Event: ', 'Expires: 60'], CATALOG_BODY) },
  {
    name: 'SUBSCRIBE for an unknown event package (dialog)',
    expect: 489,
    build: sub(['Event: dialog;id=1', 'Expires: 60'], CATALOG_BODY),
    check: (r) => assert.match(header(r, 'allow-events') ?? '', /Catalog/),
  },
  { name: 'Expires: -1', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: -1'], CATALOG_BODY) },
  { name: 'Expires: abc', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: abc'], CATALOG_BODY) },
  { name: 'Expires: 1e3', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: 1e3'], CATALOG_BODY) },
  {
    name: 'Expires: huge (20 digits): granted, capped at a day',
    expect: 200,
    build: sub(['Event: Catalog;id=2', 'Expires: 99999999999999999999'], CATALOG_BODY),
    check: (r) => assert.ok(Number(header(r, 'expires')) <= 86400 && Number(header(r, 'expires')) > 0, header(r, 'expires')),
  },
  { name: 'Expires: 21 digits', expect: 400, build: sub(['Event: Catalog;id=1', `Expires: ${'9'.repeat(21)}`], CATALOG_BODY) },
  { name: 'Event Catalog with an empty body (the device\'s catalog)', expect: 200, build: sub(['Event: Catalog;id=3', 'Expires: 60']) },
  { name: 'presence with an empty body: accepted, nothing sent', expect: 200, build: sub(['Event: presence;id=4', 'Expires: 60']) },
  { name: 'non-XML body', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: 60'], 'hello, device', { contentType: 'text/plain' }) },
  { name: 'binary body', expect: 400, build: sub(['Event: presence;id=1', 'Expires: 60'], Buffer.from([0x00, 0xff, 0x3c, 0x81, 0x90])) },
  { name: 'XML with a DOCTYPE', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: 60'], `<?xml version="1.0"?><!DOCTYPE q><Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>${DEVICE_ID}</DeviceID></Query>`) },
  { name: 'oversized body (60 KB of junk text)', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: 60'], `<Query>${'x'.repeat(60000)}`) },
  {
    name: 'declared UTF-8 but GB2312 bytes (decodes as GB): accepted',
    expect: 200,
    build: sub(['Event: presence;id=5', 'Expires: 60'], iconv.encode(`<?xml version="1.0" encoding="UTF-8"?><Query><CmdType>Alarm</CmdType><SN>5</SN><DeviceID>${DEVICE_ID}</DeviceID><Note>北门</Note></Query>`, 'gbk')),
  },
  { name: 'Event Catalog but body CmdType Alarm', expect: 400, build: sub(['Event: Catalog;id=1', 'Expires: 60'], subscribeBody('Alarm', 1)) },
  { name: 'body DeviceID we do not have', expect: 404, build: sub(['Event: Catalog;id=1', 'Expires: 60'], subscribeBody('Catalog', 1, '', '34020000001110009999')) },
  { name: 'MobilePosition for a channel we do not have', expect: 404, build: sub(['Event: presence;id=1', 'Expires: 60'], subscribeBody('MobilePosition', 1, '<Interval>5</Interval>', '34020000001329999999')) },
  { name: 'MobilePosition with Interval garbage (taken as 5 s)', expect: 200, build: sub(['Event: presence;id=6', 'Expires: 60'], subscribeBody('MobilePosition', 1, '<Interval>-abc</Interval>', CH)) },
  { name: 'refresh of a dialog we never had (adopted, notes §8.7)', expect: 200, build: sub(['Event: Catalog;id=7', 'Expires: 60'], CATALOG_BODY, { toTag: 'ghost' }) },
  { name: 'SUBSCRIBE from a stranger (other address and ID)', expect: 403, stranger: true, build: sub(['Event: Catalog;id=1', 'Expires: 60'], CATALOG_BODY) },
  { name: 'NOTIFY from the platform (we never subscribe)', expect: 481, build: (p, u) => p.request('NOTIFY', u, { toTag: 'x', extra: ['Event: Catalog', 'Subscription-State: active'], contentType: MANSCDP, body: subscribeBody('Catalog', 1) }) },
  { name: 'NOTIFY from a stranger', expect: 403, stranger: true, build: (p, u) => p.request('NOTIFY', u, { extra: ['Event: Catalog'] }) },
  { name: 'AlarmCmd with an unknown value', expect: 400, build: control('<AlarmCmd>Boom</AlarmCmd>') },
  { name: 'AlarmCmd empty', expect: 400, build: control('<AlarmCmd></AlarmCmd>') },
  { name: 'GuardCmd with an unknown value', expect: 400, build: control('<GuardCmd>Sometimes</GuardCmd>') },
  { name: 'RecordCmd in lower case', expect: 400, build: control('<RecordCmd>record</RecordCmd>') },
  { name: 'RecordCmd for a channel we do not have', expect: 404, build: control('<RecordCmd>Record</RecordCmd>', '34020000001329999999') },
  { name: 'PresetQuery for a channel we do not have', expect: 404, build: (p, u) => p.request('MESSAGE', u, { contentType: MANSCDP, body: manscdpQuery('PresetQuery', 3, '34020000001329999999') }) },
];

/** The device answers a Catalog query: 200, then a Response with the same SN and SumNum. */
async function catalogStillAnswered(h: Harness, sn: number): Promise<void> {
  const since = h.platform.received.length;
  const q = h.platform.request('MESSAGE', h.deviceUri, { contentType: MANSCDP, body: manscdpQuery('Catalog', sn, DEVICE_ID) });
  assert.equal((await h.ask(q.data, q.callId, 1500)).status, 200);
  const answer = await h.platform.waitFor((m) => m.method === 'MESSAGE' && xmlText(iconv.decode(m.body, 'gbk'), 'SN') === String(sn), 2000, since);
  assert.equal(xmlText(iconv.decode(answer.body, 'gbk'), 'SumNum'), String(h.device.channels().length));
}

describe('hostile input: subscriptions, NOTIFY, alarm and record controls', function () {
  this.timeout(60000);

  describe('table', () => {
    let h: Harness;
    let stranger: RawSipPlatform;
    let sn = 1000;

    before(async () => {
      h = await startHarness({ channels: channels(3) });
      stranger = new RawSipPlatform('127.0.0.2', '34020000002000000099');
      await stranger.start();
    });

    after(async () => {
      await h.close();
      await stranger.close();
    });

    for (const c of CASES) {
      it(`${c.name} → ${c.expect}`, async () => {
        const from = c.stranger ? stranger : h.platform;
        const port = h.device.localSipPort();
        const { data, callId } = c.build(from, h.deviceUri);
        const since = from.received.length;
        from.sendTo(data, { address: '127.0.0.1', port });
        const r = await from.waitFor((m) => m.status !== undefined && m.status >= 200 && header(m, 'call-id') === callId, 2000, since);
        assert.equal(r.status, c.expect, `${r.status} ${r.reason}`);
        if (r.status >= 400) assert.ok((r.reason ?? '').length > 3, 'a reason phrase');
        c.check?.(r, h);
        assert.ok(h.device.subscriptions().length <= 12, `${h.device.subscriptions().length} subscriptions`);
        await catalogStillAnswered(h, ++sn);
      });
    }
  });

  describe('floods and a silent platform', () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.close();
      h = undefined;
    });

    it('a burst of 200 SUBSCRIBEs per kind (new dialogs, other From users) keeps at most 4 per kind, every one answered', async () => {
      h = await startHarness({ channels: channels(3).map((c, i) => ({ ...c, longitude: 120 + i, latitude: 30 })) });
      const hh = h;
      const port = hh.device.localSipPort();
      const kinds: Array<[string, Buffer]> = [
        ['Catalog', subscribeBody('Catalog', 1)],
        ['presence', subscribeBody('Alarm', 1)],
        ['presence', subscribeBody('MobilePosition', 1, '<Interval>1</Interval>')],
      ];
      const since = hh.platform.received.length;
      const callIds: string[] = [];
      const sent = new Map<string, Buffer>();
      for (let i = 0; i < 200; i++) {
        for (const [event, body] of kinds) {
          const r = hh.platform.request('SUBSCRIBE', hh.deviceUri, { fromUser: `3402000000200000${String(i).padStart(4, '0')}`, extra: [`Event: ${event};id=${i}`, 'Expires: 600'], contentType: MANSCDP, body });
          callIds.push(r.callId);
          sent.set(r.callId, r.data);
          hh.platform.sendTo(r.data, { address: '127.0.0.1', port });
        }
        if (i % 20 === 19) await delay(10);
      }
      const want = new Set(callIds);
      const deadline = Date.now() + 8000;
      const answered = () => new Set(hh.platform.received.slice(since).filter((m) => m.status === 200 && (header(m, 'cseq') ?? '').endsWith('SUBSCRIBE')).map((m) => header(m, 'call-id') ?? ''));
      let rounds = 0;
      while ([...want].some((c) => !answered().has(c)) && Date.now() < deadline) {
        await delay(500);
        // What a UDP client does (RFC 3261 §17.1.2.2, Timer E): resend what got no answer; the kernel may drop part of a burst.
        const got = answered();
        for (const c of callIds) if (!got.has(c)) hh.platform.sendTo(sent.get(c) as Buffer, { address: '127.0.0.1', port });
        rounds++;
      }
      console.log(`      (burst answered after ${rounds} resend rounds)`);
      assert.equal([...want].filter((c) => answered().has(c)).length, 600, 'every SUBSCRIBE answered 200');
      const subs = hh.device.subscriptions();
      for (const kind of ['Catalog', 'Alarm', 'MobilePosition']) {
        const n = subs.filter((s) => s.kind === kind).length;
        assert.ok(n >= 1 && n <= 4, `${kind}: ${n} subscriptions kept`);
      }
      // The kept ones are the newest: the last MobilePosition SUBSCRIBE the device answered is among them.
      const mp = new Set(callIds.filter((_, i) => i % 3 === 2));
      const order = hh.platform.received.slice(since).filter((m) => m.status === 200 && mp.has(header(m, 'call-id') ?? '')).map((m) => header(m, 'call-id') ?? '');
      const lastAnswered = order.filter((c, i) => order.indexOf(c) === i).pop();
      assert.ok(subs.some((s) => s.callId === lastAnswered), 'newest kept');
      await catalogStillAnswered(hh, 77);
    });

    it('a platform that never answers one subscription\'s NOTIFYs: no pile-up, other NOTIFYs flow, the silent one ends', async () => {
      h = await startHarness({ channels: channels(3).map((c, i) => ({ ...c, longitude: 120 + i, latitude: 30 })), device: { notifyTimeoutMs: 600, catalogNotifyDelayMs: 20 } });
      const hh = h;
      const pos = await subscribe(hh, { event: 'presence;id=1', expires: 600, body: subscribeBody('MobilePosition', 1, '<Interval>1</Interval>') });
      const silent = pos.callId;
      hh.platform.notifyAnswer = (m) => (header(m, 'call-id') === silent ? 0 : 200);
      const cat = await subscribe(hh, { event: 'Catalog;id=2', expires: 600, body: subscribeBody('Catalog', 2) });
      assert.equal(cat.response.status, 200);
      const ended = new Promise<number>((resolve) => {
        const t0 = Date.now();
        hh.device.on('subscription', (kind: string, phase: string) => {
          if (kind === 'MobilePosition' && phase === 'end') resolve(Date.now() - t0);
        });
      });
      // While the MobilePosition NOTIFYs go unanswered, a catalog change still reaches the Catalog subscriber at once.
      await delay(300);
      const since = hh.platform.received.length;
      const changedAt = Date.now();
      hh.device.upsertChannel({ ...hh.device.channels()[0], name: 'renamed' });
      const n = await hh.platform.waitFor((m) => isNotify(m, cat.callId), 1500, since);
      assert.ok(Date.now() - changedAt < 1000, 'Catalog NOTIFY not held up');
      assert.match(notifyText(n), /<Event>UPDATE<\/Event>/);
      const endedAfter = await Promise.race([ended, delay(6000).then(() => -1)]);
      assert.ok(endedAfter > 0, 'the silent subscription ended');
      assert.deepEqual(hh.device.subscriptions().map((s) => s.kind), ['Catalog']);
      // Bounded: one NOTIFY transaction at a time (a skipped tick while busy), so few distinct CSeqs.
      const cseqs = new Set(hh.platform.received.filter((m) => isNotify(m, silent)).map((m) => header(m, 'cseq')));
      assert.ok(cseqs.size <= 3, `${cseqs.size} NOTIFYs to the silent subscriber`);
      // Nothing more goes to it.
      const after = hh.platform.received.length;
      await delay(1500);
      assert.equal(hh.platform.received.slice(after).filter((m) => isNotify(m, silent)).length, 0);
      // Its refresh is adopted again and the reports resume once the platform answers.
      hh.platform.notifyAnswer = undefined;
      const again = await subscribe(hh, { event: 'presence;id=1', expires: 600, body: subscribeBody('MobilePosition', 3, '<Interval>1</Interval>'), dialog: pos });
      assert.equal(again.response.status, 200);
      await hh.platform.next((m) => isNotify(m, silent), 2500);
      await catalogStillAnswered(hh, 78);
    });
  });
});

describe('hostile input over TCP: a SUBSCRIBE body over the MANSCDP size limit', function () {
  this.timeout(20000);
  let h: Harness | undefined;
  after(async () => {
    await h?.close();
  });

  it('70 KB body → 413, and the connection still carries a Catalog query', async () => {
    h = await startHarness({ tcp: true, channels: channels(3) });
    const big = Buffer.from(`<?xml version="1.0"?><Query><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>${DEVICE_ID}</DeviceID><Pad>${'x'.repeat(70000)}</Pad></Query>`, 'latin1');
    const { data, callId } = h.platform.request('SUBSCRIBE', h.deviceUri, { transport: 'TCP', extra: ['Event: Catalog;id=1', 'Expires: 60'], contentType: MANSCDP, body: big });
    const r = await h.ask(data, callId, 3000);
    assert.equal(r.status, 413, `${r.status} ${r.reason}`);
    assert.deepEqual(h.device.subscriptions(), []);
    const q = h.platform.request('MESSAGE', h.deviceUri, { transport: 'TCP', contentType: MANSCDP, body: manscdpQuery('Catalog', 5, DEVICE_ID) });
    assert.equal((await h.ask(q.data, q.callId, 1500)).status, 200);
  });
});
