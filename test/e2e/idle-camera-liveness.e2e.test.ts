/**
 * Issue #8 for a camera nobody watches: the headless runner's liveness watch (RTSP OPTIONS every
 * livenessIntervalMs) notices an idle camera that dies, so WVP gets Catalog NOTIFY OFF and the
 * video-loss alarm, then ON and the alarm cleared when it returns; a healthy idle camera stays ON.
 * Platform emulator as WVP, simulated RTSP cameras, real sockets on 127.0.0.1.
 */
import { strict as assert } from 'node:assert';
import { Gateway } from '../../lib/gateway/gateway';
import { CatalogNotification, PlatformAlarm, PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { freePort } from '../support/free-port';
import { CapturingLogger, DEVICE_ID, gatewayConfig, mediaRange, waitFor } from './ptz-gateway-fixture';

const CH_IDLE = '34020000001320000021';
const CH_STEADY = '34020000001320000022';
const CH_LATE = '34020000001320000023';
const INTERVAL_MS = 400;

describe('idle camera liveness through the gateway (e2e, issue #8)', function () {
  this.timeout(30_000);
  const logger = new CapturingLogger();
  let dying: SimulatedCamera;
  let steady: SimulatedCamera;
  let late: SimulatedCamera | undefined;
  let latePort: number;
  let platform: PlatformEmulator;
  let gateway: Gateway;
  const catalogNotifies: CatalogNotification[] = [];
  const alarms: PlatformAlarm[] = [];

  before(async () => {
    dying = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    steady = new SimulatedCamera({ streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    await dying.start();
    await steady.start();
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, autoQuery: false });
    const { port } = await platform.start();
    platform.on('catalog-notify', (n) => catalogNotifies.push(n));
    platform.on('alarm', (a) => alarms.push(a));
    latePort = await freePort();
    const config = gatewayConfig(port, mediaRange(await freePort()), [
      { channel_id: CH_IDLE, name: 'Idle', url: dying.url('/h264'), onvif: { enabled: false } },
      { channel_id: CH_STEADY, name: 'Steady', url: steady.url('/h264'), onvif: { enabled: false } },
      // Not plugged in yet: the start probe finds nothing on this port.
      { channel_id: CH_LATE, name: 'Late', url: `rtsp://127.0.0.1:${latePort}/h264`, onvif: { enabled: false } },
    ]);
    gateway = new Gateway(config, { logger, probeOnStart: true, livenessIntervalMs: INTERVAL_MS });
    await gateway.start();
    await platform.waitForRegistration(DEVICE_ID, 15_000);
    await waitFor('the start probe of the absent camera', () => logger.lines.some((l) => l.message.includes(`${latePort}/h264 failed`)), 10_000);
    await waitFor('the start probes of the others', () => gateway.gbDevice?.channels().every((c) => c.id === CH_LATE || c.video), 10_000);
    await platform.queryCatalog(DEVICE_ID, 5000);
    assert.equal(platform.channelStatus(DEVICE_ID, CH_LATE), 'OFF');
    assert.equal((await platform.subscribe(DEVICE_ID, 'Catalog', { expires: 60 })).status, 200);
    assert.equal((await platform.subscribe(DEVICE_ID, 'Alarm', { expires: 60 })).status, 200);
  });

  after(async () => {
    await gateway?.stop();
    await platform?.stop();
    await dying?.stop();
    await steady?.stop();
    await late?.stop();
  });

  async function dutyStatus(channelId: string): Promise<string | undefined> {
    const status = await platform.queryDeviceStatusDetail(DEVICE_ID);
    return status.alarmStatus.find((a) => a.deviceId === channelId)?.dutyStatus;
  }

  it('healthy idle cameras stay ON: no NOTIFY, no alarm, nothing pulled', async () => {
    const describes = dying.stats().describes + steady.stats().describes;
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
    assert.deepEqual(catalogNotifies.flatMap((n) => n.changes.map((c) => c.event)), []);
    // (The absent camera's start probe raised its video loss already: only the healthy ones count here.)
    assert.deepEqual(alarms.filter((a) => a.channelId !== CH_LATE), []);
    assert.equal(dying.stats().describes + steady.stats().describes, describes, 'OPTIONS only: no stream opened');
  });

  it('an idle camera that dies: Catalog NOTIFY OFF and the video-loss alarm within a few intervals; back: ON, alarm cleared', async () => {
    const notifiesBefore = catalogNotifies.length;
    const lostAt = Date.now();
    await dying.suspend();
    const off = await waitFor('Catalog NOTIFY OFF', () => catalogNotifies.slice(notifiesBefore).find((n) => n.changes.some((c) => c.channelId === CH_IDLE && c.event === 'OFF')), INTERVAL_MS * 6);
    const tookMs = Date.now() - lostAt;
    assert.ok(tookMs >= INTERVAL_MS, `two failed checks before OFF (took ${tookMs} ms)`);
    assert.ok(off.subscription, 'in the Catalog subscription dialog');
    const loss = await waitFor('the video-loss alarm', () => alarms.find((a) => a.channelId === CH_IDLE), 3000);
    assert.equal(loss.via, 'notify');
    assert.equal(loss.method, 2, 'AlarmMethod 2: device alarm');
    assert.equal(loss.type, 1, 'AlarmType 1: video loss');
    assert.equal(platform.channelStatus(DEVICE_ID, CH_IDLE), 'OFF');
    assert.equal(platform.channelStatus(DEVICE_ID, CH_STEADY), 'ON', 'the other camera is untouched');
    assert.equal(await dutyStatus(CH_IDLE), 'ALARM');
    const line = logger.warningsFor('Idle').find((l) => /offline/.test(l.message));
    assert.ok(line, 'a warning names the camera');
    assert.match(line.message, /refused/);

    const onBefore = catalogNotifies.length;
    await dying.resume();
    await waitFor('Catalog NOTIFY ON', () => catalogNotifies.slice(onBefore).find((n) => n.changes.some((c) => c.channelId === CH_IDLE && c.event === 'ON')), INTERVAL_MS * 5);
    assert.equal(platform.channelStatus(DEVICE_ID, CH_IDLE), 'ON');
    assert.notEqual(await dutyStatus(CH_IDLE), 'ALARM', 'the video-loss alarm is cleared');
    assert.equal(alarms.filter((a) => a.channelId === CH_STEADY).length, 0);
  });

  it('a camera absent at start that appears: probed (ffprobe) and ON with its codec', async () => {
    const before = catalogNotifies.length;
    late = new SimulatedCamera({ port: latePort, streams: [{ path: '/h264', video: 'h264', width: 320, height: 240 }] });
    await late.start();
    await waitFor('Catalog NOTIFY ON', () => catalogNotifies.slice(before).find((n) => n.changes.some((c) => c.channelId === CH_LATE && c.event === 'ON')), 10_000);
    assert.equal(platform.channelStatus(DEVICE_ID, CH_LATE), 'ON');
    assert.ok(late.stats().describes >= 1, 'confirmed by a probe, not by OPTIONS alone');
    assert.equal(gateway.gbDevice?.channels().find((c) => c.id === CH_LATE)?.video?.codec, 'H264', 'the probe filled in the codec');
  });
});
