/**
 * ChannelPtz against the simulated ONVIF camera over real HTTP on 127.0.0.1: DeviceControl events as
 * lib/manscdp decodes them in, SOAP calls checked by the camera out; status, PTZType and PresetQuery.
 */
import * as assert from 'node:assert/strict';
import { DEFAULTS, SourceConfig } from '../../lib/config/gateway-config';
import { DeviceControlEvent } from '../../lib/manscdp/device-control';
import { decodePtzCommand } from '../../lib/manscdp/ptz-command';
import { ChannelPtz, channelPtzOptionsFor, ChannelPtzOptions, ChannelPtzStatus, channelPtzStatusText } from '../../lib/onvif/channel-ptz';
import { PTZ_PROFILE_TOKEN, SimulatedOnvifCamera, SimulatedOnvifCameraOptions } from '../../lib/sim/onvif-camera';
import { captureLogger, LogLine, waitFor } from './onvif-fixture';
import { presetCmdHex, PTZ_BITS, ptzCmdHex } from './ptz-cmd-hex';

const CHANNEL = '34020000001320000001';

function ptzEvent(hex: string): DeviceControlEvent {
  return { type: 'ptz', deviceId: CHANNEL, sn: '1', command: decodePtzCommand(hex), raw: hex };
}

describe('onvif: ChannelPtz', function () {
  this.timeout(20000);
  let sim: SimulatedOnvifCamera | undefined;
  let ptz: ChannelPtz | undefined;
  let logs: LogLine[] = [];

  async function rig(simOptions: SimulatedOnvifCameraOptions = {}, over: Partial<ChannelPtzOptions> = {}): Promise<{ sim: SimulatedOnvifCamera; ptz: ChannelPtz }> {
    sim = new SimulatedOnvifCamera(simOptions);
    await sim.start();
    logs = [];
    ptz = new ChannelPtz({
      channelId: CHANNEL,
      name: 'gate',
      hostname: '127.0.0.1',
      port: sim.port,
      username: 'admin',
      password: 'secret',
      callTimeoutMs: 800,
      logger: captureLogger(logs),
      ...over,
    });
    return { sim, ptz };
  }

  afterEach(async () => {
    await ptz?.close();
    await sim?.stop();
    ptz = undefined;
    sim = undefined;
  });

  it('start(): connecting → ptz, PTZType 1, one status event per change', async () => {
    const r = await rig();
    const seen: ChannelPtzStatus[] = [];
    r.ptz.on('status', (s: ChannelPtzStatus) => seen.push(s));
    assert.equal(r.ptz.ptzType(), 3, 'fixed until the camera answered');
    r.ptz.start();
    assert.ok(await waitFor(() => r.ptz.status().state === 'ptz', 3000), JSON.stringify(r.ptz.status()));
    assert.equal(r.ptz.ptzType(), 1);
    assert.deepEqual(seen.map((s) => s.state), ['ptz'], 'connecting is the initial state: no event for it');
    assert.equal(channelPtzStatusText(r.ptz.status()), 'PTZ');
  });

  it('PTZCmd moves: velocity signs and scale from the speed bytes, on the PTZ profile, with the stop-after Timeout', async () => {
    const r = await rig({}, { stopAfterMs: 3000 });
    const cases: Array<[string, { x: number; y: number; zoom: number }]> = [
      [ptzCmdHex(PTZ_BITS.right, 255, 0), { x: 1, y: 0, zoom: 0 }],
      [ptzCmdHex(PTZ_BITS.left, 128, 0), { x: -0.502, y: 0, zoom: 0 }],
      [ptzCmdHex(PTZ_BITS.up, 0, 51), { x: 0, y: 0.2, zoom: 0 }],
      [ptzCmdHex(PTZ_BITS.down, 0, 255), { x: 0, y: -1, zoom: 0 }],
      [ptzCmdHex(PTZ_BITS.right | PTZ_BITS.up, 102, 204), { x: 0.4, y: 0.8, zoom: 0 }],
      [ptzCmdHex(PTZ_BITS.zoomIn, 0, 0, 15), { x: 0, y: 0, zoom: 1 }],
      [ptzCmdHex(PTZ_BITS.zoomOut, 0, 0, 3), { x: 0, y: 0, zoom: -0.2 }],
    ];
    for (const [hex, want] of cases) {
      assert.deepEqual(await r.ptz.handleControl(ptzEvent(hex)), { result: 'done' }, hex);
      const call = r.sim.calls[r.sim.calls.length - 1];
      assert.equal(call.action, 'ContinuousMove');
      assert.equal(call.profileToken, PTZ_PROFILE_TOKEN);
      assert.equal(call.fault, undefined);
      assert.equal(call.timeoutMs, 3000);
      assert.deepEqual(call.velocity, want, hex);
    }
    assert.ok(r.sim.model.motion, 'the camera moves');
    assert.deepEqual(await r.ptz.handleControl(ptzEvent(ptzCmdHex(0))), { result: 'done' });
    assert.equal(r.sim.calls[r.sim.calls.length - 1].action, 'Stop');
    assert.equal(r.sim.model.motion, null, 'stop stops');
  });

  it('a lost stop: the camera stops by itself within stopAfterMs', async () => {
    const r = await rig({}, { stopAfterMs: 300 });
    const t0 = Date.now();
    await r.ptz.handleControl(ptzEvent(ptzCmdHex(PTZ_BITS.left, 100, 0)));
    assert.ok(r.sim.model.motion);
    assert.ok(await waitFor(() => r.sim.model.motion === null, 2000));
    const stopAt = r.sim.calls.find((c) => c.action === 'Stop')?.at ?? Infinity;
    assert.ok(stopAt - t0 < 900, `stopped after ${stopAt - t0} ms`);
  });

  it('presets: set, list (PresetQuery form), call, delete; unsupported instructions and other event types are not sent', async () => {
    const r = await rig();
    assert.deepEqual(await r.ptz.presets(), []);
    await r.ptz.handleControl(ptzEvent(ptzCmdHex(PTZ_BITS.right, 80, 0)));
    assert.deepEqual(await r.ptz.handleControl(ptzEvent(presetCmdHex('set', 3))), { result: 'done' });
    assert.deepEqual(await r.ptz.handleControl(ptzEvent(presetCmdHex('set', 7))), { result: 'done' });
    assert.deepEqual(await r.ptz.presets(), [
      { presetId: 3, name: 'Preset 3' },
      { presetId: 7, name: 'Preset 7' },
    ]);
    assert.equal(r.sim.model.presets().length, 2, 'the camera keeps them');
    assert.deepEqual(await r.ptz.handleControl(ptzEvent(presetCmdHex('call', 3))), { result: 'done' });
    const goto = r.sim.calls[r.sim.calls.length - 1];
    assert.equal(goto.action, 'GotoPreset');
    assert.equal(goto.presetToken, r.sim.model.presets().find((p) => p.name === 'Preset 3')?.token);
    assert.deepEqual(await r.ptz.handleControl(ptzEvent(presetCmdHex('delete', 3))), { result: 'done' });
    assert.equal(r.sim.calls[r.sim.calls.length - 1].action, 'RemovePreset');
    assert.deepEqual(await r.ptz.presets(), [{ presetId: 7, name: 'Preset 7' }]);
    const unknown = await r.ptz.handleControl(ptzEvent(presetCmdHex('call', 9)));
    assert.equal(unknown?.result, 'ignored');
    const cruise = await r.ptz.handleControl(ptzEvent(ptzCmdHex(0x84, 1, 3)));
    assert.deepEqual(cruise, { result: 'ignored', reason: 'PTZCmd instruction 0x84 not supported' });
    assert.equal(await r.ptz.handleControl({ type: 'teleboot', deviceId: CHANNEL, sn: '2' }), undefined);
  });

  it('home position (guard position) events reach the controller; off is done without a SOAP call', async () => {
    const r = await rig({}, { allowSetHome: true });
    const before = r.sim.calls.length;
    assert.deepEqual(await r.ptz.handleControl({ type: 'home-position', deviceId: CHANNEL, sn: '3', enabled: true }), { result: 'done' });
    assert.equal(r.sim.calls[r.sim.calls.length - 1]?.action, 'SetHomePosition', 'no PresetIndex + allowSetHome: here becomes home');
    const n = r.sim.calls.length;
    assert.ok(n > before);
    assert.deepEqual(await r.ptz.handleControl({ type: 'home-position', deviceId: CHANNEL, sn: '4', enabled: false }), { result: 'done' });
    assert.equal(r.sim.calls.length, n);
  });

  it('a fixed camera: state fixed, PTZType 3, commands ignored without any PTZ call, no presets', async () => {
    const r = await rig({ ptz: false });
    r.ptz.start();
    assert.ok(await waitFor(() => r.ptz.status().state === 'fixed', 3000));
    assert.equal(r.ptz.ptzType(), 3);
    assert.equal(channelPtzStatusText(r.ptz.status()), 'fixed');
    const outcome = await r.ptz.handleControl(ptzEvent(ptzCmdHex(PTZ_BITS.right, 80, 0)));
    assert.equal(outcome?.result, 'ignored');
    assert.deepEqual(await r.ptz.presets(), []);
    assert.equal(r.sim.calls.filter((c) => c.service === 'ptz').length, 0);
  });

  it('wrong credentials: failed with a clear reason, one warning without the password, presets [] and commands answered', async () => {
    const r = await rig({}, { password: 'Wr0ng-Pa55' });
    r.ptz.start();
    assert.ok(await waitFor(() => r.ptz.status().state === 'failed', 3000));
    const s = r.ptz.status();
    assert.equal(s.code, 'ONVIF_AUTH');
    assert.match(s.reason ?? '', /refused the ONVIF credentials/);
    assert.equal(channelPtzStatusText(s), 'ONVIF: wrong credentials');
    assert.equal(r.ptz.ptzType(), 3);
    const t0 = Date.now();
    const outcome = await r.ptz.handleControl(ptzEvent(ptzCmdHex(PTZ_BITS.right, 80, 0)));
    assert.equal(outcome?.result, 'failed');
    assert.deepEqual(await r.ptz.presets(), []);
    assert.ok(Date.now() - t0 < 2000);
    const warnings = logs.filter((l) => l.level === 'warn' && /credentials/.test(l.message));
    assert.equal(warnings.filter((l) => l.message.startsWith('ONVIF ')).length, 1, 'one connect warning per cause');
    assert.ok(warnings.length <= 2, JSON.stringify(logs));
    await r.ptz.handleControl(ptzEvent(ptzCmdHex(PTZ_BITS.left, 80, 0)));
    assert.equal(logs.filter((l) => l.level === 'warn').length, warnings.length, 'repeats are not warned again');
    assert.ok(!logs.some((l) => `${l.message} ${JSON.stringify(l.context)}`.includes('Wr0ng-Pa55')));
  });

  it('a port that refuses: failed, "connection refused"', async () => {
    const r = await rig({ mode: 'refuse' });
    r.ptz.start();
    assert.ok(await waitFor(() => r.ptz.status().state === 'failed', 3000));
    assert.equal(r.ptz.status().code, 'ONVIF_REFUSED');
    assert.match(r.ptz.status().reason ?? '', /connection refused/);
    assert.equal(channelPtzStatusText(r.ptz.status()), 'ONVIF: connection refused');
    assert.deepEqual(await r.ptz.presets(), []);
  });

  it('a camera that never answers: failed with a timeout reason; presets() returns [] under 3.5 s', async () => {
    const r = await rig({ mode: 'hang' }, { callTimeoutMs: 500 });
    r.ptz.start();
    assert.ok(await waitFor(() => r.ptz.status().state === 'failed', 3000));
    assert.equal(r.ptz.status().code, 'ONVIF_TIMEOUT');
    assert.equal(channelPtzStatusText(r.ptz.status()), 'ONVIF: no answer');
    // The connect failure backs off; a PresetQuery then still answers at once with nothing.
    const t0 = Date.now();
    assert.deepEqual(await r.ptz.presets(), []);
    assert.ok(Date.now() - t0 < 3500, `${Date.now() - t0} ms`);
  });

  it('presets() on a slow camera is bounded under WVP\'s 4 s', async () => {
    const r = await rig({ answerDelayMs: 1000 }, { callTimeoutMs: 2000 });
    const t0 = Date.now();
    const list = await r.ptz.presets();
    const took = Date.now() - t0;
    assert.ok(took < 3500, `${took} ms`);
    assert.ok(took >= 2900, `gave up at its bound (${took} ms), not earlier`);
    assert.deepEqual(list, []);
  });

  it('close(): a running move is stopped, no status events afterwards', async () => {
    const r = await rig({}, { stopAfterMs: 5000 });
    await r.ptz.handleControl(ptzEvent(ptzCmdHex(PTZ_BITS.up, 0, 90)));
    assert.ok(r.sim.model.motion);
    let events = 0;
    r.ptz.on('status', () => events++);
    await r.ptz.close();
    assert.equal(r.sim.model.motion, null);
    assert.equal(events, 0);
    assert.deepEqual(await r.ptz.presets(), []);
  });

  describe('channelPtzOptionsFor', () => {
    const source = (over: Partial<SourceConfig> = {}): SourceConfig => ({
      channelId: CHANNEL,
      name: 'Gate',
      url: 'rtsp://10.1.2.3:554/stream1',
      username: 'rtspuser',
      password: 'rtsppass',
      rtspTransport: 'tcp',
      enabled: true,
      recordDirs: [],
      record: { ...DEFAULTS.record },
      onvif: { ...DEFAULTS.onvif },
      ...over,
    });

    it('defaults: RTSP host, port 80, RTSP credentials, stop after 1 s, no set home', () => {
      assert.deepEqual(channelPtzOptionsFor(source()), {
        channelId: CHANNEL,
        name: 'Gate',
        hostname: '10.1.2.3',
        port: 80,
        path: undefined,
        username: 'rtspuser',
        password: 'rtsppass',
        stopAfterMs: 1000,
        allowSetHome: false,
        logger: undefined,
      });
    });

    it('separate ONVIF host, port, path and user; IPv6 RTSP host; disabled → undefined', () => {
      const o = channelPtzOptionsFor(source({ onvif: { enabled: true, host: 'cam.local', port: 8080, path: '/onvif/dev', username: 'onv', password: 'op', stopAfterMs: 400, allowSetHome: true } }));
      assert.equal(o?.hostname, 'cam.local');
      assert.equal(o?.port, 8080);
      assert.equal(o?.path, '/onvif/dev');
      assert.equal(o?.username, 'onv');
      assert.equal(o?.password, 'op');
      assert.equal(o?.stopAfterMs, 400);
      assert.equal(o?.allowSetHome, true);
      assert.equal(channelPtzOptionsFor(source({ url: 'rtsp://[::1]:554/s' }))?.hostname, '::1');
      assert.equal(channelPtzOptionsFor(source({ onvif: { ...DEFAULTS.onvif, enabled: false } })), undefined);
    });
  });
});
