/**
 * The five GB28181 nodes in the Node-RED test runtime (node-red-node-test-helper): loading, clear
 * error statuses for bad configuration, messages in and out, secrets kept out of messages and
 * statuses, and a clean close. Real sockets on 127.0.0.1 only: a simulated RTSP camera and the
 * platform emulator.
 */
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import type { Node, NodeInitializer } from 'node-red';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { freePort } from '../support/free-port';
import { callsOf, lastStatus, nodeHelper, nodeInitializers, waitFor, waitForStatus } from './node-test-support';

const helper = nodeHelper();
type FlowItem = { id: string; type: string; wires?: string[][] } & Record<string, unknown>;
type Flow = FlowItem[];

function register(id: string, platformPort: number, extra: Record<string, unknown> = {}): FlowItem {
  return {
    id, type: 'wvp-register', serverId: '34020000002000000001', domain: '3402000000', host: '127.0.0.1', port: platformPort,
    transport: 'udp', localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 33000, mediaPortMax: 33099,
    keepaliveInterval: 60, expires: 3600, ...extra,
  };
}

function device(id: string, platform: string, wires: string[][] = [[], []], extra: Record<string, unknown> = {}): FlowItem {
  return { id, type: 'gb28181-device', platform, deviceId: '34020000001180000001', deviceName: 'test gw', claimTimeout: 1, waitForCameras: 8, wires, ...extra };
}

function sentPayloads(node: Node): Array<{ topic?: string; payload?: unknown }> {
  const out: Array<{ topic?: string; payload?: unknown }> = [];
  for (const [arg] of callsOf(node, 'send')) {
    const list = Array.isArray(arg) ? arg : [arg];
    for (const m of list.flat()) if (m && typeof m === 'object') out.push(m as { topic?: string; payload?: unknown });
  }
  return out;
}

describe('GB28181 Node-RED nodes', function () {
  this.timeout(30000);
  let inits: NodeInitializer[];

  before(() => {
    inits = nodeInitializers();
  });

  afterEach(async () => {
    await helper.unload();
  });

  it('loads all five node types into one flow', async () => {
    const closedPort = await freePort();
    const flow: Flow = [
      register('reg', closedPort),
      device('dev', 'reg', [['snd'], ['hm']]),
      { id: 'src', type: 'rtsp-source', channelId: '34020000001320000001', url: `rtsp://127.0.0.1:${closedPort}/x`, probeTimeout: 2, wires: [['dev']] },
      { id: 'snd', type: 'ps-rtp-sender', wires: [['hm']] },
      { id: 'hm', type: 'health-monitor', interval: 60, wires: [[], ['src']] },
    ];
    await helper.load(inits, flow);
    for (const id of ['reg', 'dev', 'src', 'snd', 'hm']) assert.ok(helper.getNode(id), `node ${id} loaded`);
    const src = helper.getNode('src');
    // Nothing listens on the port: the camera is offline with the reason in the status.
    await waitForStatus(src, /^offline: connection refused/);
    assert.equal(lastStatus(src)?.fill, 'red');
    // The offline camera still reports, so the device registers (with a platform that does not answer).
    await waitForStatus(helper.getNode('dev'), /registering|no answer/);
    assert.equal(lastStatus(helper.getNode('snd'))?.text, 'idle');
  });

  it('shows a clear error status for each kind of bad configuration', async () => {
    const flow: Flow = [
      register('reg', 5060),
      register('badreg', 5060, { serverId: '1234' }),
      device('badid', 'reg', [[], []], { deviceId: '34020000001320000001' }),
      device('noplat', ''),
      device('badplat', 'badreg'),
      { id: 'badch', type: 'rtsp-source', channelId: '34020000001180000009', url: 'rtsp://127.0.0.1/x', wires: [[]] },
      { id: 'badurl', type: 'rtsp-source', channelId: '34020000001320000009', url: 'http://camera/x', wires: [[]] },
      { id: 'badsnd', type: 'ps-rtp-sender', maxRtpPayload: 50, wires: [[]] },
      { id: 'badhm', type: 'health-monitor', interval: 0, wires: [[], []] },
    ];
    await helper.load(inits, flow);
    const expect: Record<string, RegExp> = {
      badid: /device ID type code must be 111-130 \(got 132\)/,
      noplat: /no wvp-register selected/,
      badplat: /server ID must be 20 digits/,
      badch: /channel ID type code must be 131 or 132 \(got 118\)/,
      badurl: /RTSP URL must look like rtsp:/,
      badsnd: /max RTP payload/,
      badhm: /summary interval/,
    };
    for (const [id, re] of Object.entries(expect)) {
      const node = helper.getNode(id);
      const s = await waitForStatus(node, re, 3000);
      assert.equal(s.fill, 'red', `${id} status is red`);
      assert.ok(callsOf(node, 'error').some(([e]) => re.test(String(e))), `${id} logged the problem as an error`);
    }
  });

  describe('rtsp-source against a simulated camera', () => {
    let camera: SimulatedCamera;
    before(async () => {
      camera = new SimulatedCamera({ host: '127.0.0.1', port: 0, username: 'admin', password: 'cam-secret-1', streams: [{ path: '/h264', video: 'h264', width: 320, height: 240, fps: 25 }] });
      await camera.start();
    });
    after(async () => {
      await camera.stop();
    });

    it('probes on deploy: status shows codec, size and rate; channel message carries no secret', async () => {
      const withSecret = camera.url('/h264', true);
      assert.match(withSecret, /cam-secret-1/);
      const flow: Flow = [
        // The user pasted the URL with the password in it: the node uses it, warns, and never shows it.
        { id: 'src', type: 'rtsp-source', name: 'cam', channelId: '34020000001320000001', url: withSecret, probeTimeout: 8, wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load(inits, flow);
      // The source probes after the flows have started (ffprobe takes far longer than this step).
      const msg = await new Promise<{ topic: string; payload: Record<string, unknown> }>((resolve) => {
        helper.getNode('out').on('input', (m: unknown) => resolve(m as { topic: string; payload: Record<string, unknown> }));
      });
      const src = helper.getNode('src');
      assert.equal(msg.topic, 'channel');
      assert.equal(msg.payload.channelId, '34020000001320000001');
      assert.equal(msg.payload.online, true);
      assert.equal(msg.payload.sourceNodeId, 'src');
      assert.deepEqual((msg.payload.video as { codec: string }).codec, 'H264');
      assert.match(String(msg.payload.url), /^rtsp:\/\/admin:\*\*\*@127\.0\.0\.1:\d+\/h264$/);
      const s = await waitForStatus(src, /^H\.264 320×240 25 fps$/);
      assert.equal(s.fill, 'green');
      assert.ok(callsOf(src, 'warn').some(([w]) => /holds a password/.test(String(w))));
      const everything = JSON.stringify([msg, callsOf(src, 'status'), callsOf(src, 'warn'), callsOf(src, 'log')]);
      assert.ok(!everything.includes('cam-secret-1'), 'the password appears in no message, status or log');
    });

    it('takes credentials from the credential fields; a wrong password shows "offline: 401 unauthorised"; probe input re-probes', async () => {
      const flow: Flow = [
        { id: 'good', type: 'rtsp-source', channelId: '34020000001320000001', url: camera.url('/h264'), wires: [['out']] },
        { id: 'bad', type: 'rtsp-source', channelId: '34020000001320000002', url: camera.url('/h264'), wires: [['out']] },
        { id: 'out', type: 'helper' },
      ];
      await helper.load(inits, flow, { good: { username: 'admin', password: 'cam-secret-1' }, bad: { username: 'admin', password: 'nope' } });
      await waitForStatus(helper.getNode('good'), /^H\.264/);
      await waitForStatus(helper.getNode('bad'), /^offline: 401 unauthorised$/);
      const out = helper.getNode('out');
      const next = new Promise<{ payload: { channelId: string; online: boolean } }>((resolve) => out.once('input', (m: unknown) => resolve(m as { payload: { channelId: string; online: boolean } })));
      // A reconnect for another channel is ignored; one for this channel re-probes and re-announces.
      helper.getNode('good').receive({ topic: 'reconnect', payload: { channelId: '34020000001320000002' } });
      helper.getNode('good').receive({ topic: 'reconnect', payload: { channelId: '34020000001320000001' } });
      const m = await next;
      assert.equal(m.payload.channelId, '34020000001320000001');
      assert.equal(m.payload.online, true);
      // The camera refuses the credentials: offline with cause `defect` (catalog DEFECT, GB28181-2016 A.2.4).
      type Announced = { payload: { channelId: string; online: boolean; offlineCause?: string } };
      const refused = new Promise<Announced>((resolve) => {
        const onInput = (x: unknown) => {
          if ((x as Announced).payload.channelId !== '34020000001320000002') return;
          out.off('input', onInput);
          resolve(x as Announced);
        };
        out.on('input', onInput);
      });
      helper.getNode('bad').receive({ topic: 'probe' });
      const r = await refused;
      assert.equal(r.payload.online, false);
      assert.equal(r.payload.offlineCause, 'defect');
    });
  });

  describe('gb28181-device with the platform emulator', () => {
    let platform: PlatformEmulator;
    beforeEach(async () => {
      platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: 'plat-secret-2', autoQuery: false, mediaPortRange: [34000, 34099] });
      await platform.start();
    });
    afterEach(async () => {
      await platform.stop();
    });

    it('registers, lists channels sent to it, and answers 503 itself when no sender takes an INVITE', async () => {
      const flow: Flow = [register('reg', platform.port), device('dev', 'reg', [['o1'], ['o2']]), { id: 'o1', type: 'helper' }, { id: 'o2', type: 'helper' }];
      await helper.load(inits, flow, { reg: { password: 'plat-secret-2' } });
      const dev = helper.getNode('dev');
      await platform.waitForRegistration('34020000001180000001', 8000);
      await waitForStatus(dev, /^registered · 0 ch · 0 live$/);
      dev.receive({ topic: 'channel', payload: { channelId: '34020000001320000001', name: 'Gate', online: true, video: { codec: 'H264', width: 320, height: 240 } } });
      dev.receive({ topic: 'channel', payload: { channelId: '34020000001320000002', name: 'Yard', online: true } });
      await waitForStatus(dev, /^registered · 2 ch · 0 live$/);
      const catalog = await platform.queryCatalog('34020000001180000001', 8000);
      assert.deepEqual(catalog.items.map((i) => i.DeviceID).sort(), ['34020000001320000001', '34020000001320000002']);
      dev.receive({ topic: 'remove', payload: '34020000001320000002' });
      await waitForStatus(dev, /^registered · 1 ch · 0 live$/);

      const o1 = helper.getNode('o1');
      const invited = new Promise<Record<string, unknown>>((resolve) => o1.once('input', (m: { payload: Record<string, unknown> }) => resolve(m.payload)));
      const t0 = Date.now();
      await assert.rejects(platform.invite('34020000001180000001', '34020000001320000001', { transport: 'udp', timeoutMs: 8000 }), /503/);
      const waited = Date.now() - t0;
      assert.ok(waited >= 900 && waited < 4000, `answered within the 1 s claim bound (took ${waited} ms)`);
      const inv = await invited;
      assert.equal(inv.event, 'invite');
      assert.equal(inv.deviceNodeId, 'dev');
      assert.equal(inv.channelId, '34020000001320000001');
      assert.equal(inv.transport, 'udp');
      assert.match(String(inv.ssrc), /^\d{10}$/);
      // Output 2 carried the registration state; no message anywhere holds the password.
      const events = sentPayloads(dev);
      assert.ok(events.some((m) => m.topic === 'registration' && (m.payload as { state: string }).state === 'registered'));
      assert.ok(!JSON.stringify(events).includes('plat-secret-2'));
    });

    it('shows "403 wrong password" or "401 wrong password" for a wrong platform password', async () => {
      const flow: Flow = [register('reg', platform.port), device('dev', 'reg')];
      await helper.load(inits, flow, { reg: { password: 'wrong' } });
      const s = await waitForStatus(helper.getNode('dev'), /^40[13] wrong password$/, 10000);
      assert.equal(s.fill, 'red');
    });

    it('takes the password from the environment variable named in passwordEnv', async () => {
      process.env.GB28181_TEST_PASSWORD = 'plat-secret-2';
      try {
        const flow: Flow = [register('reg', platform.port, { passwordEnv: 'GB28181_TEST_PASSWORD' }), device('dev', 'reg')];
        await helper.load(inits, flow);
        await waitForStatus(helper.getNode('dev'), /^registered/);
      } finally {
        delete process.env.GB28181_TEST_PASSWORD;
      }
    });

    it('frees its SIP port on close (redeploy)', async () => {
      const port = await freePort();
      const flow: Flow = [register('reg', platform.port, { localPort: port }), device('dev', 'reg')];
      await helper.load(inits, flow, { reg: { password: 'plat-secret-2' } });
      await waitForStatus(helper.getNode('dev'), /^registered/);
      await helper.unload();
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, '127.0.0.1', () => resolve());
      });
      sock.close();
      // Unregistered on the way out (REGISTER Expires: 0).
      await waitFor('the platform to see the device unregister', () => !platform.device('34020000001180000001'), 3000).catch(() => undefined);
    });
  });

  describe('health-monitor', () => {
    it('summarises what it receives, asks a stalled camera to reconnect once per period, and serves Prometheus metrics', async () => {
      await helper.startServer();
      try {
        const flow: Flow = [
          { id: 'hm', type: 'health-monitor', interval: 3600, stallAfter: 2, reconnectEvery: 3600, metrics: true, wires: [['sum'], ['rec']] },
          { id: 'sum', type: 'helper' },
          { id: 'rec', type: 'helper' },
        ];
        await helper.load(inits, flow);
        const hm = helper.getNode('hm');
        hm.receive({ topic: 'registration', payload: { deviceId: '34020000001180000001', platform: '34020000002000000001@127.0.0.1:5060', state: 'registered', channels: 2, live: 1 } });
        hm.receive({ topic: 'channel', payload: { channelId: '34020000001320000001', name: 'Gate', online: true, sourceNodeId: 'srcA' } });
        hm.receive({ topic: 'channel', payload: { channelId: '34020000001320000002', name: 'Yard', online: true, sourceNodeId: 'srcB' } });
        hm.receive({ topic: 'stats', payload: { complete: true, sources: [
          { key: '34020000001320000001/main', state: 'online', fps: 25, bitrate: 800000, lastFrameAgeMs: 40, reconnects: 0, frames: 100 },
          { key: '34020000001320000002/main', state: 'online', fps: 25, bitrate: 500000, lastFrameAgeMs: 5000, reconnects: 2, frames: 50 },
        ], sessions: [{ callId: 'c1', channelId: '34020000001320000001', destination: 'udp 127.0.0.1:30000', packets: 120, bytes: 150000, droppedFrames: 0 }] } });
        hm.receive({ topic: 'control', payload: { type: 'ptz' } }); // not for the ledger: ignored, no error
        const sum = helper.getNode('sum');
        const rec = helper.getNode('rec');
        const summary = new Promise<{ payload: { platforms: unknown[]; channels: Array<{ channelId: string; stalled: boolean; fps?: number }>; sessions: unknown[] } }>((r) => sum.once('input', r));
        const reconnect = new Promise<{ topic: string; payload: { channelId: string; sourceNodeId: string; reason: string } }>((r) => rec.once('input', r));
        hm.receive({ topic: 'summary' });
        const s = await summary;
        assert.equal(s.payload.platforms.length, 1);
        assert.equal(s.payload.sessions.length, 1);
        const yard = s.payload.channels.find((c) => c.channelId === '34020000001320000002');
        assert.equal(yard?.stalled, true);
        assert.equal(s.payload.channels.find((c) => c.channelId === '34020000001320000001')?.stalled, false);
        const r = await reconnect;
        assert.equal(r.topic, 'reconnect');
        assert.equal(r.payload.channelId, '34020000001320000002');
        assert.equal(r.payload.sourceNodeId, 'srcB');
        assert.match(r.payload.reason, /no frame for 5 s/);
        // Within the period, no second request.
        let again = 0;
        rec.on('input', () => again++);
        hm.receive({ topic: 'summary' });
        await new Promise((res) => setTimeout(res, 200));
        assert.equal(again, 0);

        const res = await helper.request().get('/gb28181/metrics/hm').expect(200);
        assert.match(res.text, /^gb28181_registered\{device="34020000001180000001",platform="[^"]+"\} 1$/m);
        assert.match(res.text, /^gb28181_channel_fps\{channel="34020000001320000001"\} 25$/m);
        assert.match(res.text, /^gb28181_session_bytes_total\{call_id="c1",channel="34020000001320000001"\} 150000$/m);
        await helper.request().get('/gb28181/metrics/nope').expect(404);
      } finally {
        await helper.stopServer();
      }
    });
  });
});
