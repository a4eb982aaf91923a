import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { PlatformEmulator, PlatformSubscription } from '../../lib/sim/platform/platform-emulator';
import { parseWvpIsoTime } from '../../lib/sim/platform/device-notifications';
import { hdr, RawSip, RawSipDevice, startRegisteredRawDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001320000001';
const CH1 = '34020000001320000011';
const CH2 = '34020000001320000012';
const tagOf = (value: string | undefined): string => /;tag=([^;>\s]+)/.exec(value ?? '')?.[1] ?? '';
const xmlField = (m: RawSip, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(iconv.decode(m.body, 'gb18030'))?.[1];

const catalogNotify = (items: string[]): string =>
  `<?xml version="1.0" encoding="GB2312"?>\r\n<Notify>\r\n<CmdType>Catalog</CmdType>\r\n<SN>17</SN>\r\n<DeviceID>${DEVICE_ID}</DeviceID>\r\n<SumNum>${items.length}</SumNum>\r\n<DeviceList Num="${items.length}">\r\n${items.join('\r\n')}\r\n</DeviceList>\r\n</Notify>\r\n`;
const item = (id: string, event?: string, extra = ''): string =>
  `<Item>\r\n<DeviceID>${id}</DeviceID>\r\n${event === undefined ? '' : `<Event>${event}</Event>\r\n`}<Name>大门</Name>\r\n<Status>ON</Status>\r\n${extra}</Item>`;
const alarmBody = (root: 'Notify', time: string, extra = ''): string =>
  `<?xml version="1.0" encoding="GB2312"?>\r\n<${root}>\r\n<CmdType>Alarm</CmdType>\r\n<SN>31</SN>\r\n<DeviceID>${CH1}</DeviceID>\r\n<AlarmPriority>1</AlarmPriority>\r\n<AlarmMethod>5</AlarmMethod>\r\n<AlarmTime>${time}</AlarmTime>\r\n<AlarmDescription>视频丢失</AlarmDescription>\r\n${extra}</${root}>\r\n`;

describe('PlatformEmulator NOTIFY and alarm handling (NotifyRequestProcessor, AlarmNotifyMessageHandler)', function () {
  this.timeout(15_000);
  let platform: PlatformEmulator;
  let device: RawSipDevice;
  const problems: string[] = [];

  beforeEach(async () => {
    problems.length = 0;
    ({ platform, device } = await startRegisteredRawDevice(DEVICE_ID, {}, (p) => p.on('manscdp-problem', (_id, problem) => problems.push(problem))));
  });

  afterEach(async () => {
    device?.close();
    await platform?.stop();
  });

  async function subscribe(kind: 'Catalog' | 'Alarm' | 'MobilePosition'): Promise<{ handle: PlatformSubscription; dialog: { callId: string; platformTag: string; deviceTag: string; event: string } }> {
    const pending = platform.subscribe(DEVICE_ID, kind, { expires: 3600 });
    const req = await device.request('SUBSCRIBE');
    device.reply(req, 200, 'OK', ['Expires: 3600', `Event: ${hdr(req, 'Event')}`]);
    const handle = await pending;
    return { handle, dialog: { callId: hdr(req, 'Call-ID') ?? '', platformTag: tagOf(hdr(req, 'From')), deviceTag: 'dev200', event: hdr(req, 'Event') ?? '' } };
  }

  async function seedCatalog(): Promise<void> {
    const result = platform.queryCatalog(DEVICE_ID, 3000);
    const q = await device.request('MESSAGE');
    device.reply(q, 200, 'OK');
    device.message(`<?xml version="1.0" encoding="GB2312"?><Response><CmdType>Catalog</CmdType><SN>${xmlField(q, 'SN')}</SN><DeviceID>${DEVICE_ID}</DeviceID><SumNum>2</SumNum><DeviceList Num="2">${item(CH1)}${item(CH2)}</DeviceList></Response>`);
    await device.response('MESSAGE');
    await result;
  }

  it('applies Catalog OFF/ON/DEL/ADD notifications in the subscription dialog to the channel status', async () => {
    await seedCatalog();
    assert.equal(platform.channelStatus(DEVICE_ID, CH1), 'ON');
    const { handle, dialog } = await subscribe('Catalog');

    const off = platform.waitForEvent('catalog-notify', undefined, 3000);
    device.notify(catalogNotify([item(CH1, 'OFF')]), { ...dialog, cseq: 1 });
    const ok = await device.response('NOTIFY');
    assert.equal(ok.startLine, 'SIP/2.0 200 OK');
    const [notification] = await off;
    assert.equal(notification.deviceId, DEVICE_ID);
    assert.equal(notification.callId, handle.callId);
    assert.equal(notification.subscription?.kind, 'Catalog');
    assert.deepEqual(notification.changes.map((c) => [c.channelId, c.event, c.item.Name]), [[CH1, 'OFF', '大门']]);
    assert.equal(platform.channelStatus(DEVICE_ID, CH1), 'OFF');
    assert.equal(platform.channelStatus(DEVICE_ID, CH2), 'ON');

    const on = platform.waitForEvent('catalog-notify', undefined, 3000);
    device.notify(catalogNotify([item(CH1, 'ON'), item(CH2, 'VLOST')]), { ...dialog, cseq: 2 });
    await device.response('NOTIFY');
    await on;
    assert.equal(platform.channelStatus(DEVICE_ID, CH1), 'ON');
    assert.equal(platform.channelStatus(DEVICE_ID, CH2), 'OFF');

    const third = '34020000001320000013';
    const changed = platform.waitForEvent('catalog-notify', undefined, 3000);
    const unknown = '34020000001320000099';
    device.notify(catalogNotify([item(CH2, 'DEL'), item(third), item('', 'ADD'), item(CH1, 'BOGUS'), item(unknown, 'ON')]), { ...dialog, cseq: 3 });
    await device.response('NOTIFY');
    const [mixed] = await changed;
    assert.deepEqual(mixed.changes.map((c) => [c.channelId, c.event, c.eventDefaulted]), [[CH2, 'DEL', false], [third, 'ADD', true], [unknown, 'ON', false]]);
    assert.equal(platform.channelStatus(DEVICE_ID, unknown), undefined, 'WVP only updates channels it has');
    assert.ok(problems.some((p) => p.includes(`ON for channel ${unknown}`)), problems.join('; '));
    assert.equal(platform.channelStatus(DEVICE_ID, CH2), undefined);
    assert.equal(platform.channelStatus(DEVICE_ID, third), 'ON');
    assert.deepEqual(platform.channels(DEVICE_ID).map((c) => c.channelId).sort(), [CH1, third].sort());
    assert.ok(problems.some((p) => /without <DeviceID>/.test(p)), problems.join('; '));
    assert.ok(problems.some((p) => /unknown Event "BOGUS"/.test(p)), problems.join('; '));
  });

  it('records an Alarm NOTIFY as WVP reads it (type and description from <Info>) and drops one with a non-ISO AlarmTime', async () => {
    const { dialog } = await subscribe('Alarm');
    const got = platform.waitForEvent('alarm', undefined, 3000);
    const info = '<Info>\r\n<AlarmType>1</AlarmType>\r\n<AlarmTypeParam>\r\n<AlarmDescription>通道信号丢失</AlarmDescription>\r\n</AlarmTypeParam>\r\n</Info>\r\n';
    device.notify(alarmBody('Notify', '2024-03-01T08:09:10', `<Longitude>116.5</Longitude>\r\n<Latitude>39.9</Latitude>\r\n${info}`), dialog);
    assert.equal((await device.response('NOTIFY')).startLine, 'SIP/2.0 200 OK');
    const [alarm] = await got;
    assert.equal(alarm.deviceId, DEVICE_ID);
    assert.equal(alarm.channelId, CH1);
    assert.equal(alarm.priority, 1);
    assert.equal(alarm.method, 5);
    assert.equal(alarm.type, 1);
    assert.equal(alarm.description, '通道信号丢失');
    assert.equal(alarm.timeMs, new Date(2024, 2, 1, 8, 9, 10).getTime());
    assert.equal(alarm.longitude, 116.5);
    assert.equal(alarm.via, 'notify');

    const problem = platform.waitForEvent('manscdp-problem', (_id, p) => /AlarmTime/.test(p), 3000);
    device.notify(alarmBody('Notify', '2024-03-01 08:09:10'), { ...dialog, cseq: 2 });
    assert.equal((await device.response('NOTIFY')).startLine, 'SIP/2.0 200 OK', 'WVP answers 200 before parsing');
    await problem;
    assert.equal(platform.alarms(DEVICE_ID).length, 1);
  });

  it('answers an Alarm MESSAGE <Notify> with 200 only (no <Response> MESSAGE) and keeps it; a top-level AlarmType with an empty <Info> loses the type', async () => {
    const got = platform.waitForEvent('alarm', undefined, 3000);
    device.message(alarmBody('Notify', '2024-03-01T08:09:10.123+08:00', '<AlarmType>2</AlarmType>\r\n<Info>\r\n</Info>\r\n'));
    assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 200 OK');
    const [alarm] = await got;
    assert.equal(alarm.via, 'message');
    assert.equal(alarm.type, undefined);
    assert.equal(alarm.timeMs, Date.UTC(2024, 2, 1, 0, 9, 10, 123));
    assert.ok(problems.some((p) => /AlarmType> at top level/.test(p)), problems.join('; '));
    await assert.rejects(device.request('MESSAGE', 400), /nothing matching/, 'WVP sends no response MESSAGE to an alarm');
    assert.deepEqual(platform.alarms().map((a) => a.description), ['视频丢失']);
    platform.clearAlarms(DEVICE_ID);
    assert.deepEqual(platform.alarms(), []);
  });

  it('reads MobilePosition NOTIFYs, flags a non-numeric longitude, ignores NOTIFYs of offline devices and ends on Subscription-State: terminated', async () => {
    const { handle, dialog } = await subscribe('MobilePosition');
    const pos = platform.waitForEvent('mobile-position', undefined, 3000);
    const mp = (lon: string): string => `<?xml version="1.0" encoding="GB2312"?><Notify><CmdType>MobilePosition</CmdType><SN>5</SN><DeviceID>${CH1}</DeviceID><Time>2024-03-01T08:09:10</Time><Longitude>${lon}</Longitude><Latitude>39.9</Latitude><Speed>1.5</Speed><Direction>x</Direction></Notify>`;
    device.notify(mp('116.25'), { ...dialog, event: 'presence', cseq: 1 });
    await device.response('NOTIFY');
    const [report] = await pos;
    assert.deepEqual([report.channelId, report.longitude, report.latitude, report.speed, report.direction, report.altitude], [CH1, 116.25, 39.9, 1.5, 0, 0]);
    assert.equal(platform.positions(DEVICE_ID).length, 1);

    const flagged = platform.waitForEvent('manscdp-problem', (_id, p) => /Longitude not a number/.test(p), 3000);
    device.notify(mp('east'), { ...dialog, cseq: 2 });
    await device.response('NOTIFY');
    await flagged;
    assert.equal(platform.positions().length, 1);

    const ended = platform.waitForEvent('subscription', (c) => c === 'terminated', 3000);
    device.notify(mp('116.3'), { ...dialog, cseq: 3, subscriptionState: 'terminated;reason=noresource' });
    await device.response('NOTIFY');
    await ended;
    assert.equal(handle.state, 'terminated');

    const stranger = '34020000001320000999';
    const ignored = platform.waitForEvent('manscdp-problem', (id) => id === stranger, 3000);
    device.notify(catalogNotify([item(CH1, 'OFF')]), { ...dialog, cseq: 4, deviceId: stranger });
    assert.equal((await device.response('NOTIFY')).startLine, 'SIP/2.0 200 OK');
    assert.match((await ignored)[1], /not online/);
  });
});

describe('WVP AlarmTime reading (DateUtil#ISO8601Toyyyy_MM_dd_HH_mm_ss)', () => {
  it('accepts yyyy-MM-ddTHH:mm:ss with optional millis and zone, reads zone-less times in the platform zone, refuses other forms', () => {
    assert.equal(parseWvpIsoTime('2024-03-01T08:09:10', 'Asia/Shanghai'), Date.UTC(2024, 2, 1, 0, 9, 10));
    assert.equal(parseWvpIsoTime('2024-07-01T08:09:10.500', 'Europe/Berlin'), Date.UTC(2024, 6, 1, 6, 9, 10, 500));
    assert.equal(parseWvpIsoTime('2024-03-01T08:09:10Z', 'Asia/Shanghai'), Date.UTC(2024, 2, 1, 8, 9, 10));
    assert.equal(parseWvpIsoTime('2024-03-01T08:09:10-05:30'), Date.UTC(2024, 2, 1, 13, 39, 10));
    assert.equal(parseWvpIsoTime('2024-03-01T08:09:10'), new Date(2024, 2, 1, 8, 9, 10).getTime());
    for (const bad of ['2024-03-01 08:09:10', '2024-03-01T08:09:10+0800', '2024-03-01T08:09:10.5', '20240301T080910', '2024-3-1T8:09:10', '']) assert.equal(parseWvpIsoTime(bad), undefined, bad);
  });
});
