/**
 * PTZ and alarms through the Node-RED nodes (issue #8), in the test helper's runtime on 127.0.0.1:
 * platform emulator (WVP's PTZCmd, PresetQuery, alarms) → gb28181-device → output 2 wire →
 * rtsp-source → simulated ONVIF camera (checks the SOAP bodies); a simulated RTSP camera gives the
 * live video the status and channel must keep whatever ONVIF does.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node, NodeInitializer } from 'node-red';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { PTZ_PROFILE_TOKEN, SimulatedOnvifCamera, SimulatedOnvifCameraOptions } from '../../lib/sim/onvif-camera';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { PROJECT_ROOT } from '../support/node-red-process';
import { callsOf, lastStatus, nodeHelper, nodeInitializers, waitFor, waitForStatus } from './node-test-support';

const helper = nodeHelper();
const DEVICE_ID = '34020000001180000001';
const CH = '34020000001320000001';
const PLATFORM_PASSWORD = 'plat-secret-8';
const CAM_PASSWORD = 'secret';

type FlowItem = { id: string; type: string; wires?: string[][] } & Record<string, unknown>;
type Msg = { topic?: string; payload?: unknown };

function sentOn(node: Node, output: number): Msg[] {
  const out: Msg[] = [];
  for (const [arg] of callsOf(node, 'send')) {
    const m = Array.isArray(arg) ? arg[output] : output === 0 ? arg : undefined;
    if (m && typeof m === 'object') out.push(m as Msg);
  }
  return out;
}

describe('nodes: PTZ over ONVIF and alarms', function () {
  this.timeout(40000);
  let inits: NodeInitializer[];
  let camera: SimulatedCamera;
  let platform: PlatformEmulator | undefined;
  let onvif: SimulatedOnvifCamera | undefined;

  before(async () => {
    inits = nodeInitializers();
    camera = new SimulatedCamera({ host: '127.0.0.1', port: 0, username: 'admin', password: CAM_PASSWORD, streams: [{ path: '/h264', video: 'h264', width: 320, height: 240, fps: 25 }] });
    await camera.start();
  });
  after(async () => {
    await camera.stop();
  });

  afterEach(async () => {
    await helper.unload();
    await onvif?.stop();
    await platform?.stop();
    onvif = undefined;
    platform = undefined;
  });

  /** Platform, ONVIF camera and the flow: reg, dev (output 2 → src and o2), src (→ dev), o2. */
  async function start(onvifOptions: SimulatedOnvifCameraOptions = {}, srcExtra: Record<string, unknown> = {}, srcCreds: Record<string, string> = {}): Promise<{ dev: Node; src: Node; o2: Node; platform: PlatformEmulator; onvif: SimulatedOnvifCamera }> {
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: PLATFORM_PASSWORD, autoQuery: false, mediaPortRange: [34100, 34199] });
    await platform.start();
    onvif = new SimulatedOnvifCamera({ username: 'admin', password: CAM_PASSWORD, ...onvifOptions });
    await onvif.start();
    const flow: FlowItem[] = [
      {
        id: 'reg', type: 'wvp-register', serverId: '34020000002000000001', domain: '3402000000', host: '127.0.0.1', port: platform.port,
        transport: 'udp', localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 34200, mediaPortMax: 34299, keepaliveInterval: 60, expires: 3600,
      },
      { id: 'dev', type: 'gb28181-device', platform: 'reg', deviceId: DEVICE_ID, deviceName: 'ptz gw', claimTimeout: 1, waitForCameras: 8, wires: [[], ['src', 'o2']] },
      {
        id: 'src', type: 'rtsp-source', name: 'Gate', channelId: CH, url: camera.url('/h264'), probeTimeout: 8,
        onvifEnabled: true, onvifHost: '127.0.0.1', onvifPort: onvif.port, stopAfter: 1000, wires: [['dev']], ...srcExtra,
      },
      { id: 'o2', type: 'helper' },
    ];
    await helper.load(inits, flow, { reg: { password: PLATFORM_PASSWORD }, src: { username: 'admin', password: CAM_PASSWORD, ...srcCreds } });
    await platform.waitForRegistration(DEVICE_ID, 15000);
    return { dev: helper.getNode('dev'), src: helper.getNode('src'), o2: helper.getNode('o2'), platform, onvif };
  }

  it('a PTZ camera: status "· PTZ", catalog PTZType 1; WVP arrows move it (signs, scale), stop stops, presets set/list/call/delete', async () => {
    const r = await start();
    const s = await waitForStatus(r.src, /^H\.264 320×240 25 fps · PTZ$/, 15000);
    assert.equal(s.fill, 'green');
    const ptzChannel = await waitFor('channel message with PTZType 1', () => sentOn(r.src, 0).find((m) => (m.payload as { ptzType?: number }).ptzType === 1));
    assert.equal((ptzChannel.payload as { online: boolean }).online, true);
    await waitForStatus(r.dev, /^registered · 1 ch/, 10000);
    const catalog = await r.platform.queryCatalog(DEVICE_ID, 8000);
    assert.equal(catalog.items.find((i) => i.DeviceID === CH)?.['Info.PTZType'], '1');

    // WVP's PTZ panel: left at horizonSpeed 128 (PtzController#ptz), then stop. The zoom speed is given:
    // without it WVP's frontEndCmdString writes a checksum 0x10 short, which lib/manscdp refuses (400).
    const t0 = Date.now();
    const left = await r.platform.ptz(DEVICE_ID, CH, 'left', { horizonSpeed: 128, verticalSpeed: 128, zoomSpeed: 0 });
    assert.equal(left.status, 200);
    const move = await waitFor('ContinuousMove at the camera', () => r.onvif.calls.find((c) => c.action === 'ContinuousMove'), 3000);
    assert.ok(Date.now() - t0 < 2000, `moved within ${Date.now() - t0} ms`);
    assert.equal(move.profileToken, PTZ_PROFILE_TOKEN);
    assert.equal(move.fault, undefined);
    assert.deepEqual(move.velocity, { x: -0.502, y: 0, zoom: 0 });
    assert.equal(move.timeoutMs, 1000, 'the stop-after bound travels as the ONVIF Timeout');
    await r.platform.ptz(DEVICE_ID, CH, 'upright', { horizonSpeed: 255, verticalSpeed: 51, zoomSpeed: 0 });
    await waitFor('up-right move', () => r.onvif.calls.some((c) => c.action === 'ContinuousMove' && c.velocity?.x === 1 && c.velocity?.y === 0.2), 3000);
    await r.platform.ptz(DEVICE_ID, CH, 'zoomin', { zoomSpeed: 15 });
    await waitFor('zoom in', () => r.onvif.calls.some((c) => c.action === 'ContinuousMove' && c.velocity?.zoom === 1 && c.velocity?.x === 0), 3000);
    await r.platform.ptzStop(DEVICE_ID, CH);
    await waitFor('Stop at the camera', () => r.onvif.calls.some((c) => c.action === 'Stop') && r.onvif.model.motion === null, 3000);

    // Presets (PTZCmd 0x81/0x82/0x83) and PresetQuery answered from the camera.
    await r.platform.preset(DEVICE_ID, CH, 'set', 5);
    await waitFor('SetPreset', () => r.onvif.model.presets().length === 1, 3000);
    await r.platform.preset(DEVICE_ID, CH, 'set', 9);
    await waitFor('second SetPreset', () => r.onvif.model.presets().length === 2, 3000);
    const listed = await r.platform.queryPresets(DEVICE_ID, CH);
    assert.deepEqual(listed.presets, [{ presetId: 5, name: 'Preset 5' }, { presetId: 9, name: 'Preset 9' }]);
    assert.equal(listed.sumNum, 2);
    await r.platform.preset(DEVICE_ID, CH, 'call', 5);
    const token5 = r.onvif.model.presets().find((p) => p.name === 'Preset 5')?.token;
    await waitFor('GotoPreset 5', () => r.onvif.calls.some((c) => c.action === 'GotoPreset' && c.presetToken === token5), 3000);
    await r.platform.preset(DEVICE_ID, CH, 'delete', 9);
    await waitFor('RemovePreset 9', () => r.onvif.model.presets().length === 1, 3000);
    assert.deepEqual((await r.platform.queryPresets(DEVICE_ID, CH)).presets, [{ presetId: 5, name: 'Preset 5' }]);

    // The PTZ commands also reached o2 as control messages; nothing the source got made an error.
    assert.ok(sentOn(r.dev, 1).some((m) => m.topic === 'control' && (m.payload as { type: string }).type === 'ptz'));
    assert.deepEqual(callsOf(r.src, 'error'), []);
    assert.equal(r.onvif.calls.filter((c) => c.fault !== undefined).length, 0, 'no call the camera rejected');
  });

  it('ONVIF answering after the first probe: the channel message is sent again with PTZType 1 and the catalog follows', async () => {
    const r = await start({ answerDelayMs: 900 });
    const first = await waitFor('first channel message', () => sentOn(r.src, 0)[0], 15000);
    assert.equal((first.payload as { ptzType: number }).ptzType, 3, 'unknown yet: the editor value (3)');
    const again = await waitFor('channel message with PTZType 1', () => sentOn(r.src, 0).find((m) => (m.payload as { ptzType?: number }).ptzType === 1), 15000);
    assert.equal((again.payload as { online: boolean }).online, true, 'the re-sent message keeps the live state');
    await waitForStatus(r.src, /^H\.264 320×240 25 fps · PTZ$/, 5000);
    await waitForStatus(r.dev, /^registered · 1 ch/, 10000);
    const catalog = await r.platform.queryCatalog(DEVICE_ID, 8000);
    assert.equal(catalog.items.find((i) => i.DeviceID === CH)?.['Info.PTZType'], '1');
  });

  it('a lost stop: the camera stops by itself after the stop-after bound', async () => {
    const r = await start({}, { stopAfter: 400 });
    await waitForStatus(r.src, /· PTZ$/, 15000);
    await r.platform.ptz(DEVICE_ID, CH, 'down', { verticalSpeed: 200, zoomSpeed: 0 });
    await waitFor('moving', () => r.onvif.model.motion !== null, 3000);
    const moved = Date.now();
    await waitFor('stopped without a stop command', () => r.onvif.model.motion === null, 3000);
    assert.ok(Date.now() - moved < 1500, `stopped after ${Date.now() - moved} ms`);
    // The camera's own ONVIF Timeout and our watchdog's Stop both bound it; the Stop is sent as well.
    await waitFor('watchdog Stop', () => r.onvif.calls.find((c) => c.action === 'Stop'), 2000);
    const stopAt = r.onvif.calls.find((c) => c.action === 'Stop')?.at ?? 0;
    assert.ok(stopAt - moved < 1500, `Stop ${stopAt - moved} ms after the move`);
  });

  it('control messages for another channel, other output-2 topics, and bad control payloads', async () => {
    const r = await start();
    await waitForStatus(r.src, /· PTZ$/, 15000);
    const before = r.onvif.calls.length;
    // Another channel's command: ignored, no error.
    r.src.receive({ topic: 'control', payload: { type: 'ptz', deviceId: '34020000001320000002', sn: '1', raw: 'A50F01020080000037', command: { kind: 'move', pan: 'left', panSpeed: 128, tiltSpeed: 0, zoomSpeed: 0, address: 1 } } });
    r.src.receive({ topic: 'registration', payload: { deviceId: DEVICE_ID, state: 'registered' } });
    r.src.receive({ topic: 'alarm-reset', payload: { deviceId: DEVICE_ID, channelId: CH } });
    // A hand-built command from a flow (e.g. a dashboard joystick) for this channel moves the camera.
    r.src.receive({ topic: 'control', payload: { type: 'ptz', deviceId: CH, command: { kind: 'move', tilt: 'up', panSpeed: 0, tiltSpeed: 255, zoomSpeed: 0 } } });
    await waitFor('hand-built move', () => r.onvif.calls.some((c, i) => i >= before && c.action === 'ContinuousMove' && c.velocity?.y === 1), 3000);
    assert.equal(r.onvif.calls.slice(before).filter((c) => c.action === 'ContinuousMove' && c.velocity?.x === -0.502).length, 0, 'the other channel did not move this camera');
    r.src.receive({ topic: 'control', payload: { type: 'ptz', deviceId: CH, command: { kind: 'move', pan: 'sideways', panSpeed: 1, tiltSpeed: 0, zoomSpeed: 0 } } });
    await waitFor('error for a bad command', () => callsOf(r.src, 'error').find(([e]) => /control: msg\.payload\.command: pan must be one of left, right/.test(String(e))), 3000);
    assert.equal(callsOf(r.src, 'error').length, 1, JSON.stringify(callsOf(r.src, 'error')));
  });

  it('a fixed camera: status "· fixed", PTZType 3 in the catalog, PTZ answered 200 and nothing sent to the camera, PresetQuery empty', async () => {
    const r = await start({ ptz: false });
    const s = await waitForStatus(r.src, /^H\.264 320×240 25 fps · fixed$/, 15000);
    assert.equal(s.fill, 'green');
    await waitForStatus(r.dev, /^registered · 1 ch/, 10000);
    const catalog = await r.platform.queryCatalog(DEVICE_ID, 8000);
    assert.equal(catalog.items.find((i) => i.DeviceID === CH)?.['Info.PTZType'], '3');
    assert.equal((await r.platform.ptz(DEVICE_ID, CH, 'right', { zoomSpeed: 0 })).status, 200);
    const listed = await r.platform.queryPresets(DEVICE_ID, CH);
    assert.deepEqual(listed.presets, []);
    assert.equal(r.onvif.calls.filter((c) => c.service === 'ptz').length, 0);
    assert.deepEqual(callsOf(r.src, 'error'), []);
  });

  it('wrong ONVIF credentials: a clear status note on a green live status, channel online, PTZ still answered at once', async () => {
    const r = await start({}, {}, { onvifUsername: 'admin', onvifPassword: 'Wr0ng-0nvif' });
    const s = await waitForStatus(r.src, /^H\.264 320×240 25 fps · ONVIF: wrong credentials$/, 15000);
    assert.equal(s.fill, 'green', 'live video wins the colour');
    const channel = sentOn(r.src, 0).at(-1)?.payload as { online: boolean; ptzType: number };
    assert.equal(channel.online, true);
    assert.equal(channel.ptzType, 3);
    await waitForStatus(r.dev, /^registered · 1 ch/, 10000);
    const t0 = Date.now();
    assert.equal((await r.platform.ptz(DEVICE_ID, CH, 'left', { zoomSpeed: 0 })).status, 200);
    assert.ok(Date.now() - t0 < 1000);
    const presetsT0 = Date.now();
    const listed = await r.platform.queryPresets(DEVICE_ID, CH);
    assert.ok(Date.now() - presetsT0 < 4000);
    assert.deepEqual(listed.presets, []);
    assert.ok(callsOf(r.src, 'warn').some(([w]) => /refused the ONVIF credentials/.test(String(w))), 'a log line says why');
    const everything = JSON.stringify([callsOf(r.src, 'status'), callsOf(r.src, 'warn'), callsOf(r.src, 'log'), sentOn(r.src, 0)]);
    assert.ok(!everything.includes('Wr0ng-0nvif') && !everything.includes(CAM_PASSWORD), 'no password anywhere');
    assert.equal(lastStatus(r.src)?.fill, 'green');
  });

  it('alarms: a flow alarm reaches the platform as WVP reads it; bad alarms are refused clearly; reset and guard come out of output 2', async () => {
    const r = await start();
    await waitForStatus(r.dev, /^registered · 1 ch/, 15000);
    const when = Date.parse('2026-03-04T05:06:07Z');
    r.dev.receive({ topic: 'alarm', payload: { channelId: CH, priority: 1, method: 5, type: 2, description: 'motion at the gate', time: when, longitude: 116.397, latitude: 39.908 } });
    const alarm = await waitFor('alarm at the platform', () => r.platform.alarms(DEVICE_ID).find((a) => a.description === 'motion at the gate'), 5000);
    assert.equal(alarm.channelId, CH);
    assert.equal(alarm.priority, 1);
    assert.equal(alarm.method, 5);
    assert.equal(alarm.type, 2);
    assert.match(alarm.time, /^2026-03-04T13:06:07/, 'AlarmTime in the platform zone (Asia/Shanghai)');
    assert.equal(alarm.longitude, 116.397);
    assert.equal(alarm.latitude, 39.908);
    assert.equal(alarm.via, 'message', 'no alarm subscription: a MESSAGE Notify/Alarm');
    const out = await waitFor('alarm event on output 2', () => sentOn(r.dev, 1).find((m) => m.topic === 'alarm'));
    assert.equal((out.payload as { delivery: string }).delivery, 'message');

    // A device-level alarm (no channelId).
    r.dev.receive({ topic: 'alarm', payload: { priority: 3, method: 2, type: 1, description: 'door contact' } });
    const devAlarm = await waitFor('device alarm', () => r.platform.alarms(DEVICE_ID).find((a) => a.description === 'door contact'), 5000);
    assert.equal(devAlarm.channelId, DEVICE_ID);

    // Bad alarms: done(err) with the field named.
    r.dev.receive({ topic: 'alarm', payload: { channelId: CH, priority: 9, method: 5 } });
    r.dev.receive({ topic: 'alarm', payload: { channelId: '34020000001320000099', priority: 1, method: 5 } });
    r.dev.receive({ topic: 'alarm', payload: { channelId: CH, priority: 1 } });
    const errors = await waitFor('three errors', () => {
      const e = callsOf(r.dev, 'error').map(([x]) => String(x));
      return e.length >= 3 ? e : undefined;
    });
    assert.ok(errors.some((e) => /alarm: msg\.payload\.priority must be a whole number 1\.\.4/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /neither this device nor one of its channels/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /msg\.payload\.method is required/.test(e)), errors.join('\n'));

    // The platform resets the alarm and arms the device: both leave output 2.
    const reset = await r.platform.alarmReset(DEVICE_ID, { targetId: CH, alarmMethod: 5 });
    assert.equal(reset.status, 200);
    const resetMsg = await waitFor('alarm-reset on output 2', () => sentOn(r.dev, 1).find((m) => m.topic === 'alarm-reset'), 3000);
    assert.deepEqual(resetMsg.payload, { deviceId: DEVICE_ID, channelId: CH });
    await r.platform.guard(DEVICE_ID, 'set');
    const guardMsg = await waitFor('guard on output 2', () => sentOn(r.dev, 1).find((m) => m.topic === 'guard'), 3000);
    assert.deepEqual(guardMsg.payload, { deviceId: DEVICE_ID, targetId: DEVICE_ID, action: 'set' });
    // The rtsp-source wired to output 2 took these without complaint.
    assert.deepEqual(callsOf(r.src, 'error'), []);
  });

  it('an alarm with an Alarm subscription goes out as NOTIFY', async () => {
    const r = await start();
    await waitForStatus(r.dev, /^registered · 1 ch/, 15000);
    const sub = await r.platform.subscribe(DEVICE_ID, 'Alarm', { expires: 60 });
    assert.equal(sub.status, 200);
    r.dev.receive({ topic: 'alarm', payload: { channelId: CH, priority: 2, method: 5, type: 2, description: 'subscribed motion' } });
    const alarm = await waitFor('alarm NOTIFY', () => r.platform.alarms(DEVICE_ID).find((a) => a.description === 'subscribed motion'), 5000);
    assert.equal(alarm.via, 'notify');
  });

  it('examples/ptz-alarm.json: the PTZ loop moves the camera, the inject raises an alarm at the platform', async () => {
    const plat = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: PLATFORM_PASSWORD, autoQuery: false, mediaPortRange: [34300, 34399] });
    platform = plat;
    await plat.start();
    const cam = new SimulatedOnvifCamera({ username: 'admin', password: CAM_PASSWORD });
    onvif = cam;
    await cam.start();
    const example = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'ptz-alarm.json'), 'utf8')) as FlowItem[];
    assert.ok(!JSON.stringify(example).match(/"password"\s*:/), 'no secret in the example');
    // Comment nodes are editor notes; inject and debug are core nodes the test runtime does not load: helpers stand in.
    const flow = example.filter((n) => n.type !== 'comment');
    const injects = new Map<string, Msg>();
    for (const n of flow) {
      if (n.type === 'wvp-register') Object.assign(n, { host: '127.0.0.1', port: plat.port, localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 34400, mediaPortMax: 34499, passwordEnv: '' });
      if (n.type === 'rtsp-source') Object.assign(n, { url: camera.url('/h264'), onvifHost: '127.0.0.1', onvifPort: cam.port });
      if (n.type === 'inject') {
        injects.set(String(n.name), { topic: String(n.topic), payload: n.payloadType === 'json' ? JSON.parse(String(n.payload)) : n.payload });
        n.type = 'helper';
      }
      if (n.type === 'debug') n.type = 'helper';
    }
    const of = (t: string) => flow.filter((n) => n.type === t);
    const src = of('rtsp-source')[0];
    const dev = of('gb28181-device')[0];
    assert.ok((dev.wires?.[1] ?? []).includes(src.id), 'device output 2 is wired to the camera');
    await helper.load(inits, flow, { [of('wvp-register')[0].id]: { password: PLATFORM_PASSWORD }, [src.id]: { username: 'admin', password: CAM_PASSWORD } });
    const deviceId = String(dev.deviceId);
    const channelId = String(src.channelId);
    await plat.waitForRegistration(deviceId, 15000);
    await waitForStatus(helper.getNode(src.id), /· PTZ$/, 15000);
    await plat.ptz(deviceId, channelId, 'right', { horizonSpeed: 255, zoomSpeed: 0 });
    await waitFor('the camera moves right', () => cam.calls.some((c) => c.action === 'ContinuousMove' && c.velocity?.x === 1), 3000);

    const motion = injects.get('motion at the gate');
    assert.ok(motion, 'the example has the motion inject');
    const injectId = flow.find((n) => n.name === 'motion at the gate')?.id as string;
    helper.getNode(injectId).send(motion);
    const alarm = await waitFor('alarm at the platform', () => plat.alarms(deviceId).find((a) => a.description === 'motion at the gate'), 5000);
    assert.equal(alarm.channelId, channelId);
    assert.equal(alarm.method, 5);
    const tamperId = flow.find((n) => n.name === 'tamper (device alarm)')?.id as string;
    helper.getNode(tamperId).send(injects.get('tamper (device alarm)'));
    await waitFor('device alarm at the platform', () => plat.alarms(deviceId).find((a) => a.channelId === deviceId), 5000);
  });
});
