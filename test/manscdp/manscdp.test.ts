import * as assert from 'node:assert/strict';
import * as iconv from 'iconv-lite';
import { catalogResponses } from '../../lib/manscdp/catalog-response';
import { decodeDeviceControl } from '../../lib/manscdp/device-control';
import { parseManscdp, ManscdpError } from '../../lib/manscdp/manscdp-message';
import { writeManscdp } from '../../lib/manscdp/manscdp-writer';
import { decodePtzCommand, PtzCommandError } from '../../lib/manscdp/ptz-command';
import { recordInfoResponses } from '../../lib/manscdp/record-info-response';
import { decodeXmlBody } from '../../lib/manscdp/xml-charset';
import { channels, DEVICE_ID } from '../device/device-fixture';

/** WVP's SipUtils#cmdString, re-implemented from its published algorithm (notes §1.4). */
function wvpCmdString(leftRight: number, upDown: number, inOut: number, moveSpeed: number, zoomSpeed: number): string {
  let cmd = 0;
  if (leftRight === 2) cmd |= 0x01;
  else if (leftRight === 1) cmd |= 0x02;
  if (upDown === 2) cmd |= 0x04;
  else if (upDown === 1) cmd |= 0x08;
  if (inOut === 2) cmd |= 0x10;
  else if (inOut === 1) cmd |= 0x20;
  if (zoomSpeed > 0 && zoomSpeed < 16) zoomSpeed = 16;
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  const check = (0xa5 + 0x0f + 0x01 + cmd + moveSpeed + moveSpeed + (zoomSpeed & 0xf0)) % 0x100;
  return `A50F01${hex(cmd)}${hex(moveSpeed)}${hex(moveSpeed)}${zoomSpeed.toString(16).toUpperCase()[0]}0${hex(check)}`;
}

describe('MANSCDP reading', () => {
  it('reads GB2312, GBK and UTF-8 bodies, declared encoding first', () => {
    const xml = (enc: string) => `<?xml version="1.0" encoding="${enc}"?><Query><CmdType>Catalog</CmdType><SN>7</SN><DeviceID>${DEVICE_ID}</DeviceID><Name>北门摄像机</Name></Query>`;
    for (const [enc, bytes] of [['GB2312', iconv.encode(xml('GB2312'), 'gbk')], ['GBK', iconv.encode(xml('GBK'), 'gbk')], ['UTF-8', Buffer.from(xml('UTF-8'))]] as const) {
      const m = parseManscdp(bytes);
      assert.equal(m.fields.Name, '北门摄像机', enc);
      assert.equal(m.cmdType, 'Catalog');
      assert.equal(m.sn, '7');
    }
    // Declared UTF-8 but not valid UTF-8: what decodes cleanly (GB18030) wins.
    assert.match(decodeXmlBody(iconv.encode('<?xml version="1.0" encoding="UTF-8"?><a>北门</a>', 'gbk')).text, /北门/);
    assert.match(decodeXmlBody(Buffer.from('<a>北门</a>')).text, /北门/);
    // No declaration: UTF-8 if valid, else GB18030.
    assert.match(decodeXmlBody(iconv.encode('<a>北门</a>', 'gbk')).text, /北门/);
  });

  it('rejects DOCTYPE/ENTITY, oversize and malformed bodies with typed errors', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Query><CmdType>&lol2;</CmdType></Query>';
    const xxe = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Query><CmdType>&xxe;</CmdType></Query>';
    const code = (body: Buffer) => {
      try {
        parseManscdp(body);
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof ManscdpError);
        return e.code;
      }
    };
    assert.equal(code(Buffer.from(bomb)), 'MANSCDP_FORBIDDEN');
    assert.equal(code(Buffer.from(xxe)), 'MANSCDP_FORBIDDEN');
    assert.equal(code(Buffer.alloc(70000, 0x20)), 'MANSCDP_TOO_LARGE');
    assert.equal(code(Buffer.from('<Query><CmdType>Catalog</CmdType>')), 'MANSCDP_MALFORMED');
    assert.equal(code(Buffer.from('<Query><CmdType>Catalog</CmdType><SN>1 & 2</SN></Query>')), 'MANSCDP_MALFORMED');
    assert.equal(code(Buffer.from('<Other><CmdType>x</CmdType></Other>')), 'MANSCDP_MALFORMED');
    assert.equal(code(Buffer.from('<Query><SN>1</SN></Query>')), 'MANSCDP_MALFORMED');
    assert.equal(code(Buffer.alloc(0)), 'MANSCDP_MALFORMED');
  });
});

describe('MANSCDP writing', () => {
  it('writes GB2312 with a matching declaration, and UTF-8 when configured; Chinese round-trips', () => {
    const gb = writeManscdp('Response', { CmdType: 'DeviceInfo', SN: '1', DeviceName: '测试网关 <&>' }, 'GB2312');
    assert.match(gb.toString('latin1'), /^<\?xml version="1\.0" encoding="GB2312"\?>/);
    assert.equal(iconv.decode(gb, 'gbk').includes('测试网关 &lt;&amp;&gt;'), true);
    assert.equal(parseManscdp(gb).fields.DeviceName, '测试网关 <&>');
    const u8 = writeManscdp('Response', { CmdType: 'DeviceInfo', SN: '1', DeviceName: '测试网关' }, 'UTF-8');
    assert.match(u8.toString('utf8'), /encoding="UTF-8"[\s\S]*测试网关/);
  });

  it('splits a catalog of 20 into parts of 8/8/4 with the same SN and SumNum 20', () => {
    const parts = catalogResponses(channels(20), { sn: '42', deviceId: DEVICE_ID, manufacturer: 'M', model: 'X' }, 8);
    assert.equal(parts.length, 3);
    const xml = parts.map((p) => iconv.decode(writeManscdp('Response', p, 'GB2312'), 'gbk'));
    assert.deepEqual(xml.map((x) => (x.match(/<Item>/g) ?? []).length), [8, 8, 4]);
    for (const x of xml) {
      assert.match(x, /<SN>42<\/SN>/);
      assert.match(x, /<SumNum>20<\/SumNum>/);
      assert.match(x, new RegExp(`<ParentID>${DEVICE_ID}</ParentID>`));
      assert.match(x, /<Parental>0<\/Parental>[\s\S]*<RegisterWay>1<\/RegisterWay>[\s\S]*<Secrecy>0<\/Secrecy>/);
      assert.match(x, /<PTZType>3<\/PTZType>/);
    }
    assert.match(xml[0], /<DeviceList Num="8">/);
    assert.match(xml[0], /<Status>OFF<\/Status>/); // channel 5 is offline in the fixture
    assert.match(xml[0], /<Name>摄像机1号 北门<\/Name>/);
    assert.equal(catalogResponses([], { sn: '1', deviceId: DEVICE_ID, manufacturer: 'M', model: 'X' }, 8).length, 1);
  });

  it('answers RecordInfo with SumNum 0 and an empty RecordList when there are no recordings', () => {
    const parts = recordInfoResponses('9', '34020000001320000001', 'cam', [], 8);
    assert.equal(parts.length, 1);
    const x = writeManscdp('Response', parts[0], 'GB2312').toString('latin1');
    assert.match(x, /<SumNum>0<\/SumNum>/);
    assert.match(x, /<RecordList Num="0"\/>/);
  });
});

describe('PTZCmd (GB28181-2016 Annex A.3)', () => {
  it('decodes vectors built by WVP\'s algorithm', () => {
    const cases: Array<[number, number, number, number, number, Record<string, unknown>]> = [
      [2, 0, 0, 0x80, 0x10, { kind: 'move', pan: 'right', tilt: undefined, zoom: undefined, panSpeed: 0x80, tiltSpeed: 0x80, zoomSpeed: 1 }],
      [1, 0, 0, 0xff, 0x10, { kind: 'move', pan: 'left', panSpeed: 0xff }],
      [0, 1, 0, 0x40, 0x10, { kind: 'move', tilt: 'up' }],
      [0, 2, 0, 0x40, 0x10, { kind: 'move', tilt: 'down' }],
      [0, 0, 2, 0, 0xf0, { kind: 'move', zoom: 'in', zoomSpeed: 15 }],
      [0, 0, 1, 0, 0x50, { kind: 'move', zoom: 'out', zoomSpeed: 5 }],
      [2, 1, 0, 0x20, 0x10, { kind: 'move', pan: 'right', tilt: 'up' }],
      [0, 0, 0, 0, 0, { kind: 'stop' }],
    ];
    for (const [lr, ud, io, ms, zs, expect] of cases) {
      const hex = wvpCmdString(lr, ud, io, ms, zs);
      const cmd = decodePtzCommand(hex) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(expect)) assert.equal(cmd[k], v, `${hex} ${k}`);
      assert.equal(cmd.address, 1);
    }
  });

  it('decodes presets and rejects bad checksums and shapes', () => {
    const preset = (code: number, n: number) => {
      const b = [0xa5, 0x0f, 0x01, code, 0x00, n, 0x00];
      const sum = b.reduce((a, x) => a + x, 0) % 256;
      return Buffer.from([...b, sum]).toString('hex').toUpperCase();
    };
    assert.deepEqual(decodePtzCommand(preset(0x82, 7)), { kind: 'preset', address: 1, action: 'call', preset: 7 });
    assert.deepEqual(decodePtzCommand(preset(0x81, 3)), { kind: 'preset', address: 1, action: 'set', preset: 3 });
    assert.deepEqual(decodePtzCommand(preset(0x83, 3)), { kind: 'preset', address: 1, action: 'delete', preset: 3 });
    const good = wvpCmdString(2, 0, 0, 0x80, 0x10);
    const bad = good.slice(0, 14) + ((parseInt(good.slice(14), 16) + 1) % 256).toString(16).padStart(2, '0');
    assert.throws(() => decodePtzCommand(bad), PtzCommandError);
    // WVP's REST PTZ call without zoomSpeed: byte 7 "10", checksum 0x10 short (SIPCommander#frontEndCmdString).
    assert.deepEqual(decodePtzCommand('A50F01106464108D'), { kind: 'move', address: 1, pan: undefined, tilt: undefined, zoom: 'in', panSpeed: 100, tiltSpeed: 100, zoomSpeed: 1 });
    assert.equal((decodePtzCommand('A50F01016464107E') as { pan?: string }).pan, 'right');
    assert.throws(() => decodePtzCommand('A50F01106464107D'), PtzCommandError, 'only that exact shortfall is accepted');
    assert.throws(() => decodePtzCommand('A50F01'), PtzCommandError);
    assert.throws(() => decodePtzCommand('B50F010000000000'), PtzCommandError);
    assert.throws(() => decodePtzCommand('A50E0100000000B4'), PtzCommandError);
  });

  it('turns DeviceControl bodies into typed events', () => {
    const ctl = (inner: string) => parseManscdp(Buffer.from(`<?xml version="1.0"?><Control><CmdType>DeviceControl</CmdType><SN>5</SN><DeviceID>${DEVICE_ID}</DeviceID>${inner}</Control>`));
    const ptz = decodeDeviceControl(ctl(`<PTZCmd>${wvpCmdString(0, 1, 0, 0x30, 0x10)}</PTZCmd><Info><ControlPriority>5</ControlPriority></Info>`));
    assert.ok(ptz.ok && ptz.events[0].type === 'ptz' && ptz.events[0].command.kind === 'move' && ptz.events[0].command.tilt === 'up' && !ptz.needsResponse);
    const rec = decodeDeviceControl(ctl('<RecordCmd>Record</RecordCmd>'));
    assert.ok(rec.ok && rec.events[0].type === 'record' && rec.events[0].action === 'start' && rec.needsResponse);
    const guard = decodeDeviceControl(ctl('<GuardCmd>ResetGuard</GuardCmd>'));
    assert.ok(guard.ok && guard.events[0].type === 'guard' && guard.events[0].action === 'reset');
    const kf = decodeDeviceControl(ctl('<IFameCmd>Send</IFameCmd>'));
    assert.ok(kf.ok && kf.events[0].type === 'keyframe');
    const boot = decodeDeviceControl(ctl('<TeleBoot>Boot</TeleBoot>'));
    assert.ok(boot.ok && boot.events[0].type === 'teleboot');
    const hp = decodeDeviceControl(ctl('<HomePosition><Enabled>1</Enabled><ResetTime>30</ResetTime><PresetIndex>2</PresetIndex></HomePosition>'));
    assert.ok(hp.ok && hp.events[0].type === 'home-position' && hp.events[0].enabled && hp.events[0].presetIndex === 2);
    const dz = decodeDeviceControl(ctl('<DragZoomIn><Length>100</Length><Width>200</Width><MidPointX>5</MidPointX><MidPointY>6</MidPointY><LengthX>7</LengthX><LengthY>8</LengthY></DragZoomIn>'));
    assert.ok(dz.ok && dz.events[0].type === 'drag-zoom' && dz.events[0].direction === 'in' && dz.events[0].midPointY === 6);
    assert.equal(decodeDeviceControl(ctl('<PTZCmd>A50F0100000000FF</PTZCmd>')).ok, false);
    const unknown = decodeDeviceControl(ctl('<Foo>1</Foo>'));
    assert.ok(unknown.ok && unknown.events.length === 0);
  });
});
