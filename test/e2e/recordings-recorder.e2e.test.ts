/**
 * The gateway's own recorder end to end (issue #7): the headless runner's Gateway records the
 * simulated camera continuously from the same RTSP pull a live viewer uses, RecordInfo lists the
 * segments and Playback decodes them, retention removes the oldest recording, and RecordCmd
 * Record/StopRecord (with its Response) drives an on-command recorder.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Gateway } from '../../lib/gateway/gateway';
import { silentLogger } from '../../lib/logger';
import { formatWallClock } from '../../lib/record/zoned-time';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { InviteSession } from '../../lib/sim/platform/invite-session';
import { PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { PsDecodeCheck } from '../media/ps-capture-check';
import { makeSegment, secondOfDay, tempDir } from '../record/record-fixtures';
import { CH1, CH2, CH3, DEVICE_ID, nextDialogMessage, sourceConfig, startPair, waitUntil } from './recordings-harness';

const TZ = 'Asia/Shanghai';
const DAY_MS = 86_400_000;

/** `YYYY-MM-DDTHH:mm:ss` (Asia/Shanghai) → Unix seconds. */
const toUnix = (wall: string): number => Date.parse(`${wall}+08:00`) / 1000;

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.ts')) out.push(path.join(d, e.name));
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

describe('recorder through the headless runner (e2e)', function () {
  this.timeout(90_000);
  let root: string;
  let camera: SimulatedCamera;
  let platform: PlatformEmulator | undefined;
  let gateway: Gateway | undefined;
  const sessions: InviteSession[] = [];
  const check = new PsDecodeCheck();

  before(async () => {
    root = await tempDir('e2e-recorder');
    const small = { video: 'h264' as const, width: 160, height: 120, fps: 10, gop: 10, bitrateKbps: 150 };
    camera = new SimulatedCamera({ streams: [{ path: '/a', ...small }, { path: '/b', ...small }], clock: false });
    await camera.start();
  });

  after(async () => {
    for (const s of sessions) if (!s.isEnded) await s.bye().catch(() => s.close());
    await gateway?.stop();
    await platform?.stop();
    await camera.stop();
    check.cleanup();
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('records continuously on the live pull (one RTSP connection), lists and plays the segments, retention drops the oldest, RecordCmd drives the on-command recorder', async () => {
    const recA = path.join(root, 'a');
    const recB = path.join(root, 'b');
    const recC = path.join(root, 'c');
    // A recording from last month: retention (max_age_days 7) must remove it.
    const old = path.join(recA, '2025-06-12', '10-00-00.ts');
    await makeSegment(old, secondOfDay('10:00:00'), 2);
    const monthAgo = new Date(Date.now() - 30 * DAY_MS);
    await fsp.utimes(old, monthAgo, monthAgo);
    await fsp.mkdir(recC, { recursive: true });

    ({ platform, gateway } = await startPair(() => [
      sourceConfig(CH1, camera.url('/a'), [recA], { mode: 'continuous', segmentSeconds: 2, maxAgeDays: 7 }),
      sourceConfig(CH2, camera.url('/b'), [recB], { mode: 'on-command', segmentSeconds: 2 }),
      sourceConfig(CH3, camera.url('/b'), [recC], { mode: 'off' }),
    ]));
    const gw = gateway;
    const pf = platform;
    const ch1 = gw.recordings?.channel(CH1);
    assert.ok(ch1?.recorder, 'channel 1 has a recorder');
    const segments: string[] = [];
    ch1.recorder.on('segment', (s) => segments.push(s.path));
    const recordingEvents: [string, boolean][] = [];
    gw.on('recording', (id: string, on: boolean) => recordingEvents.push([id, on]));

    // A live viewer on the same camera while the recorder runs.
    const live = await pf.invite(DEVICE_ID, CH1, { transport: 'udp' });
    sessions.push(live);
    await live.waitForPackets(50, 15_000);
    await waitUntil(() => segments.length >= 2, 20_000, 'two recorded segments');
    const stats = camera.stats();
    assert.equal(stats.perPath['/a']?.clients, 1, 'camera path /a serves one RTSP session for live view and recorder');
    assert.equal(stats.sessions, 1, 'one RTSP session on the camera in all');

    // Retention: the month-old recording is gone from disk and from RecordInfo.
    await waitUntil(() => !fs.existsSync(old), 5000, 'retention to delete the oldest recording');
    const oldDay = await pf.queryRecordInfo(DEVICE_ID, CH1, '2025-06-12T00:00:00', '2025-06-12T23:59:59');
    assert.equal(oldDay.sumNum, 0, 'the deleted recording is no longer listed');

    // RecordInfo lists what the recorder wrote, in the platform's zone.
    const now = Date.now();
    const listed = await pf.queryRecordInfo(DEVICE_ID, CH1, formatWallClock(now - 3600_000, TZ), formatWallClock(now + 3600_000, TZ));
    assert.ok(listed.sumNum >= 2, `segments listed: ${listed.sumNum}`);
    const first = listed.items.sort((x, y) => x.StartTime.localeCompare(y.StartTime))[0];
    const length = toUnix(first.EndTime) - toUnix(first.StartTime);
    assert.ok(length >= 1 && length <= 4, `segment ${first.StartTime}..${first.EndTime}`);
    assert.match(first.FilePath, /\.ts$/);

    // Playback of the first segment decodes.
    const output = path.join(root, 'recorded.ps');
    const pb = await pf.invite(DEVICE_ID, CH1, { transport: 'udp', sessionType: 'Playback', startTime: toUnix(first.StartTime), endTime: toUnix(first.EndTime), output });
    sessions.push(pb);
    const ended = await nextDialogMessage(pb, 'MediaStatus', 15_000);
    assert.equal(ended.fields.NotifyType, '121');
    await pb.bye();
    await new Promise((r) => setTimeout(r, 100));
    const report = await check.probe(output);
    assert.equal(report.videoCodec, 'h264');
    assert.equal(report.width, 160);
    assert.ok(report.videoFrames >= 8, `decoded ${report.videoFrames} frames`);
    await live.bye();

    // RecordCmd on the on-command channel: Record, a segment, StopRecord; each answered with a Response.
    const rec = await pf.sendDeviceControl(DEVICE_ID, CH2, { RecordCmd: 'Record' });
    assert.equal(rec.status, 200);
    assert.equal(rec.response?.Result, 'OK', 'RecordCmd Record answered OK within 1 s');
    await waitUntil(() => recordingEvents.some(([id, on]) => id === CH2 && on), 2000, 'channel 2 recording');
    assert.equal(gw.recordings?.isRecording(CH2), true);
    await waitUntil(() => tsFiles(recB).length >= 1, 15_000, 'a segment of the on-command recorder');
    const stop = await pf.sendDeviceControl(DEVICE_ID, CH2, { RecordCmd: 'StopRecord' });
    assert.equal(stop.response?.Result, 'OK', 'RecordCmd StopRecord answered OK');
    assert.equal(gw.recordings?.isRecording(CH2), false);
    const refused = await pf.sendDeviceControl(DEVICE_ID, CH3, { RecordCmd: 'Record' });
    assert.equal(refused.response?.Result, 'ERROR', 'a channel without a recorder answers ERROR');

    // DeviceStatus Record follows the recorders: ON while channel 1 records, OFF once stopped.
    assert.equal((await pf.queryDeviceStatus(DEVICE_ID)).Record, 'ON');
    assert.equal((await pf.sendDeviceControl(DEVICE_ID, CH1, { RecordCmd: 'StopRecord' })).response?.Result, 'OK');
    assert.equal((await pf.queryDeviceStatus(DEVICE_ID)).Record, 'OFF');
    await waitUntil(() => tsFiles(recB).length >= 1 && !fs.readdirSync(recB, { recursive: true }).some((f) => String(f).endsWith('.part')), 5000, 'the on-command segment closed');
    const b = await pf.queryRecordInfo(DEVICE_ID, CH2, formatWallClock(now - 3600_000, TZ), formatWallClock(Date.now() + 3600_000, TZ));
    assert.ok(b.sumNum >= 1, 'the on-command segment is listed');
  });

  it('a camera set to record without record_dirs: one warning at start, no recorder, no camera pull, RecordCmd answered ERROR', async () => {
    for (const s of sessions.splice(0)) if (!s.isEnded) await s.bye().catch(() => s.close());
    await gateway?.stop();
    await platform?.stop();
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => { warnings.push(m); } };
    const before = camera.stats().plays;
    ({ platform, gateway } = await startPair(() => [
      sourceConfig(CH1, camera.url('/a'), [], { mode: 'continuous', segmentSeconds: 2 }),
    ], {}, logger));
    const recordDirWarnings = warnings.filter((w) => w.includes('record_dirs'));
    assert.equal(recordDirWarnings.length, 1, warnings.join('\n'));
    assert.match(recordDirWarnings[0], new RegExp(`channel ${CH1}.*record\\.mode is "continuous" but record_dirs is empty`));
    assert.equal(gateway.recordings?.channel(CH1), undefined);
    const refused = await platform.sendDeviceControl(DEVICE_ID, CH1, { RecordCmd: 'Record' });
    assert.equal(refused.response?.Result, 'ERROR');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(camera.stats().plays, before, 'nothing pulls the camera for a recorder that is off');
  });
});
