/**
 * Issue #8 end to end through the headless runner's Gateway: WVP's subscriptions (SUBSCRIBE Catalog,
 * MobilePosition, Alarm as SIPCommander sends them, notes §8.7), the NOTIFYs they bring when a camera's
 * stream is lost and comes back (Catalog OFF/ON, video-loss alarm), alarms by MESSAGE without a
 * subscription, and ResetAlarm as DeviceStatus reports it. The platform emulator plays WVP, the simulated
 * RTSP camera is suspended to play a dead camera. Real sockets on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { Gateway } from '../../lib/gateway/gateway';
import { CatalogNotification, PlatformAlarm, PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { PlatformSubscription } from '../../lib/sim/platform/platform-subscription';
import { headerParam, headerValue } from '../../lib/sim/platform/sip-text-codec';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { PsDecodeCheck } from '../media/ps-capture-check';
import { freePort } from '../support/free-port';
import { CapturingLogger, DEVICE_ID, gatewayConfig, mediaRange, waitFor } from './ptz-gateway-fixture';

const CH_GATE = '34020000001320000011';
const CH_YARD = '34020000001320000012';
const GATE_POSITION = { longitude: 121.473701, latitude: 31.230416 };

describe('gateway subscriptions and alarms (e2e, issue #8)', function () {
  this.timeout(90_000);
  const logger = new CapturingLogger();
  let rtsp: SimulatedCamera;
  let platform: PlatformEmulator;
  let gateway: Gateway;
  const subs: Partial<Record<'Catalog' | 'MobilePosition' | 'Alarm', PlatformSubscription>> = {};
  const catalogNotifies: CatalogNotification[] = [];
  const alarms: PlatformAlarm[] = [];
  let positions = 0;
  const check = new PsDecodeCheck();

  before(async () => {
    rtsp = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    await rtsp.start();
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, autoQuery: false });
    const { port } = await platform.start();
    platform.on('catalog-notify', (n) => catalogNotifies.push(n));
    platform.on('alarm', (a) => alarms.push(a));
    platform.on('mobile-position', () => positions++);
    const url = rtsp.url('/h264');
    const config = gatewayConfig(port, mediaRange(await freePort()), [
      { channel_id: CH_GATE, name: 'Gate', url, onvif: { enabled: false }, ...GATE_POSITION },
      { channel_id: CH_YARD, name: 'Yard', url, onvif: { enabled: false } },
    ]);
    gateway = new Gateway(config, { logger, probeOnStart: false });
    await gateway.start();
    await platform.waitForRegistration(DEVICE_ID, 15_000);
    // WVP reads the catalog after registering; the emulator keeps channel status from it and the NOTIFYs.
    await platform.queryCatalog(DEVICE_ID, 5000);
  });

  after(async () => {
    for (const s of platform?.openSessions() ?? []) await s.bye().catch(() => undefined);
    await gateway?.stop();
    await platform?.stop();
    await rtsp?.stop();
    check.cleanup();
  });

  /** Starts a live call on the channel so its camera feed runs (the gateway only watches cameras it pulls). */
  async function watch(channelId: string, name: string) {
    const session = await platform.invite(DEVICE_ID, channelId, { transport: 'udp', output: path.join(check.dir, `${name}.ps`) });
    assert.equal(session.status, 200);
    await session.waitForPackets(30, 15_000);
    return session;
  }

  async function dutyStatus(channelId: string): Promise<string | undefined> {
    const status = await platform.queryDeviceStatusDetail(DEVICE_ID);
    return status.alarmStatus.find((a) => a.deviceId === channelId)?.dutyStatus;
  }

  it('answers SUBSCRIBE Catalog, MobilePosition and Alarm with 200, Expires and the Event header with its id', async () => {
    subs.Catalog = await platform.subscribe(DEVICE_ID, 'Catalog', { expires: 60 });
    subs.MobilePosition = await platform.subscribe(DEVICE_ID, 'MobilePosition', { expires: 60, interval: 1 });
    subs.Alarm = await platform.subscribe(DEVICE_ID, 'Alarm', { expires: 60 });
    for (const [kind, sub] of Object.entries(subs)) {
      assert.ok(sub);
      assert.equal(sub.status, 200, kind);
      assert.equal(sub.state, 'active', kind);
      const req = sub.lastRequest;
      const res = sub.lastResponse;
      assert.ok(req && res, kind);
      const sentEvent = headerValue(req, 'Event') ?? '';
      const gotEvent = headerValue(res, 'Event') ?? '';
      assert.equal(gotEvent.split(';')[0].trim(), kind === 'Catalog' ? 'Catalog' : 'presence', `${kind}: event package echoed`);
      assert.ok(headerParam(gotEvent, 'id'), `${kind}: the 200 carries the Event id`);
      assert.equal(headerParam(gotEvent, 'id'), headerParam(sentEvent, 'id'), `${kind}: same Event id`);
      assert.equal(headerValue(res, 'Expires')?.trim(), '60', `${kind}: Expires`);
    }
    const held = gateway.gbDevice?.subscriptions().map((s) => s.kind).sort();
    assert.deepEqual(held, ['Alarm', 'Catalog', 'MobilePosition']);
  });

  it('reports MobilePosition at the asked interval for the channel with a configured position only', async () => {
    const seen: Array<{ channelId?: string; longitude: number; latitude: number; at: number }> = [];
    const onReport = (r: { channelId?: string; longitude: number; latitude: number; receivedAt: number }) => seen.push({ channelId: r.channelId, longitude: r.longitude, latitude: r.latitude, at: r.receivedAt });
    platform.on('mobile-position', onReport);
    try {
      await waitFor('three position reports', () => seen.length >= 3, 6000);
    } finally {
      platform.off('mobile-position', onReport);
    }
    for (const r of seen) {
      assert.equal(r.channelId ?? CH_GATE, CH_GATE, 'only the channel that has a position');
      assert.equal(r.longitude, GATE_POSITION.longitude);
      assert.equal(r.latitude, GATE_POSITION.latitude);
    }
    const gap = (seen[seen.length - 1].at - seen[0].at) / (seen.length - 1);
    assert.ok(gap > 700 && gap < 1500, `reports ${Math.round(gap)} ms apart on average for <Interval>1`);
  });

  it('a camera whose stream is lost: Catalog NOTIFY OFF and an Alarm NOTIFY (video loss); back: ON, alarm cleared', async () => {
    const startNotifies = catalogNotifies.length;
    const startAlarms = alarms.length;
    const session = await watch(CH_GATE, 'gate-1');
    // A feed that is connecting says nothing about the camera: starting a call must not flap the channel.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(catalogNotifies.slice(startNotifies).flatMap((n) => n.changes.map((c) => c.event)), [], 'no NOTIFY for starting a call');
    assert.equal(alarms.length, startAlarms, 'no alarm for starting a call');
    const notifiesBefore = catalogNotifies.length;
    const alarmsBefore = alarms.length;
    await rtsp.suspend();
    const off = await waitFor('Catalog NOTIFY OFF for the gate', () => catalogNotifies.slice(notifiesBefore).find((n) => n.changes.some((c) => c.channelId === CH_GATE && c.event === 'OFF')), 10_000);
    assert.equal(off.subscription?.callId, subs.Catalog?.callId, 'in the Catalog subscription dialog');
    const loss = await waitFor('the video-loss alarm', () => alarms.slice(alarmsBefore).find((a) => a.channelId === CH_GATE), 5000);
    assert.equal(loss.via, 'notify', 'sent to the Alarm subscriber');
    assert.equal(loss.priority, 1);
    assert.equal(loss.method, 2, 'AlarmMethod 2: device alarm');
    assert.equal(loss.type, 1, 'AlarmType 1: video loss');
    assert.equal(platform.channelStatus(DEVICE_ID, CH_GATE), 'OFF', 'WVP marks the channel offline');
    assert.equal(platform.channelStatus(DEVICE_ID, CH_YARD), 'ON', 'a camera nobody pulls is not declared lost');
    assert.equal(await dutyStatus(CH_GATE), 'ALARM');
    assert.ok(logger.warningsFor('Gate').some((l) => /offline/.test(l.message)), 'a log line names the camera');

    const onBefore = catalogNotifies.length;
    await rtsp.resume();
    await waitFor('Catalog NOTIFY ON for the gate', () => catalogNotifies.slice(onBefore).find((n) => n.changes.some((c) => c.channelId === CH_GATE && c.event === 'ON')), 20_000);
    assert.equal(platform.channelStatus(DEVICE_ID, CH_GATE), 'ON');
    assert.notEqual(await dutyStatus(CH_GATE), 'ALARM', 'video back: the video-loss alarm is cleared');
    await session.bye();
  });

  it('a camera that still answers RTSP but sends no video: Catalog NOTIFY VLOST (not OFF) and the video-loss alarm; back: ON', async () => {
    const session = await watch(CH_GATE, 'gate-vlost');
    const pids = rtsp.encoderPids();
    assert.ok(pids.length > 0, 'the camera encodes while watched');
    const notifiesBefore = catalogNotifies.length;
    const alarmsBefore = alarms.length;
    // Freezing the camera's encoder stops its media while its RTSP server keeps answering.
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const vlost = await waitFor('Catalog NOTIFY VLOST for the gate', () => catalogNotifies.slice(notifiesBefore).find((n) => n.changes.some((c) => c.channelId === CH_GATE && c.event !== 'UPDATE')), 20_000);
      assert.deepEqual(vlost.changes.filter((c) => c.channelId === CH_GATE).map((c) => c.event), ['VLOST'], 'the camera answers OPTIONS: video lost, not unreachable');
      await waitFor('the video-loss alarm', () => alarms.slice(alarmsBefore).find((a) => a.channelId === CH_GATE && a.method === 2 && a.type === 1), 5000);
      assert.equal(platform.channelStatus(DEVICE_ID, CH_GATE), 'OFF', 'WVP marks a VLOST channel offline');
    } finally {
      for (const pid of pids) {
        try { process.kill(pid, 'SIGCONT'); } catch { /* the encoder is gone */ }
      }
    }
    const onBefore = catalogNotifies.length;
    await waitFor('Catalog NOTIFY ON for the gate', () => catalogNotifies.slice(onBefore).find((n) => n.changes.some((c) => c.channelId === CH_GATE && c.event === 'ON')), 30_000);
    assert.equal(platform.channelStatus(DEVICE_ID, CH_GATE), 'ON');
    assert.deepEqual(catalogNotifies.slice(notifiesBefore).flatMap((n) => n.changes.filter((c) => c.channelId === CH_GATE).map((c) => c.event)), ['VLOST', 'ON'], 'no OFF in between');
    await session.bye().catch(() => undefined);
  });

  it('a feed closed for lack of viewers (offline, reason "stopped") leaves the channel ON and raises nothing', async () => {
    const media = gateway.mediaService;
    assert.ok(media);
    const notifiesBefore = catalogNotifies.length;
    const alarmsBefore = alarms.length;
    // What CameraFeed.stop() reports keepWarmMs (15 s) after the last call ends; emitted here to spare the wait.
    media.emit('source-state', `${CH_GATE}/main`, 'offline', 'stopped');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(catalogNotifies.length, notifiesBefore, 'no Catalog NOTIFY');
    assert.equal(alarms.length, alarmsBefore, 'no video-loss alarm');
    assert.equal(platform.channelStatus(DEVICE_ID, CH_GATE), 'ON');
  });

  it('a flow alarm reaches the platform as WVP reads it, and ResetAlarm clears it in DeviceStatus', async () => {
    const device = gateway.gbDevice;
    assert.ok(device);
    const before = alarms.length;
    const how = await device.raiseAlarm({ channelId: CH_YARD, priority: 2, method: 5, type: 2, description: 'motion in the yard', longitude: 121.47, latitude: 31.23 });
    assert.equal(how, 'notify');
    const got = await waitFor('the yard alarm', () => alarms.slice(before).find((a) => a.channelId === CH_YARD), 3000);
    assert.equal(got.priority, 2);
    assert.equal(got.method, 5);
    assert.equal(got.description, 'motion in the yard');
    // AlarmTime is the platform's wall clock (Asia/Shanghai, UTC+8 without DST), as WVP shows it.
    const wallClockMs = Date.parse(`${got.time.slice(0, 19)}Z`);
    assert.ok(Math.abs(wallClockMs - (Date.now() + 8 * 3600_000)) < 60_000, `AlarmTime ${got.time} is Shanghai's time now`);
    assert.equal(await dutyStatus(CH_YARD), 'ALARM');
    const reset = await platform.alarmReset(DEVICE_ID, { targetId: CH_YARD });
    assert.equal(reset.status, 200);
    assert.equal(reset.outcome, 'ok');
    assert.notEqual(await dutyStatus(CH_YARD), 'ALARM', 'ResetAlarm clears it');
  });

  it('a camera with ONVIF off: PTZ answered 200 and noted once, PresetQuery empty, catalog PTZType 3', async () => {
    const r = await platform.ptz(DEVICE_ID, CH_YARD, 'left', { horizonSpeed: 100, zoomSpeed: 0 });
    assert.equal(r.status, 200);
    await waitFor('the note', () => logger.lines.some((l) => l.message.includes(`PTZ command for ${CH_YARD} dropped: ONVIF is off`)), 2000);
    const presets = await platform.queryPresets(DEVICE_ID, CH_YARD);
    assert.equal(presets.sumNum, 0);
    const items = (await platform.queryCatalog(DEVICE_ID, 5000)).items;
    assert.equal(items.find((i) => i.DeviceID === CH_YARD)?.['Info.PTZType'], '3');
  });

  it('after unsubscribing no NOTIFY comes; a lost stream then raises the alarm as a MESSAGE', async () => {
    for (const sub of Object.values(subs)) assert.equal(await sub?.unsubscribe(), 200);
    assert.deepEqual(gateway.gbDevice?.subscriptions(), []);
    const session = await watch(CH_GATE, 'gate-2');
    const notifiesBefore = catalogNotifies.length;
    const alarmsBefore = alarms.length;
    const positionsBefore = positions;
    const notifyRequests: string[] = [];
    const onRequest = (method: string) => {
      if (method === 'NOTIFY') notifyRequests.push(method);
    };
    platform.on('request', onRequest);
    try {
      await rtsp.suspend();
      const loss = await waitFor('the video-loss alarm by MESSAGE', () => alarms.slice(alarmsBefore).find((a) => a.channelId === CH_GATE), 10_000);
      assert.equal(loss.via, 'message', 'no Alarm subscription: MESSAGE <Notify> CmdType Alarm');
      assert.equal(loss.type, 1);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(catalogNotifies.length, notifiesBefore, 'no Catalog NOTIFY after unsubscribe');
      assert.equal(positions, positionsBefore, 'no MobilePosition NOTIFY after unsubscribe');
      assert.deepEqual(notifyRequests, [], 'no NOTIFY at all');
    } finally {
      platform.off('request', onRequest);
      await rtsp.resume();
      await session.bye().catch(() => undefined);
    }
  });
});
