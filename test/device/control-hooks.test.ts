import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { GbDeviceOptions, PresetEntry } from '../../lib/device/gb-device';
import { ChannelDescriptor } from '../../lib/session/stream-contract';
import { Harness, startHarness } from './device-harness';
import { manscdpQuery, RawMessage, xmlAll, xmlText } from './raw-sip-platform';

const CH1 = '34020000001320000001';
const LIST: ChannelDescriptor[] = [{ id: CH1, name: '球机', online: true, ptzType: 1 }];

describe('device RecordCmd and PresetQuery hooks (notes §8.6, §8.7)', function () {
  this.timeout(15000);
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  function start(device: Partial<GbDeviceOptions>): Promise<Harness> {
    return startHarness({ channels: LIST, device }).then((x) => (h = x));
  }

  function responses(hh: Harness, cmdType: string, sn: number): RawMessage[] {
    return hh.platform.received.filter((x) => {
      if (x.method !== 'MESSAGE') return false;
      const t = iconv.decode(x.body, 'gbk');
      return /<Response>/.test(t) && xmlText(t, 'CmdType') === cmdType && xmlText(t, 'SN') === String(sn);
    });
  }

  /** Sends RecordCmd and resolves with the Response's Result and how long after the MESSAGE it arrived. */
  async function recordCmd(hh: Harness, cmd: 'Record' | 'StopRecord', sn: number): Promise<{ result: string | undefined; ms: number }> {
    const body = Buffer.from(`<?xml version="1.0" encoding="GB2312"?>\r\n<Control>\r\n<CmdType>DeviceControl</CmdType>\r\n<SN>${sn}</SN>\r\n<DeviceID>${CH1}</DeviceID>\r\n<RecordCmd>${cmd}</RecordCmd>\r\n</Control>\r\n`);
    const { data, callId } = hh.platform.request('MESSAGE', hh.deviceUri, { contentType: 'Application/MANSCDP+xml', body });
    const sentAt = Date.now();
    assert.equal((await hh.ask(data, callId)).status, 200);
    const m = await hh.platform.waitFor((x) => responses(hh, 'DeviceControl', sn).includes(x), 1500);
    const t = iconv.decode(m.body, 'gbk');
    assert.equal(xmlText(t, 'DeviceID'), CH1);
    return { result: xmlText(t, 'Result'), ms: (m.receivedAt ?? Date.now()) - sentAt };
  }

  async function recordStatus(hh: Harness, sn: number): Promise<string | undefined> {
    const { data, callId } = hh.platform.request('MESSAGE', hh.deviceUri, { contentType: 'Application/MANSCDP+xml', body: manscdpQuery('DeviceStatus', sn, CH1) });
    await hh.ask(data, callId);
    const m = await hh.platform.waitFor((x) => responses(hh, 'DeviceStatus', sn).includes(x), 1500);
    return xmlText(iconv.decode(m.body, 'gbk'), 'Record');
  }

  it('RecordCmd calls recordCommand and answers Result OK within 1 s; DeviceStatus Record follows', async () => {
    const calls: string[] = [];
    const hh = await start({ recordCommand: async (id, action) => { calls.push(`${id} ${action}`); await new Promise((r) => setTimeout(r, 150)); } });
    assert.equal(await recordStatus(hh, 1), 'OFF');
    const r = await recordCmd(hh, 'Record', 2);
    assert.equal(r.result, 'OK');
    assert.ok(r.ms >= 140 && r.ms < 1000, `Response after ${r.ms} ms`);
    assert.equal(await recordStatus(hh, 3), 'ON');
    assert.equal((await recordCmd(hh, 'StopRecord', 4)).result, 'OK');
    assert.equal(await recordStatus(hh, 5), 'OFF');
    assert.deepEqual(calls, [`${CH1} start`, `${CH1} stop`]);
  });

  it('RecordCmd answers Result ERROR when recordCommand rejects, and within 1 s when it never settles', async () => {
    let mode: 'reject' | 'hang' = 'reject';
    const hh = await start({
      recordCommand: () => (mode === 'reject' ? Promise.reject(new Error('recorder is off')) : new Promise<void>(() => undefined)),
    });
    const rejected = await recordCmd(hh, 'Record', 11);
    assert.equal(rejected.result, 'ERROR');
    mode = 'hang';
    const hung = await recordCmd(hh, 'Record', 12);
    assert.equal(hung.result, 'ERROR');
    assert.ok(hung.ms < 1000, `Response after ${hung.ms} ms`);
    assert.equal(await recordStatus(hh, 13), 'OFF');
  });

  it('DeviceStatus Record asks the recording hook when given', async () => {
    let on = false;
    const hh = await start({ recording: (id) => id === CH1 && on });
    assert.equal(await recordStatus(hh, 21), 'OFF');
    on = true;
    assert.equal(await recordStatus(hh, 22), 'ON');
  });

  async function presetQuery(hh: Harness, sn: number, parts: number, timeoutMs = 4000): Promise<{ texts: string[]; ms: number }> {
    const { data, callId } = hh.platform.request('MESSAGE', hh.deviceUri, { contentType: 'Application/MANSCDP+xml', body: manscdpQuery('PresetQuery', sn, CH1) });
    const sentAt = Date.now();
    assert.equal((await hh.ask(data, callId)).status, 200);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = responses(hh, 'PresetQuery', sn);
      if (got.length >= parts) {
        return { texts: got.map((m) => iconv.decode(m.body, 'gbk')), ms: Math.max(...got.map((m) => m.receivedAt ?? 0)) - sentAt };
      }
      if (Date.now() > deadline) throw new Error(`${got.length}/${parts} PresetQuery answers`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('PresetQuery lists all the hook\'s presets in one Response (PresetList Num = SumNum: WVP does not merge parts), well within WVP\'s 4 s', async () => {
    const presets: PresetEntry[] = Array.from({ length: 20 }, (_, i) => ({ presetId: i + 1, name: `预置位${i + 1}` }));
    const asked: string[] = [];
    const hh = await start({ presetQuery: async (id) => { asked.push(id); return presets; } });
    const { texts, ms } = await presetQuery(hh, 31, 1);
    assert.deepEqual(asked, [CH1]);
    assert.ok(ms < 1000, `answered in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(responses(hh, 'PresetQuery', 31).length, 1, 'one Response only');
    assert.deepEqual(texts.map((t) => xmlAll(t, 'Item').length), [20]);
    assert.match(texts[0], /<PresetList Num="20">/);
    assert.equal(xmlText(texts[0], 'SumNum'), '20');
    assert.equal(xmlText(texts[0], 'DeviceID'), CH1);
    const items = texts.flatMap((t) => xmlAll(t, 'Item'));
    assert.deepEqual(items.map((i) => Number(xmlText(i, 'PresetID'))), presets.map((p) => p.presetId));
    assert.equal(xmlText(items[4], 'PresetName'), '预置位5');
  });

  it('PresetQuery answers an empty list when the hook is late or fails, and without a hook', async () => {
    let mode: 'hang' | 'reject' = 'hang';
    const hh = await start({ presetTimeoutMs: 500, presetQuery: () => (mode === 'hang' ? new Promise<PresetEntry[]>(() => undefined) : Promise.reject(new Error('ONVIF down'))) });
    const late = await presetQuery(hh, 41, 1);
    assert.ok(late.ms >= 450 && late.ms < 1500, `answered after ${late.ms} ms`);
    assert.equal(xmlText(late.texts[0], 'SumNum'), '0');
    assert.match(late.texts[0], /<PresetList Num="0"\/>/);
    mode = 'reject';
    const failed = await presetQuery(hh, 42, 1);
    assert.equal(xmlText(failed.texts[0], 'SumNum'), '0');
    await hh.close();
    h = undefined;
    const plain = await start({});
    const none = await presetQuery(plain, 43, 1);
    assert.equal(xmlText(none.texts[0], 'SumNum'), '0');
  });
});
