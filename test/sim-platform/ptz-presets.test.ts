import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { decodePtzCmd, wvpCmdString, wvpFrontEndCmdString, wvpPresetCommandString, wvpPtzCommandString } from '../../lib/sim/platform/ptz-command';
import { RawSip, RawSipDevice, startRegisteredRawDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001320000001';
const CHANNEL = '34020000001320000011';
const text = (m: RawSip): string => iconv.decode(m.body, 'gb18030');
const xmlField = (m: RawSip, name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text(m))?.[1];
/** Byte sum of the first seven bytes, computed here independently of the emulator. */
const sum7 = (cmd: string): number => [0, 2, 4, 6, 8, 10, 12].reduce((a, i) => a + parseInt(cmd.slice(i, i + 2), 16), 0) % 256;

describe('PlatformEmulator PTZ and preset commands (PtzController, SipUtils#cmdString, PresetQueryResponseMessageHandler)', function () {
  this.timeout(15_000);

  describe('PTZCmd strings', () => {
    it('builds PtzController commands with frontEndCmdString and a checksum equal to the byte sum', () => {
      assert.equal(wvpPtzCommandString('right', { horizonSpeed: 0x20, verticalSpeed: 0x20, zoomSpeed: 0 }), 'A50F0101202000F6');
      assert.equal(wvpPtzCommandString('stop'), 'A50F0100000000B5');
      assert.equal(wvpPtzCommandString('upleft', { horizonSpeed: 100, verticalSpeed: 50, zoomSpeed: 3 }).slice(6, 14), '0A643230');
      for (const cmd of ['left', 'right', 'up', 'down', 'upleft', 'upright', 'downleft', 'downright', 'zoomin', 'zoomout', 'stop'] as const) {
        const s = wvpPtzCommandString(cmd, { horizonSpeed: 200, verticalSpeed: 17, zoomSpeed: 15 });
        assert.match(s, /^A50F01[0-9A-F]{10}$/);
        assert.equal(parseInt(s.slice(14), 16), sum7(s), `${cmd}: ${s}`);
        assert.ok(decodePtzCmd(s).checksumOk);
      }
      const bits = (cmd: Parameters<typeof wvpPtzCommandString>[0]): number => parseInt(wvpPtzCommandString(cmd).slice(6, 8), 16);
      assert.deepEqual([bits('right'), bits('left'), bits('down'), bits('up'), bits('zoomin'), bits('zoomout')], [0x01, 0x02, 0x04, 0x08, 0x10, 0x20]);
    });

    it('reproduces WVP quirks: default zoom speed 16 breaks the checksum, cmdString raises zoom 1..15 to 16', () => {
      const zoomDefault = wvpPtzCommandString('zoomin');
      assert.equal(zoomDefault, 'A50F011064641' + '08D');
      assert.equal(decodePtzCmd(zoomDefault).checksumOk, false, 'byte 7 is 0x10 but the checksum carries 0x100');
      assert.equal(wvpCmdString(2, 0, 0, 50, 50), 'A50F01013232304A');
      assert.equal(wvpCmdString(0, 0, 2, 0, 5), 'A50F0110000010D5');
      assert.ok(decodePtzCmd(wvpCmdString(1, 1, 1, 255, 255)).checksumOk);
      assert.equal(wvpFrontEndCmdString(0x81, 1, 5, 0), 'A50F01810105003C');
      assert.equal(wvpPresetCommandString('set', 5), 'A50F01810105003C');
      assert.equal(wvpPresetCommandString('call', 5).slice(6, 8), '82');
      assert.equal(wvpPresetCommandString('delete', 255).slice(6, 12), '8301FF');
      assert.throws(() => wvpPresetCommandString('call', 0), /1\.\.255/);
      assert.throws(() => wvpPtzCommandString('left', { zoomSpeed: 16 }), /0\.\.15/);
    });
  });

  describe('on the wire', () => {
    let platform: PlatformEmulator;
    let device: RawSipDevice;

    beforeEach(async () => {
      ({ platform, device } = await startRegisteredRawDevice(DEVICE_ID));
    });

    afterEach(async () => {
      device?.close();
      await platform?.stop();
    });

    const respond = (q: RawSip, extra: string, deviceId = CHANNEL): void => {
      device.message(`<?xml version="1.0" encoding="GB2312"?>\r\n<Response>\r\n<CmdType>${xmlField(q, 'CmdType')}</CmdType>\r\n<SN>${xmlField(q, 'SN')}</SN>\r\n<DeviceID>${deviceId}</DeviceID>\r\n${extra}</Response>\r\n`);
    };

    it('sends ptz/preset with ControlPriority 5 without waiting, and home position / guard / alarm reset / record with their WVP bodies', async () => {
      const moving = platform.ptz(DEVICE_ID, CHANNEL, 'left', { horizonSpeed: 64, verticalSpeed: 64, zoomSpeed: 0 });
      const ptz = await device.request('MESSAGE');
      assert.match(text(ptz), /<Control>\r\n<CmdType>DeviceControl<\/CmdType>\r\n<SN>\d{6}<\/SN>\r\n<DeviceID>34020000001320000011<\/DeviceID>\r\n<PTZCmd>A50F010240400037<\/PTZCmd>\r\n<Info>\r\n<ControlPriority>5<\/ControlPriority>\r\n<\/Info>\r\n<\/Control>/);
      device.reply(ptz, 200, 'OK');
      assert.deepEqual(await moving, { status: 200, response: undefined, outcome: 'sent' });

      const stopping = platform.ptzStop(DEVICE_ID, CHANNEL);
      const stop = await device.request('MESSAGE');
      assert.equal(xmlField(stop, 'PTZCmd'), 'A50F0100000000B5');
      device.reply(stop, 200, 'OK');
      await stopping;

      const presetting = platform.preset(DEVICE_ID, CHANNEL, 'call', 3);
      const preset = await device.request('MESSAGE');
      assert.equal(xmlField(preset, 'PTZCmd'), wvpPresetCommandString('call', 3));
      device.reply(preset, 403, 'Forbidden');
      assert.equal((await presetting).outcome, 'rejected');

      const homing = platform.homePosition(DEVICE_ID, CHANNEL, { enabled: true, resetTime: 30, presetIndex: 2 });
      const home = await device.request('MESSAGE');
      assert.match(text(home), /<DeviceID>34020000001320000011<\/DeviceID>\r\n<HomePosition>\r\n<Enabled>1<\/Enabled>\r\n<ResetTime>30<\/ResetTime>\r\n<PresetIndex>2<\/PresetIndex>\r\n<\/HomePosition>\r\n<\/Control>/);
      assert.doesNotMatch(text(home), /ControlPriority/);
      device.reply(home, 200, 'OK');
      respond(home, '<Result>OK</Result>\r\n');
      assert.equal((await homing).outcome, 'ok');

      const guarding = platform.guard(DEVICE_ID, 'set');
      const guard = await device.request('MESSAGE');
      assert.equal(xmlField(guard, 'DeviceID'), DEVICE_ID, 'WVP sends GuardCmd to the device ID');
      assert.equal(xmlField(guard, 'GuardCmd'), 'SetGuard');
      device.reply(guard, 200, 'OK');
      respond(guard, '<Result>ERROR</Result>\r\n', DEVICE_ID);
      assert.equal((await guarding).outcome, 'error');

      const resetting = platform.alarmReset(DEVICE_ID, { alarmMethod: 5, alarmType: 1 });
      const reset = await device.request('MESSAGE');
      assert.match(text(reset), /<DeviceID>34020000001320000001<\/DeviceID>\r\n<AlarmCmd>ResetAlarm<\/AlarmCmd>\r\n<Info>\r\n<AlarmMethod>5<\/AlarmMethod>\r\n<AlarmType>1<\/AlarmType>\r\n<\/Info>/);
      device.reply(reset, 200, 'OK');
      respond(reset, '', DEVICE_ID);
      assert.equal((await resetting).outcome, 'ok', 'no Result counts as success');

      const started = Date.now();
      const recording = platform.recordCmd(DEVICE_ID, CHANNEL, 'StopRecord');
      const record = await device.request('MESSAGE');
      assert.equal(xmlField(record, 'RecordCmd'), 'StopRecord');
      device.reply(record, 200, 'OK');
      const silent = await recording;
      const waited = Date.now() - started;
      assert.equal(silent.outcome, 'timeout');
      assert.ok(waited >= 950 && waited < 2000, `waited ${waited} ms for the <Response>`);
    });

    it('merges PresetQuery parts by PresetID until SumNum and takes any non-PresetID child as the name', async () => {
      const query = platform.queryPresets(DEVICE_ID, CHANNEL);
      const q = await device.request('MESSAGE');
      assert.match(text(q), /<Query>\r\n<CmdType>PresetQuery<\/CmdType>\r\n<SN>\d{6}<\/SN>\r\n<DeviceID>34020000001320000011<\/DeviceID>\r\n<\/Query>/);
      device.reply(q, 200, 'OK');
      respond(q, '<SumNum>3</SumNum>\r\n<PresetList Num="2">\r\n<Item><PresetID>1</PresetID><PresetName>门口</PresetName></Item>\r\n<Item><PresetID>2</PresetID><Name>Yard</Name></Item>\r\n</PresetList>\r\n');
      assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 200 OK');
      respond(q, '<SumNum>3</SumNum>\r\n<PresetList Num="2">\r\n<Item><PresetID>2</PresetID><PresetName>Yard 2</PresetName></Item>\r\n<Item><PresetID>7</PresetID><PresetName>Gate</PresetName></Item>\r\n</PresetList>\r\n');
      const result = await query;
      assert.equal(result.sumNum, 3);
      assert.equal(result.messages, 2);
      assert.equal(result.complete, true);
      assert.deepEqual(result.presets, [{ presetId: 1, name: '门口' }, { presetId: 2, name: 'Yard 2' }, { presetId: 7, name: 'Gate' }]);
    });

    it('counts by PresetList@Num without SumNum, delivers a partial list 1 s after the last part, and refuses an answer without PresetList with 400', async () => {
      const byNum = platform.queryPresets(DEVICE_ID, CHANNEL);
      const q1 = await device.request('MESSAGE');
      device.reply(q1, 200, 'OK');
      respond(q1, '<PresetList Num="1"><Item><PresetID>4</PresetID><PresetName>a</PresetName></Item></PresetList>');
      assert.deepEqual((await byNum).presets, [{ presetId: 4, name: 'a' }]);
      await device.response('MESSAGE');

      const partial = platform.queryPresets(DEVICE_ID, CHANNEL);
      const q2 = await device.request('MESSAGE');
      device.reply(q2, 200, 'OK');
      const sentAt = Date.now();
      respond(q2, '<SumNum>5</SumNum><PresetList Num="1"><Item><PresetID>9</PresetID><PresetName>b</PresetName></Item></PresetList>');
      const got = await partial;
      const after = Date.now() - sentAt;
      assert.equal(got.complete, false);
      assert.equal(got.sumNum, 5);
      assert.deepEqual(got.presets.map((p) => p.presetId), [9]);
      assert.ok(after >= 900 && after < 2000, `partial after ${after} ms`);
      await device.response('MESSAGE');

      const refused = assert.rejects(platform.queryPresets(DEVICE_ID, CHANNEL), (e: Error & { code?: string }) => e.code === 'PLATFORM_PRESET_REJECTED');
      const q3 = await device.request('MESSAGE');
      device.reply(q3, 200, 'OK');
      respond(q3, '<SumNum>0</SumNum>');
      const answer = await device.response('MESSAGE');
      assert.equal(answer.startLine, 'SIP/2.0 400 xml error');
      await refused;

      const noSn = assert.rejects(platform.queryPresets(DEVICE_ID, CHANNEL), /without <SN>/);
      const q4 = await device.request('MESSAGE');
      device.reply(q4, 200, 'OK');
      device.message(`<?xml version="1.0" encoding="GB2312"?><Response><CmdType>PresetQuery</CmdType><DeviceID>${CHANNEL}</DeviceID><PresetList Num="0"></PresetList></Response>`);
      assert.equal((await device.response('MESSAGE')).startLine, 'SIP/2.0 400 xml error');
      await noSn;
    });

    it('exposes DeviceStatus Online and the Alarmstatus items', async () => {
      const status = platform.queryDeviceStatusDetail(DEVICE_ID, 3000);
      const q = await device.request('MESSAGE');
      device.reply(q, 200, 'OK');
      respond(q, `<Result>OK</Result><Online>ONLINE</Online><Status>OK</Status><Alarmstatus Num="2"><Item><DeviceID>${CHANNEL}</DeviceID><DutyStatus>ALARM</DutyStatus></Item><Item><DeviceID>34020000001320000012</DeviceID><DutyStatus>OFFDUTY</DutyStatus></Item></Alarmstatus>`, DEVICE_ID);
      const result = await status;
      assert.equal(result.online, true);
      assert.deepEqual(result.alarmStatus, [{ deviceId: CHANNEL, dutyStatus: 'ALARM' }, { deviceId: '34020000001320000012', dutyStatus: 'OFFDUTY' }]);
      assert.equal(result.fields['Alarmstatus.@Num'], '2');
    });
  });
});
