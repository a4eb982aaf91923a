import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { hdr, RawSip, RawSipDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001320000001';
const xmlField = (m: RawSip, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(iconv.decode(m.body, 'gb18030'))?.[1];

function catalogPart(sn: string, sumNum: number, items: Array<[string, string]>): string {
  const list = items.map(([id, name]) => `<Item>\r\n<DeviceID>${id}</DeviceID>\r\n<Name>${name}</Name>\r\n<Manufacturer>Test</Manufacturer>\r\n<ParentID>${DEVICE_ID}</ParentID>\r\n<Status>ON</Status>\r\n<Info>\r\n<PTZType>1</PTZType>\r\n</Info>\r\n</Item>`).join('\r\n');
  return `<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>Catalog</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${DEVICE_ID}</DeviceID>\r\n<SumNum>${sumNum}</SumNum>\r\n<DeviceList Num="${items.length}">\r\n${list}\r\n</DeviceList>\r\n</Response>\r\n`;
}

describe('PlatformEmulator MANSCDP queries (SIPCommander + response handlers)', function () {
  this.timeout(15_000);
  let platform: PlatformEmulator;
  let device: RawSipDevice;

  afterEach(async () => {
    device?.close();
    await platform?.stop();
  });

  async function setup(autoQuery: boolean): Promise<void> {
    platform = new PlatformEmulator({ autoQuery, charset: 'GB2312' });
    const { port } = await platform.start();
    device = new RawSipDevice(DEVICE_ID, port);
    await device.start();
  }

  it('aggregates a catalog over several MESSAGEs by SN until SumNum and decodes a GB2312 Chinese name', async () => {
    await setup(false);
    await device.registerFully(undefined);
    const result = platform.queryCatalog(DEVICE_ID, 5000);
    const query = await device.request('MESSAGE');
    assert.equal(query.startLine, `MESSAGE sip:${DEVICE_ID}@127.0.0.1:${device.port} SIP/2.0`);
    assert.equal(hdr(query, 'Content-Type'), 'Application/MANSCDP+xml');
    assert.equal(Number(hdr(query, 'Content-Length')), query.body.length);
    assert.match(hdr(query, 'From') ?? '', /^<sip:34020000002000000001@3402000000>;tag=/);
    assert.match(hdr(query, 'Via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;rport;branch=z9hG4bK/);
    const body = query.body.toString('latin1');
    assert.match(body, /^<\?xml version="1\.0" encoding="GB2312"\?>\r\n<Query>\r\n<CmdType>Catalog<\/CmdType>\r\n<SN>\d{6}<\/SN>\r\n<DeviceID>34020000001320000001<\/DeviceID>\r\n<\/Query>\r\n$/);
    device.reply(query, 200, 'OK');
    const sn = xmlField(query, 'SN') ?? '';

    const ids = [1, 2, 3, 4, 5].map((i) => `3402000000132000000${i}`);
    device.message(catalogPart(sn, 5, [[ids[0], '前门摄像机'], [ids[1], 'Gate 2']]));
    await device.response('MESSAGE');
    device.message(catalogPart('999999', 1, [['34020000001320000077', 'other SN']])); // not ours: ignored
    await device.response('MESSAGE');
    device.message(catalogPart(sn, 5, [[ids[2], '后门'], [ids[3], 'Yard']]));
    await device.response('MESSAGE');
    device.message(catalogPart(sn, 5, [[ids[4], '停车场']]));
    await device.response('MESSAGE');

    const catalog = await result;
    assert.equal(catalog.sumNum, 5);
    assert.equal(catalog.messages, 3);
    assert.equal(catalog.sn, Number(sn));
    assert.deepEqual(catalog.items.map((i) => i.DeviceID), ids);
    assert.deepEqual(catalog.items.map((i) => i.Name), ['前门摄像机', 'Gate 2', '后门', 'Yard', '停车场']);
    assert.equal(catalog.items[0]['Info.PTZType'], '1');
    assert.equal(catalog.items[0].Status, 'ON');
  });

  it('queries DeviceInfo, ConfigDownload/BasicParam and Catalog on its own after a first registration', async () => {
    await setup(true);
    await device.registerFully(undefined);
    const info = await device.request('MESSAGE');
    assert.equal(xmlField(info, 'CmdType'), 'DeviceInfo');
    device.reply(info, 200, 'OK');
    device.message(`<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>DeviceInfo</CmdType>\r\n<SN>${xmlField(info, 'SN')}</SN>\r\n<DeviceID>${DEVICE_ID}</DeviceID>\r\n<DeviceName>网关</DeviceName>\r\n<Manufacturer>Acme</Manufacturer>\r\n<Result>OK</Result>\r\n</Response>\r\n`);
    await device.response('MESSAGE');

    const cfg = await device.request('MESSAGE');
    assert.equal(xmlField(cfg, 'CmdType'), 'ConfigDownload');
    assert.equal(xmlField(cfg, 'ConfigType'), 'BasicParam');
    device.reply(cfg, 200, 'OK');
    device.message(`<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>ConfigDownload</CmdType>\r\n<SN>${xmlField(cfg, 'SN')}</SN>\r\n<DeviceID>${DEVICE_ID}</DeviceID>\r\n<Result>OK</Result>\r\n<BasicParam>\r\n<Name>gw</Name>\r\n<Expiration>3600</Expiration>\r\n<HeartBeatInterval>60</HeartBeatInterval>\r\n<HeartBeatCount>3</HeartBeatCount>\r\n</BasicParam>\r\n</Response>\r\n`);
    await device.response('MESSAGE');

    const cat = await device.request('MESSAGE');
    assert.equal(xmlField(cat, 'CmdType'), 'Catalog');
    device.reply(cat, 200, 'OK');
    const stored = platform.waitForEvent('auto-query', (id, q) => id === DEVICE_ID && q === 'Catalog', 3000);
    device.message(catalogPart(xmlField(cat, 'SN') ?? '', 0, []));
    await device.response('MESSAGE');
    const [, , error] = await stored;
    assert.equal(error, undefined);
    const dev = platform.devices()[0];
    assert.equal(dev.deviceInfo?.DeviceName, '网关');
    assert.equal(dev.basicParam?.HeartBeatInterval, '60');
    assert.equal(dev.basicParam?.HeartBeatCount, '3');
    assert.equal(dev.catalog?.sumNum, 0);
  });

  it('sends PTZ DeviceControl with ControlPriority 5, and RecordInfo with WVP fields, deduplicating by Start+End', async () => {
    await setup(false);
    await device.registerFully(undefined);
    const channel = '34020000001320000002';
    const control = platform.sendDeviceControl(DEVICE_ID, channel, { PTZCmd: 'A50F0101001F0004' });
    const ptz = await device.request('MESSAGE');
    const text = ptz.body.toString('latin1');
    assert.match(text, /<Control>\r\n<CmdType>DeviceControl<\/CmdType>\r\n<SN>\d+<\/SN>\r\n<DeviceID>34020000001320000002<\/DeviceID>\r\n<PTZCmd>A50F0101001F0004<\/PTZCmd>\r\n<Info>\r\n<ControlPriority>5<\/ControlPriority>\r\n<\/Info>\r\n<\/Control>/);
    device.reply(ptz, 200, 'OK');
    assert.deepEqual(await control, { status: 200, response: undefined, outcome: 'sent' });

    const records = platform.queryRecordInfo(DEVICE_ID, channel, '2024-02-21T00:00:00', '2024-02-21T23:59:59', 5000);
    const q = await device.request('MESSAGE');
    assert.equal(xmlField(q, 'DeviceID'), channel);
    assert.equal(xmlField(q, 'StartTime'), '2024-02-21T00:00:00');
    assert.equal(xmlField(q, 'Type'), 'all');
    device.reply(q, 200, 'OK');
    const item = (s: string, e: string): string => `<Item><DeviceID>${channel}</DeviceID><Name>cam</Name><StartTime>${s}</StartTime><EndTime>${e}</EndTime><Secrecy>0</Secrecy><Type>time</Type></Item>`;
    const part = (items: string[]): string => `<?xml version="1.0" encoding="GB2312"?><Response><CmdType>RecordInfo</CmdType><SN>${xmlField(q, 'SN')}</SN><DeviceID>${channel}</DeviceID><SumNum>2</SumNum><RecordList Num="${items.length}">${items.join('')}</RecordList></Response>`;
    const problem = platform.waitForEvent('manscdp-problem', undefined, 3000);
    device.message(part([item('2024-02-21T01:00:00', '2024-02-21T02:00:00'), item('2024-02-21T01:00:00', '2024-02-21T02:00:00')]));
    await device.response('MESSAGE');
    await problem; // duplicate inside one MESSAGE: WVP drops that MESSAGE
    device.message(part([item('2024-02-21T01:00:00', '2024-02-21T02:00:00')]));
    await device.response('MESSAGE');
    device.message(part([item('2024-02-21T01:00:00', '2024-02-21T02:00:00'), item('2024-02-21T03:00:00', '2024-02-21T04:00:00')]));
    await device.response('MESSAGE');
    const result = await records;
    assert.equal(result.sumNum, 2);
    assert.deepEqual(result.items.map((i) => i.StartTime), ['2024-02-21T01:00:00', '2024-02-21T03:00:00']);
    assert.equal(result.messages, 3);
  });

  it('fails a query whose MESSAGE gets no answer within sipTimeoutMs or a non-2xx answer, and refuses unknown devices', async () => {
    await setup(false);
    await device.registerFully(undefined);
    const started = Date.now();
    const silent = platform.queryDeviceInfo(DEVICE_ID, 5000);
    await assert.rejects(silent, (e: Error & { code?: string }) => e.code === 'PLATFORM_REQUEST_TIMEOUT');
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 2500, `gave up after ${elapsed} ms`);

    const refused = platform.queryDeviceStatus(DEVICE_ID, 5000);
    const q = await device.next((m) => m.startLine.startsWith('MESSAGE ') && xmlField(m, 'CmdType') === 'DeviceStatus');
    device.reply(q, 404, 'Not Found');
    await assert.rejects(refused, (e: Error & { code?: string }) => e.code === 'PLATFORM_QUERY_REJECTED');
    await assert.rejects(platform.queryCatalog('34020000001320000999'), (e: Error & { code?: string }) => e.code === 'PLATFORM_UNKNOWN_DEVICE');
  });
});
