import assert from 'node:assert/strict';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { DemoPlatformScript, startDemoPlatformScript } from '../../lib/sim/platform/demo-script';
import { hdr, RawSipDevice } from './raw-sip-device';

const DEVICE_ID = '34020000001110000001';

describe('Demo platform script', function () {
  this.timeout(10_000);
  let platform: PlatformEmulator;
  let device: RawSipDevice;
  let script: DemoPlatformScript | undefined;

  afterEach(async () => {
    await script?.stop();
    device?.close();
    await platform?.stop();
  });

  it('reads the catalog of the registered device and INVITEs its first camera channel over UDP', async () => {
    platform = new PlatformEmulator({ autoQuery: false });
    const { port } = await platform.start();
    device = new RawSipDevice(DEVICE_ID, port);
    await device.start();
    const lines: string[] = [];
    script = startDemoPlatformScript(platform, { deviceId: DEVICE_ID, log: (l) => lines.push(l) });
    await device.registerFully(undefined);

    const query = await device.request('MESSAGE');
    device.reply(query, 200, 'OK');
    const sn = /<SN>(\d+)<\/SN>/.exec(query.body.toString())?.[1];
    device.message(`<?xml version="1.0" encoding="GB2312"?><Response><CmdType>Catalog</CmdType><SN>${sn}</SN><DeviceID>${DEVICE_ID}</DeviceID><SumNum>2</SumNum><DeviceList Num="2">`
      + `<Item><DeviceID>34020000002160000001</DeviceID><Name>group</Name></Item><Item><DeviceID>34020000001320000007</DeviceID><Name>北门</Name><Status>ON</Status></Item></DeviceList></Response>`);
    await device.response('MESSAGE');

    const invite = await device.request('INVITE');
    assert.match(invite.startLine, /^INVITE sip:34020000001320000007@127\.0\.0\.1:\d+ SIP\/2\.0$/);
    assert.match(invite.body.toString(), /m=video \d+ RTP\/AVP 96 97 98 99/);
    device.reply(invite, 200, 'OK', ['Content-Type: APPLICATION/SDP'], Buffer.from(`v=0\r\no=${DEVICE_ID} 0 0 IN IP4 127.0.0.1\r\ns=Play\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\ny=0200000001\r\n`));
    await device.request('ACK');
    const deadline = Date.now() + 2000;
    while (!lines.some((l) => l.startsWith('playing 34020000001320000007')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lines.some((l) => l.includes('北门')), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('playing 34020000001320000007')), lines.join('\n'));

    const stopping = script.stop();
    const bye = await device.request('BYE');
    device.reply(bye, 200, 'OK');
    await stopping;
    script = undefined;
  });

  it('with subscribe, SUBSCRIBEs to Catalog and Alarm, logs pushed alarms and catalog changes, and unsubscribes on stop', async () => {
    platform = new PlatformEmulator({ autoQuery: false });
    const { port } = await platform.start();
    device = new RawSipDevice(DEVICE_ID, port);
    await device.start();
    const lines: string[] = [];
    script = startDemoPlatformScript(platform, { deviceId: DEVICE_ID, log: (l) => lines.push(l), subscribe: { expires: 600 } });
    await device.registerFully(undefined);
    const query = await device.request('MESSAGE');
    device.reply(query, 200, 'OK');
    const sn = /<SN>(\d+)<\/SN>/.exec(query.body.toString())?.[1];
    device.message(`<?xml version="1.0" encoding="GB2312"?><Response><CmdType>Catalog</CmdType><SN>${sn}</SN><DeviceID>${DEVICE_ID}</DeviceID><SumNum>0</SumNum><DeviceList Num="0"></DeviceList></Response>`);
    await device.response('MESSAGE');

    const dialogs = new Map<string, { callId: string; tag: string; event: string }>();
    for (let i = 0; i < 2; i++) {
      const sub = await device.request('SUBSCRIBE');
      const kind = /<CmdType>(\w+)<\/CmdType>/.exec(sub.body.toString())?.[1] ?? '';
      assert.equal(hdr(sub, 'Expires'), '600');
      dialogs.set(kind, { callId: hdr(sub, 'Call-ID') ?? '', tag: /;tag=([^;>\s]+)/.exec(hdr(sub, 'From') ?? '')?.[1] ?? '', event: hdr(sub, 'Event') ?? '' });
      device.reply(sub, 200, 'OK', ['Expires: 600']);
    }
    assert.deepEqual([...dialogs.keys()].sort(), ['Alarm', 'Catalog']);
    const alarm = dialogs.get('Alarm');
    assert.ok(alarm);
    device.notify(`<?xml version="1.0" encoding="GB2312"?><Notify><CmdType>Alarm</CmdType><SN>1</SN><DeviceID>34020000001320000007</DeviceID><AlarmPriority>1</AlarmPriority><AlarmMethod>2</AlarmMethod><AlarmTime>2024-05-01T10:00:00</AlarmTime><Info><AlarmType>1</AlarmType></Info></Notify>`,
      { callId: alarm.callId, platformTag: alarm.tag, deviceTag: 'dev200', event: alarm.event });
    await device.response('NOTIFY');
    const deadline = Date.now() + 2000;
    while (!lines.some((l) => l.startsWith('alarm from 34020000001320000007')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(lines.some((l) => l.startsWith('alarm from 34020000001320000007 via notify: priority 1 method 2 type 1')), lines.join('\n'));
    assert.ok(lines.includes('Catalog subscription: 200 active') && lines.includes('Alarm subscription: 200 active'), lines.join('\n'));

    const stopping = script.stop();
    for (let i = 0; i < 2; i++) {
      const end = await device.request('SUBSCRIBE');
      assert.equal(hdr(end, 'Expires'), '0');
      device.reply(end, 200, 'OK');
    }
    await stopping;
    script = undefined;
    assert.deepEqual(platform.subscriptions(), []);
  });
});
