import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { DeviceControlEvent } from '../../lib/device/gb-device';
import { DEVICE_ID } from './device-fixture';
import { Harness, startHarness } from './device-harness';
import { delay, header, manscdpQuery, RawMessage, xmlAll, xmlText } from './raw-sip-platform';

const CHANNEL_1 = '34020000001320000001';

describe('device answers the platform\'s queries', function () {
  this.timeout(15000);
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function query(cmdType: string, sn: number, deviceId = DEVICE_ID, extra = ''): Promise<{ ok: RawMessage; sentAt: number }> {
    const hh = h as Harness;
    const { data, callId } = hh.platform.request('MESSAGE', hh.deviceUri, { contentType: 'Application/MANSCDP+xml', body: manscdpQuery(cmdType, sn, deviceId, extra) });
    const sentAt = Date.now();
    const ok = await hh.ask(data, callId, 1000);
    return { ok, sentAt };
  }

  function answers(cmdType: string, sn: number, count: number, timeoutMs = 2000, charset = 'gbk'): Promise<string[]> {
    const hh = h as Harness;
    const deadline = Date.now() + timeoutMs;
    return (async () => {
      for (;;) {
        const found = hh.platform.received
          .filter((m) => m.method === 'MESSAGE')
          .map((m) => iconv.decode(m.body, charset))
          .filter((x) => xmlText(x, 'CmdType') === cmdType && xmlText(x, 'SN') === String(sn) && x.includes('<Response>'));
        if (found.length >= count) return found;
        if (Date.now() > deadline) throw new Error(`${found.length}/${count} ${cmdType} answers`);
        await delay(20);
      }
    })();
  }

  for (const charset of ['GB2312', 'UTF-8'] as const) {
    it(`sends a catalog of 20 Chinese-named channels in 3 MESSAGEs, SumNum 20, ${charset}`, async () => {
      h = await startHarness({ platform: { charset } });
      const { ok } = await query('Catalog', 11);
      assert.equal(ok.status, 200);
      const parts = await answers('Catalog', 11, 3, 3000, charset === 'UTF-8' ? 'utf8' : 'gbk');
      assert.equal(parts.length, 3);
      const names: string[] = [];
      for (const p of parts) {
        assert.match(p, new RegExp(`encoding="${charset}"`));
        assert.equal(xmlText(p, 'SumNum'), '20');
        assert.equal(xmlText(p, 'DeviceID'), DEVICE_ID);
        for (const item of xmlAll(p, 'Item')) names.push(xmlText(item, 'Name') ?? '');
      }
      assert.equal(names.length, 20);
      for (let i = 1; i <= 20; i++) assert.ok(names.includes(`摄像机${i}号 北门`), `name ${i}`);
      const msg = h.platform.received.find((m) => m.method === 'MESSAGE' && m.body.includes(Buffer.from('<SumNum>')));
      assert.equal(header(msg as RawMessage, 'content-type'), 'Application/MANSCDP+xml');
    });
  }

  it('sends the next catalog part only after the 200 to the previous one', async () => {
    h = await startHarness();
    h.platform.autoAnswerMessages = false;
    await query('Catalog', 12);
    const first = await h.platform.next((m) => m.method === 'MESSAGE' && m.body.includes(Buffer.from('Catalog')));
    await delay(400);
    const catalogMsgs = () => h!.platform.received.filter((m) => m.method === 'MESSAGE' && m.body.includes(Buffer.from('<SumNum>20')));
    const distinct = new Set(catalogMsgs().map((m) => header(m, 'call-id')));
    assert.equal(distinct.size, 1, 'second part waits for the 200');
    h.platform.reply(first, 200, 'OK');
    const second = await h.platform.next((m) => m.method === 'MESSAGE' && m.body.includes(Buffer.from('<SumNum>20')) && header(m, 'call-id') !== header(first, 'call-id'));
    h.platform.autoAnswerMessages = true;
    h.platform.reply(second, 200, 'OK');
    await answers('Catalog', 12, 3);
  });

  it('answers DeviceInfo, DeviceStatus and ConfigDownload/BasicParam within 1 s with real values', async () => {
    h = await startHarness({ platform: { keepaliveInterval: 45, keepaliveCount: 4 } });
    for (const [cmd, sn, extra] of [['DeviceInfo', 21, ''], ['DeviceStatus', 22, ''], ['ConfigDownload', 23, '<ConfigType>BasicParam</ConfigType>\r\n']] as const) {
      const { ok, sentAt } = await query(cmd, sn, DEVICE_ID, extra);
      assert.equal(ok.status, 200);
      assert.ok(Date.now() - sentAt < 1000);
      const [x] = await answers(cmd, sn, 1, 1000);
      assert.ok(Date.now() - sentAt < 1000, `${cmd} answered within 1 s`);
      if (cmd === 'DeviceInfo') {
        assert.equal(xmlText(x, 'DeviceName'), '测试网关');
        assert.equal(xmlText(x, 'Manufacturer'), 'TestMaker');
        assert.equal(xmlText(x, 'Model'), 'GW-1');
        assert.equal(xmlText(x, 'Firmware'), '1.0.0');
        assert.equal(xmlText(x, 'Channel'), '20');
        assert.equal(xmlText(x, 'Result'), 'OK');
      } else if (cmd === 'DeviceStatus') {
        assert.equal(xmlText(x, 'Online'), 'ONLINE');
        assert.equal(xmlText(x, 'Status'), 'OK');
        assert.match(xmlText(x, 'DeviceTime') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      } else {
        assert.equal(xmlText(x, 'HeartBeatInterval'), '45');
        assert.equal(xmlText(x, 'HeartBeatCount'), '4');
        assert.equal(xmlText(x, 'Expiration'), '3600');
        assert.equal(xmlText(x, 'SIPServerID'), '34020000002000000001');
      }
    }
  });

  it('answers RecordInfo for a channel with SumNum 0, and asks an injected archive when given', async () => {
    const asked: Array<[string, number, number]> = [];
    h = await startHarness({
      device: {
        recordQuery: async (ch, start, end) => {
          asked.push([ch, start, end]);
          return ch === '34020000001320000002' ? [{ deviceId: ch, name: 'cam', startTime: '2024-02-21T10:00:00', endTime: '2024-02-21T10:10:00', fileSize: 1000 }] : [];
        },
      },
    });
    const extra = '<StartTime>2024-02-21T00:00:00</StartTime>\r\n<EndTime>2024-02-21T23:59:59</EndTime>\r\n<Secrecy> 0 </Secrecy>\r\n<Type>all</Type>\r\n';
    await query('RecordInfo', 31, CHANNEL_1, extra);
    const [x] = await answers('RecordInfo', 31, 1);
    assert.equal(xmlText(x, 'SumNum'), '0');
    assert.match(x, /<RecordList Num="0"\/>/);
    assert.equal(xmlText(x, 'DeviceID'), CHANNEL_1);
    await query('RecordInfo', 32, '34020000001320000002', extra);
    const [y] = await answers('RecordInfo', 32, 1);
    assert.equal(xmlText(y, 'SumNum'), '1');
    assert.equal(xmlText(xmlAll(y, 'Item')[0], 'StartTime'), '2024-02-21T10:00:00');
    assert.equal(asked[0][1], Date.UTC(2024, 1, 20, 16, 0, 0));
  });

  it('emits typed control events, answers RecordCmd with a Response, 404s unknown targets, 200s unknown commands', async () => {
    h = await startHarness();
    const events: DeviceControlEvent[] = [];
    h.device.on('control', (e: DeviceControlEvent) => events.push(e));
    const control = (inner: string, target = CHANNEL_1) => {
      const body = Buffer.from(`<?xml version="1.0" encoding="GB2312"?>\r\n<Control>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>77</SN>\r\n<DeviceID>${target}</DeviceID>\r\n${inner}\r\n</Control>\r\n`);
      const { data, callId } = h!.platform.request('MESSAGE', h!.deviceUri, { contentType: 'Application/MANSCDP+xml', body });
      return h!.ask(data, callId);
    };
    assert.equal((await control('<PTZCmd>A50F010800FA00B7</PTZCmd><Info><ControlPriority>5</ControlPriority></Info>')).status, 200);
    assert.equal(events[0].type, 'ptz');
    assert.ok(events[0].type === 'ptz' && events[0].command.kind === 'move' && events[0].command.tilt === 'up' && events[0].command.tiltSpeed === 0xfa);
    assert.equal(events[0].deviceId, CHANNEL_1);
    assert.equal((await control('<RecordCmd>Record</RecordCmd>')).status, 200);
    const [resp] = await answers('DeviceControl', 77, 1);
    assert.equal(xmlText(resp, 'Result'), 'OK');
    assert.equal((await control('<PTZCmd>A50F010800FA00B8</PTZCmd>')).status, 400);
    assert.equal((await control('<Unknown>1</Unknown>')).status, 200);
    assert.equal((await control('<IFameCmd>Send</IFameCmd>', '34020000001329999999')).status, 404);
    assert.deepEqual(events.map((e) => e.type), ['ptz', 'record']);
    const { data, callId } = h.platform.request('MESSAGE', h.deviceUri, { contentType: 'Application/MANSCDP+xml', body: manscdpQuery('Alarm', 5, DEVICE_ID) });
    assert.equal((await h.ask(data, callId)).status, 200);
  });
});
