/**
 * Issue #8 end to end through the headless runner's Gateway: WVP's PTZ panel (PTZCmd as WVP builds it,
 * sent by the platform emulator over SIP) moves simulated ONVIF cameras (SOAP over HTTP with WS-Security,
 * checking profile token and velocity ranges as a camera does). Five cameras share one simulated RTSP
 * camera: a PTZ one, a fixed one, one with wrong ONVIF credentials, one whose ONVIF port refuses and one
 * whose ONVIF service never answers. Real sockets on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Gateway } from '../../lib/gateway/gateway';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { wvpCmdString, wvpFrontEndCmdString, wvpPresetCommandString } from '../../lib/sim/platform/ptz-command';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { PTZ_PROFILE_TOKEN, RecordedOnvifCall, SimulatedOnvifCamera } from '../../lib/sim/onvif-camera';
import { PsDecodeCheck } from '../media/ps-capture-check';
import { freePort } from '../support/free-port';
import { CapturingLogger, DEVICE_ID, gatewayConfig, mediaRange, waitFor } from './ptz-gateway-fixture';

const CH_PTZ = '34020000001320000001';
const CH_FIXED = '34020000001320000002';
const CH_BADAUTH = '34020000001320000003';
const CH_REFUSED = '34020000001320000004';
const CH_HANG = '34020000001320000005';
const STOP_AFTER_MS = 600;
/** WVP waits sip.timeout = 1000 ms for the 200 to a MESSAGE (notes §1.4). */
const WVP_SIP_TIMEOUT_MS = 1000;

describe('gateway PTZ over ONVIF (e2e, issue #8)', function () {
  this.timeout(60_000);
  const logger = new CapturingLogger();
  let rtsp: SimulatedCamera;
  let ptzCam: SimulatedOnvifCamera;
  let fixedCam: SimulatedOnvifCamera;
  let authCam: SimulatedOnvifCamera;
  let refusingCam: SimulatedOnvifCamera;
  let hangingCam: SimulatedOnvifCamera;
  let platform: PlatformEmulator;
  let gateway: Gateway;
  const check = new PsDecodeCheck();

  before(async () => {
    rtsp = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    await rtsp.start();
    ptzCam = new SimulatedOnvifCamera({ username: 'onvif', password: 'ptz-secret' });
    fixedCam = new SimulatedOnvifCamera({ username: 'onvif', password: 'ptz-secret', ptz: false });
    authCam = new SimulatedOnvifCamera({ username: 'onvif', password: 'the-real-one' });
    refusingCam = new SimulatedOnvifCamera({ username: 'onvif', password: 'ptz-secret', mode: 'refuse' });
    hangingCam = new SimulatedOnvifCamera({ username: 'onvif', password: 'ptz-secret', mode: 'hang' });
    for (const c of [ptzCam, fixedCam, authCam, refusingCam, hangingCam]) await c.start();
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, autoQuery: false });
    const { port } = await platform.start();
    const onvif = (cam: SimulatedOnvifCamera, extra: Record<string, unknown> = {}) => ({ host: '127.0.0.1', port: cam.port, username: 'onvif', password: 'ptz-secret', ...extra });
    const url = rtsp.url('/h264');
    const config = gatewayConfig(port, mediaRange(await freePort()), [
      { channel_id: CH_PTZ, name: 'Dome', url, onvif: onvif(ptzCam, { stop_after_ms: STOP_AFTER_MS }), longitude: 116.397128, latitude: 39.916527 },
      { channel_id: CH_FIXED, name: 'Bullet', url, onvif: onvif(fixedCam) },
      { channel_id: CH_BADAUTH, name: 'WrongPassword', url, onvif: onvif(authCam) },
      { channel_id: CH_REFUSED, name: 'Refusing', url, onvif: onvif(refusingCam) },
      { channel_id: CH_HANG, name: 'Hanging', url, onvif: onvif(hangingCam) },
    ]);
    // Cameras that are not connected are tried again every second (default 30 s) for the late-camera case.
    gateway = new Gateway(config, { logger, probeOnStart: false, ptzOverrides: { reconnectEveryMs: 1000 } });
    await gateway.start();
    await platform.waitForRegistration(DEVICE_ID, 15_000);
  });

  after(async () => {
    await gateway?.stop();
    await platform?.stop();
    for (const c of [ptzCam, fixedCam, authCam, refusingCam, hangingCam]) await c?.stop();
    await rtsp?.stop();
    check.cleanup();
  });

  /** Sends one PTZCmd as WVP does and checks the 200 came within WVP's wait. */
  async function ptz(channelId: string, cmd: string): Promise<void> {
    const t0 = Date.now();
    const r = await platform.sendDeviceControl(DEVICE_ID, channelId, { PTZCmd: cmd });
    assert.equal(r.status, 200, `PTZCmd ${cmd} to ${channelId}`);
    assert.ok(Date.now() - t0 < WVP_SIP_TIMEOUT_MS, `answered in ${Date.now() - t0} ms`);
  }

  function nextCall(cam: SimulatedOnvifCamera, action: string, from: number, timeoutMs = 3000): Promise<RecordedOnvifCall> {
    return waitFor(`${action} on the camera`, () => cam.calls.slice(from).find((c) => c.action === action), timeoutMs);
  }

  it('lists the PTZ camera as PTZType 1 once ONVIF answers, the others as fixed (3), with the configured position', async () => {
    let items: Record<string, string>[] = [];
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      items = (await platform.queryCatalog(DEVICE_ID, 5000)).items;
      if (items.find((i) => i.DeviceID === CH_PTZ)?.['Info.PTZType'] === '1') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const byId = new Map(items.map((i) => [i.DeviceID, i]));
    assert.equal(byId.size, 5);
    assert.equal(byId.get(CH_PTZ)?.['Info.PTZType'], '1', 'PTZ dome');
    for (const id of [CH_FIXED, CH_BADAUTH, CH_REFUSED, CH_HANG]) assert.equal(byId.get(id)?.['Info.PTZType'], '3', `${id} fixed`);
    assert.equal(Number(byId.get(CH_PTZ)?.Longitude), 116.397128);
    assert.equal(Number(byId.get(CH_PTZ)?.Latitude), 39.916527);
    assert.equal(byId.get(CH_FIXED)?.Longitude, undefined, 'no position configured: none listed');
  });

  it('moves the camera with the right velocity signs and scale for each direction and speed, and stop stops', async () => {
    // [PTZCmd, expected ONVIF velocity]; +x right, +y up, +zoom tele (ONVIF PTZ §5.7.1); speeds byte/255, zoom nibble/15.
    const cases: Array<[string, string, { x: number; y: number; zoom: number }]> = [
      ['right 255', wvpCmdString(2, 0, 0, 255, 0), { x: 1, y: 0, zoom: 0 }],
      ['left 128', wvpCmdString(1, 0, 0, 128, 0), { x: -128 / 255, y: 0, zoom: 0 }],
      ['up 64', wvpCmdString(0, 1, 0, 64, 0), { x: 0, y: 64 / 255, zoom: 0 }],
      ['down 200', wvpCmdString(0, 2, 0, 200, 0), { x: 0, y: -200 / 255, zoom: 0 }],
      ['up-right 100/50', wvpFrontEndCmdString(0x09, 100, 50, 0), { x: 100 / 255, y: 50 / 255, zoom: 0 }],
      ['down-left 30/240', wvpFrontEndCmdString(0x06, 30, 240, 0), { x: -30 / 255, y: -240 / 255, zoom: 0 }],
      ['zoom in 15', wvpFrontEndCmdString(0x10, 0, 0, 15), { x: 0, y: 0, zoom: 1 }],
      ['zoom out 5', wvpFrontEndCmdString(0x20, 0, 0, 5), { x: 0, y: 0, zoom: -5 / 15 }],
    ];
    const stop = wvpCmdString(0, 0, 0, 0, 0);
    for (const [label, cmd, want] of cases) {
      const from = ptzCam.calls.length;
      await ptz(CH_PTZ, cmd);
      const move = await nextCall(ptzCam, 'ContinuousMove', from);
      assert.equal(move.fault, undefined, `${label}: camera accepted it`);
      assert.equal(move.profileToken, PTZ_PROFILE_TOKEN, `${label}: the profile with the PTZ configuration`);
      const v = move.velocity ?? {};
      for (const axis of ['x', 'y', 'zoom'] as const) {
        assert.ok(Math.abs((v[axis] ?? 0) - want[axis]) < 0.001, `${label}: ${axis} ${String(v[axis])} ≈ ${want[axis]}`);
      }
      assert.ok(ptzCam.model.motion, `${label}: the camera moves`);
      const stopFrom = ptzCam.calls.length;
      await ptz(CH_PTZ, stop);
      const stopped = await nextCall(ptzCam, 'Stop', stopFrom);
      assert.equal(stopped.fault, undefined);
      assert.equal(ptzCam.model.motion, null, `${label}: stop stops`);
    }
  });

  it('stops a move by itself when the stop is lost, within the configured bound', async () => {
    const from = ptzCam.calls.length;
    await ptz(CH_PTZ, wvpCmdString(2, 0, 0, 80, 0));
    const move = await nextCall(ptzCam, 'ContinuousMove', from);
    assert.ok(move.timeoutMs !== undefined && move.timeoutMs <= STOP_AFTER_MS, `ContinuousMove carries the ONVIF Timeout (${String(move.timeout)})`);
    const stop = await nextCall(ptzCam, 'Stop', from, STOP_AFTER_MS + 2000);
    const after = stop.at - move.at;
    assert.ok(after >= STOP_AFTER_MS - 50 && after < STOP_AFTER_MS + 1000, `watchdog Stop ${after} ms after the move`);
    assert.equal(ptzCam.model.motion, null);
  });

  it('sets, calls and deletes presets mapped to the camera tokens', async () => {
    let from = ptzCam.calls.length;
    await ptz(CH_PTZ, wvpPresetCommandString('set', 3));
    const set3 = await nextCall(ptzCam, 'SetPreset', from);
    from = ptzCam.calls.length;
    await ptz(CH_PTZ, wvpPresetCommandString('set', 7));
    await nextCall(ptzCam, 'SetPreset', from);
    assert.equal(ptzCam.model.presets().length, 2);
    const token3 = ptzCam.model.presets().find((p) => p.name === set3.presetName)?.token;
    assert.ok(token3, 'preset 3 exists on the camera');
    const listed = await platform.queryPresets(DEVICE_ID, CH_PTZ);
    assert.equal(listed.complete, true);
    assert.equal(listed.sumNum, 2);
    assert.deepEqual(listed.presets.map((p) => p.presetId).sort((a, b) => a - b), [3, 7]);

    from = ptzCam.calls.length;
    await ptz(CH_PTZ, wvpPresetCommandString('call', 3));
    const gotoCall = await nextCall(ptzCam, 'GotoPreset', from);
    assert.equal(gotoCall.presetToken, token3);
    assert.equal(gotoCall.fault, undefined);

    // HomePosition (guard position, GB28181-2016 A.2.3): preset 3 after 1 s idle.
    from = ptzCam.calls.length;
    const home = await platform.sendDeviceControl(DEVICE_ID, CH_PTZ, { 'HomePosition.Enabled': '1', 'HomePosition.ResetTime': '1', 'HomePosition.PresetIndex': '3' });
    assert.equal(home.status, 200);
    const back = await nextCall(ptzCam, 'GotoPreset', from, 3000);
    assert.equal(back.presetToken, token3, 'back to the guard preset when idle');
    await platform.sendDeviceControl(DEVICE_ID, CH_PTZ, { 'HomePosition.Enabled': '0' });

    from = ptzCam.calls.length;
    await ptz(CH_PTZ, wvpPresetCommandString('delete', 7));
    await nextCall(ptzCam, 'RemovePreset', from);
    assert.deepEqual(ptzCam.model.presets().map((p) => p.token), [token3]);
    const after = await platform.queryPresets(DEVICE_ID, CH_PTZ);
    assert.deepEqual(after.presets.map((p) => p.presetId), [3], 'PresetQuery follows the delete');
  });

  it('answers a PTZ command for a fixed camera with 200 and sends no PTZ call', async () => {
    await waitFor('the fixed camera connected', () => fixedCam.requests.some((r) => r.action === 'GetProfiles'), 5000);
    await ptz(CH_FIXED, wvpCmdString(2, 0, 0, 100, 0));
    await ptz(CH_FIXED, wvpCmdString(0, 0, 0, 0, 0));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(fixedCam.calls.filter((c) => c.service === 'ptz'), []);
    const presets = await platform.queryPresets(DEVICE_ID, CH_FIXED);
    assert.equal(presets.sumNum, 0, 'a fixed camera has no presets');
    assert.ok(logger.lines.some((l) => l.context?.camera === 'Bullet' && /fixed/.test(l.message)), 'the fixed camera is named in the log');
  });

  it('wrong credentials, a refused port and a silent camera: control answered in time, a log line per camera, live video goes on', async () => {
    for (const id of [CH_BADAUTH, CH_REFUSED, CH_HANG]) {
      await ptz(id, wvpCmdString(1, 0, 0, 100, 0));
      await ptz(id, wvpCmdString(0, 0, 0, 0, 0));
    }
    // Each failing camera gets its own warning naming it and the cause.
    const causes: Array<[string, RegExp]> = [['WrongPassword', /credential|auth/i], ['Refusing', /refus/i], ['Hanging', /timed out|no answer|timeout/i]];
    for (const [camera, cause] of causes) {
      const lines = await waitFor(`a warning for ${camera}`, () => {
        const w = logger.warningsFor(camera);
        return w.some((l) => cause.test(l.message)) ? w : undefined;
      }, 8000);
      assert.ok(lines.length >= 1, logger.text());
    }
    assert.ok(authCam.requests.some((r) => r.action === 'GetProfiles' && !r.authenticated), 'the camera saw the wrong credentials');
    // PresetQuery still answered within WVP's 4 s wait (notes §8.7), empty.
    for (const id of [CH_BADAUTH, CH_REFUSED, CH_HANG]) {
      const t0 = Date.now();
      const r = await platform.queryPresets(DEVICE_ID, id, 4000);
      assert.equal(r.sumNum, 0, id);
      assert.ok(Date.now() - t0 < 4000, `${id}: PresetQuery answered in ${Date.now() - t0} ms`);
    }
    assert.deepEqual(authCam.calls.filter((c) => c.action === 'ContinuousMove'), [], 'no move passed the camera\'s auth');

    // Live video on the channel whose ONVIF service hangs still decodes.
    const output = path.join(check.dir, 'hang.ps');
    const session = await platform.invite(DEVICE_ID, CH_HANG, { transport: 'udp', output });
    assert.equal(session.status, 200);
    await session.waitForPackets(100, 20_000);
    await session.bye();
    const report = await check.probe(output);
    assert.equal(report.videoCodec, 'h264');
    assert.ok(report.videoFrames > 5, `decoded ${report.videoFrames} frames`);
  });

  it('a camera whose ONVIF port opens later becomes PTZ: Catalog NOTIFY UPDATE with PTZType 1, then it moves', async () => {
    const sub = await platform.subscribe(DEVICE_ID, 'Catalog', { expires: 60 });
    assert.equal(sub.status, 200);
    try {
      const [[update]] = await Promise.all([
        platform.waitForEvent('catalog-notify', (n) => n.changes.some((c) => c.channelId === CH_REFUSED && c.item['Info.PTZType'] === '1'), 15_000),
        refusingCam.setMode('normal'),
      ]);
      const change = update.changes.find((c) => c.channelId === CH_REFUSED);
      assert.equal(change?.event, 'UPDATE');
      const items = (await platform.queryCatalog(DEVICE_ID, 5000)).items;
      assert.equal(items.find((i) => i.DeviceID === CH_REFUSED)?.['Info.PTZType'], '1');
      const from = refusingCam.calls.length;
      await ptz(CH_REFUSED, wvpCmdString(0, 1, 0, 255, 0));
      const move = await nextCall(refusingCam, 'ContinuousMove', from);
      assert.equal(move.velocity?.y, 1);
      await ptz(CH_REFUSED, wvpCmdString(0, 0, 0, 0, 0));
      await nextCall(refusingCam, 'Stop', from);
    } finally {
      await sub.unsubscribe();
    }
  });

  it('logs and drops a PTZ command addressed to the device itself', async () => {
    await ptz(DEVICE_ID, wvpCmdString(2, 0, 0, 100, 0));
    await waitFor('the dropped-command note', () => logger.lines.some((l) => /dropped: it is addressed to the device/.test(l.message)), 2000);
  });
});
