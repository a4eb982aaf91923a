/**
 * Recordings through the Node-RED nodes (issue #7), in the test helper's runtime against the
 * platform emulator and the simulated camera, on 127.0.0.1 only:
 * - an rtsp-source with a folder of ffmpeg-made files: RecordInfo lists them; a Playback INVITE
 *   through gb28181-device → ps-rtp-sender brings PS that decodes to the requested seconds;
 *   MANSRTSP PAUSE/PLAY reach the sender; a Download ends with MediaStatus 121 in its Call-ID;
 * - a continuous recorder: status says "recording", segments appear and are listed and played
 *   back, and while a viewer watches live the camera sees one RTSP session;
 * - an on-command recorder follows RecordCmd.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeInitializer } from 'node-red';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { InviteSession, PlatformEmulator } from '../../lib/sim/platform/platform-emulator';
import { readStreamRequestMessage } from '../../lib/node-glue/flow-messages';
import { joinSharedFeedPool } from '../../lib/node-glue/shared-feed-pool';
import { readSourceRecordingSettings, wiredPlatformTimeZone } from '../../lib/node-glue/source-recording-settings';
import { freePort } from '../support/free-port';
import { PROJECT_ROOT } from '../support/node-red-process';
import { decodeSecondCodes, FFPROBE, FPS, makeSegment, run } from '../record/record-fixtures';
import { ffChildren, lastStatus, nodeHelper, nodeInitializers, waitFor, waitForStatus } from './node-test-support';

const helper = nodeHelper();
const DEVICE_ID = '34020000001180000001';
const CH = '34020000001320000001';

type FlowItem = { id: string; type: string; wires?: string[][] } & Record<string, unknown>;


/** Second codes (mod 36) of every frame of a received MPEG-PS file; ffmpeg must decode it without error. */
async function decodePsCodes(file: string): Promise<number[]> {
  const r = await decodeSecondCodes(fs.readFileSync(file), 'mpeg');
  if (r.exitCode !== 0 || r.errors.trim()) throw new Error(`ffmpeg could not decode ${file}: ${r.errors}`);
  return r.codes;
}

/** Video codec and frame count of a file as ffprobe reads it. */
async function probeVideo(file: string): Promise<{ codec: string; frames: number }> {
  const out = await run(FFPROBE, ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', file]);
  const s = (JSON.parse(out.toString()) as { streams: Array<{ codec_name: string; nb_read_frames?: string }> }).streams[0];
  return { codec: s?.codec_name ?? 'none', frames: Number(s?.nb_read_frames ?? 0) };
}

/** Unix seconds of an Asia/Shanghai wall-clock time (UTC+8, no DST). */
const shanghai = (date: string, hms: string): number => Date.parse(`${date}T${hms}+08:00`) / 1000;

/** Today's date in Asia/Shanghai, `YYYY-MM-DD`. */
function shanghaiToday(at = Date.now()): string {
  return new Date(at + 8 * 3600_000).toISOString().slice(0, 10);
}

function waitForMediaStatus(session: InviteSession, timeoutMs: number): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no MediaStatus within ${timeoutMs} ms (call ${session.callId})`)), timeoutMs);
    session.on('message', (cmdType, fields) => {
      if (cmdType !== 'MediaStatus') return;
      clearTimeout(timer);
      resolve(fields);
    });
  });
}

const lastStatusOf = (id: string) => lastStatus(helper.getNode(id));

describe('recordings through the nodes', function () {
  this.timeout(90_000);
  let inits: NodeInitializer[];
  let camera: SimulatedCamera;
  let platform: PlatformEmulator;
  let tmp: string;
  const sessions: InviteSession[] = [];

  before(async () => {
    inits = nodeInitializers();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gb-nodes-rec-'));
    camera = new SimulatedCamera({ host: '127.0.0.1', port: 0, streams: [{ path: '/h264', video: 'h264', width: 320, height: 240, fps: 25, gop: 25 }] });
    await camera.start();
  });

  beforeEach(async () => {
    platform = new PlatformEmulator({ host: '127.0.0.1', port: 0, password: 'rec-secret', autoQuery: false, mediaPortRange: [36000, 36099] });
    await platform.start();
  });

  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.bye().catch(() => undefined);
    await helper.unload();
    await platform.stop();
  });

  after(async () => {
    await camera.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function flow(source: Record<string, unknown>): FlowItem[] {
    return [
      { id: 'reg', type: 'wvp-register', serverId: '34020000002000000001', domain: '3402000000', host: '127.0.0.1', port: platform.port, transport: 'udp',
        localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 36100, mediaPortMax: 36199, keepaliveInterval: 60, expires: 3600 },
      { id: 'dev', type: 'gb28181-device', platform: 'reg', deviceId: DEVICE_ID, claimTimeout: 2, waitForCameras: 8, wires: [['snd'], []] },
      { id: 'src', type: 'rtsp-source', name: 'Gate', url: camera.url('/h264'), channelId: CH, retryInterval: 1, wires: [['dev']], ...source },
      { id: 'snd', type: 'ps-rtp-sender', keepWarm: 0, statsInterval: 1, wires: [[]] },
    ];
  }

  /** RecordInfo for a day, asked again until the background index satisfies `expect` (bounded). */
  async function recordInfo(date: string, expect: (n: number) => boolean, timeoutMs = 15000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await platform.queryRecordInfo(DEVICE_ID, CH, `${date}T00:00:00`, `${date}T23:59:59`, 8000);
      if (expect(r.items.length) && r.sumNum === r.items.length) return r;
      if (Date.now() > deadline) throw new Error(`RecordInfo for ${date}: ${r.items.length} items (SumNum ${r.sumNum}) did not satisfy the test within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  it('a folder of files: RecordInfo lists them, Playback decodes from the requested second with PAUSE/PLAY, Download ends with MediaStatus 121', async () => {
    const archive = path.join(tmp, 'archive');
    // 10:00:00–10:00:12 (mp4) and 10:00:20–10:00:32 (mkv), with a gap between.
    await makeSegment(path.join(archive, '2026-01-10', '10-00-00.mp4'), shanghai('2026-01-10', '10:00:00') % 86400, 12);
    await makeSegment(path.join(archive, '2026-01-10', '10-00-20.mkv'), shanghai('2026-01-10', '10:00:20') % 86400, 12);
    await helper.load(inits, flow({ recordDirs: archive }), { reg: { password: 'rec-secret' }, src: {} });
    await platform.waitForRegistration(DEVICE_ID, 15000);

    const info = await recordInfo('2026-01-10', (n) => n === 2);
    const spans = info.items.map((i) => `${i.StartTime}–${i.EndTime}`).sort();
    assert.deepEqual(spans, ['2026-01-10T10:00:00–2026-01-10T10:00:12', '2026-01-10T10:00:20–2026-01-10T10:00:32']);
    assert.ok(info.items.every((i) => i.DeviceID === CH && i.Name === 'Gate'));
    const empty = await platform.queryRecordInfo(DEVICE_ID, CH, '2026-01-11T00:00:00', '2026-01-11T23:59:59', 8000);
    assert.equal(empty.sumNum, 0);

    // Playback 10:00:05–10:00:11 over UDP, with a PAUSE in the middle.
    const pbFile = path.join(tmp, 'playback.ps');
    const pb = await platform.invite(DEVICE_ID, CH, { transport: 'udp', sessionType: 'Playback', startTime: shanghai('2026-01-10', '10:00:05'), endTime: shanghai('2026-01-10', '10:00:11'), output: pbFile, timeoutMs: 15000 });
    sessions.push(pb);
    assert.equal(pb.status, 200);
    const ended = waitForMediaStatus(pb, 20000);
    await pb.waitForPackets(20, 10000);
    assert.equal(camera.stats().sessions, 0, 'playback reads the files, never the camera');
    assert.equal(await pb.info('PAUSE RTSP/1.0\r\nCSeq: 2\r\nPauseTime: now\r\n'), 200);
    await new Promise((r) => setTimeout(r, 300));
    const pausedAt = pb.stats().packets;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(pb.stats().packets, pausedAt, 'no RTP while paused');
    assert.equal(await pb.info('PLAY RTSP/1.0\r\nCSeq: 3\r\nRange: npt=now-\r\n'), 200);
    await waitFor('RTP after PLAY', () => pb.stats().packets > pausedAt, 5000);
    const status = await ended;
    assert.equal(status.NotifyType, '121');
    await pb.bye();
    const codes = await decodePsCodes(pbFile);
    assert.ok(codes.length >= 5 * FPS, `about 6 s of frames (${codes.length})`);
    // First picture within one GOP (1 s) of 10:00:05; the last one is before 10:00:11.
    const startCode = (shanghai('2026-01-10', '10:00:05') % 86400) % 36;
    assert.ok(codes[0] === startCode || codes[0] === (startCode + 35) % 36, `first frame shows second code ${codes[0]}, want ${startCode}`);
    assert.ok(codes.includes((startCode + 5) % 36), 'reaches 10:00:10');

    // Download 10:00:08–10:00:24 at 4× over TCP: across the gap, MediaStatus 121 at the end, then our BYE is answered.
    const dlFile = path.join(tmp, 'download.ps');
    const t0 = Date.now();
    const dl = await platform.invite(DEVICE_ID, CH, { transport: 'tcp-passive', sessionType: 'Download', startTime: shanghai('2026-01-10', '10:00:08'), endTime: shanghai('2026-01-10', '10:00:24'), downloadSpeed: 4, output: dlFile, timeoutMs: 15000 });
    sessions.push(dl);
    assert.equal(dl.status, 200);
    const dlStatus = await waitForMediaStatus(dl, 20000);
    const took = Date.now() - t0;
    assert.equal(dlStatus.NotifyType, '121');
    // 8 s of recording (4 + 4 around the gap) at 4× is about 2 s; never real time (8 s).
    assert.ok(took < 6000, `download took ${took} ms`);
    await dl.bye();
    const dlVideo = await probeVideo(dlFile);
    assert.equal(dlVideo.codec, 'h264');
    assert.ok(dlVideo.frames >= 6 * FPS, `download holds about 8 s of frames (${dlVideo.frames})`);
  });

  it('continuous recording: status says recording, segments are listed and played back, one RTSP session while a viewer watches', async () => {
    const folder = path.join(tmp, 'recorder');
    await helper.load(inits, flow({ recordDirs: folder, recordMode: 'continuous', recordSegmentMin: 0.05 }), { reg: { password: 'rec-secret' }, src: {} });
    const src = helper.getNode('src');
    await platform.waitForRegistration(DEVICE_ID, 15000);
    await waitForStatus(src, /^H\.264 320×240 25 fps · recording$/, 15000);

    // A live viewer while the recorder runs: the camera sees one RTSP session.
    const live = await platform.invite(DEVICE_ID, CH, { transport: 'udp', output: path.join(tmp, 'live.ps'), timeoutMs: 15000 });
    sessions.push(live);
    assert.equal(live.status, 200);
    await live.waitForPackets(50, 10000);
    assert.equal(camera.stats().sessions, 1, `one RTSP session for live + recording (stats ${JSON.stringify(camera.stats())})`);
    await live.bye();

    // Segments of about 3 s are closed, listed and played back.
    const today = shanghaiToday();
    const info = await recordInfo(today, (n) => n >= 2, 20000);
    const item = info.items.sort((a, b) => a.StartTime.localeCompare(b.StartTime))[0];
    const start = Date.parse(`${item.StartTime}+08:00`) / 1000;
    const end = Date.parse(`${item.EndTime}+08:00`) / 1000;
    assert.ok(end - start >= 2 && end - start <= 5, `segment ${item.StartTime}–${item.EndTime}`);
    const files = fs.readdirSync(path.join(folder, today)).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 2, `segments on disk: ${files.join(', ')}`);
    const pbFile = path.join(tmp, 'rec-playback.ps');
    const pb = await platform.invite(DEVICE_ID, CH, { transport: 'udp', sessionType: 'Playback', startTime: start, endTime: end, output: pbFile, timeoutMs: 15000 });
    sessions.push(pb);
    assert.equal(pb.status, 200);
    assert.equal((await waitForMediaStatus(pb, 15000)).NotifyType, '121');
    await pb.bye();
    const v = await probeVideo(pbFile);
    assert.equal(v.codec, 'h264');
    assert.ok(v.frames >= 25, `recorded playback holds frames (${v.frames})`);

    // Redeploy (unload) ends the recorder and its pull: no ffmpeg of ours left.
    await helper.unload();
    const cameraPids = () => new Set(camera.encoderPids().map(String));
    await waitFor('no ingest left after close', () => ffChildren().filter((l) => !cameraPids().has(l.split(/\s+/)[0])).length === 0, 10000);
    await waitFor('camera session ended', () => camera.stats().sessions === 0, 10000);
    assert.ok(!fs.readdirSync(path.join(folder, today)).some((f) => f.endsWith('.part')), 'the open segment was closed');
  });

  it('examples/recordings.json: files dropped in the default folder under the user directory are listed, with no camera', async () => {
    const userDir = path.join(tmp, 'userdir');
    const example = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'examples', 'recordings.json'), 'utf8')) as FlowItem[]).filter((n) => n.type !== 'comment');
    const source = example.find((n) => n.type === 'rtsp-source') as FlowItem;
    assert.ok(typeof source.recordDirs === 'string' && !path.isAbsolute(source.recordDirs), 'the example folder is relative to the user directory');
    await makeSegment(path.join(userDir, source.recordDirs, '2026-01-10', '09-00-00.mp4'), shanghai('2026-01-10', '09:00:00') % 86400, 4);
    const closedPort = await freePort();
    for (const n of example) {
      if (n.type === 'wvp-register') Object.assign(n, { host: '127.0.0.1', port: platform.port, localIp: '127.0.0.1', localPort: 0, mediaIp: '127.0.0.1', mediaPortMin: 36100, mediaPortMax: 36199, passwordEnv: '' });
      // No camera: nothing listens on this port.
      if (n.type === 'rtsp-source') Object.assign(n, { url: `rtsp://127.0.0.1:${closedPort}/h264` });
      if (n.type === 'debug') n.type = 'helper';
    }
    const reg = example.find((n) => n.type === 'wvp-register') as FlowItem;
    helper.settings({ userDir });
    try {
      await helper.load(inits, example, { [reg.id]: { password: 'rec-secret' } });
      const deviceId = String((example.find((n) => n.type === 'gb28181-device') as FlowItem).deviceId);
      await platform.waitForRegistration(deviceId, 15000).catch((e: Error) => {
        throw new Error(`${e.message}; statuses: ${example.map((n) => `${n.type}=${JSON.stringify(helper.getNode(n.id) ? lastStatusOf(n.id) : 'absent')}`).join(' ')}`);
      });
      const deadline = Date.now() + 15000;
      let items: Record<string, string>[] = [];
      while (Date.now() < deadline) {
        items = (await platform.queryRecordInfo(deviceId, String(source.channelId), '2026-01-10T00:00:00', '2026-01-10T23:59:59', 8000)).items;
        if (items.length) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(items.map((i) => `${i.StartTime}–${i.EndTime}`), ['2026-01-10T09:00:00–2026-01-10T09:00:04']);
    } finally {
      helper.settings({});
    }
  });

  it('on-command recorder: RecordCmd Record starts it (status recording), StopRecord stops it', async () => {
    const folder = path.join(tmp, 'oncommand');
    await helper.load(inits, flow({ recordDirs: folder, recordMode: 'on-command', recordSegmentMin: 0.05 }), { reg: { password: 'rec-secret' }, src: {} });
    const src = helper.getNode('src');
    await platform.waitForRegistration(DEVICE_ID, 15000);
    await waitForStatus(src, /^H\.264 320×240 25 fps$/, 15000);
    assert.equal(camera.stats().sessions, 0, 'no pull before the command');
    const rec = await platform.sendDeviceControl(DEVICE_ID, CH, { RecordCmd: 'Record' });
    assert.equal(rec.status, 200);
    assert.equal(rec.response?.Result, 'OK', JSON.stringify(rec.response));
    await waitForStatus(src, /· recording$/, 5000);
    await waitFor('a segment on disk', () => fs.existsSync(path.join(folder, shanghaiToday())) && fs.readdirSync(path.join(folder, shanghaiToday())).some((f) => f.endsWith('.ts')), 20000);
    const stop = await platform.sendDeviceControl(DEVICE_ID, CH, { RecordCmd: 'StopRecord' });
    assert.equal(stop.response?.Result, 'OK', JSON.stringify(stop.response));
    await waitForStatus(src, /^H\.264 320×240 25 fps$/, 5000);
  });
});

describe('recording settings of the nodes', () => {
  it('reads the rtsp-source recording properties with one problem line per bad field', () => {
    const ok = readSourceRecordingSettings({ recordDirs: 'rec/a\n\n/abs/b\nrec/a', recordMode: 'continuous', recordSegmentMin: '0.5', recordMaxAgeDays: '7', recordMaxSizeMb: '500' }, '/home/nr');
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.dirs, ['/home/nr/rec/a', '/abs/b']);
    assert.equal(ok.segmentSeconds, 30);
    assert.equal(ok.pattern, '{YYYY-MM-DD}/{HH-mm-ss}');
    assert.equal(ok.maxAgeDays, 7);
    assert.equal(ok.maxSizeMb, 500);
    const defaults = readSourceRecordingSettings({}, '/x');
    assert.deepEqual({ dirs: defaults.dirs, mode: defaults.mode, segmentSeconds: defaults.segmentSeconds, nameMarks: defaults.nameMarks }, { dirs: [], mode: 'off', segmentSeconds: 600, nameMarks: 'start' });
    const bad = readSourceRecordingSettings({ recordMode: 'always', recordPattern: '{HH}', recordSegmentMin: '0', recordMaxSizeMb: 'lots' }, '/x');
    assert.equal(bad.problems.length, 4, bad.problems.join(' | '));
    assert.match(readSourceRecordingSettings({ recordMode: 'continuous' }, '/x').problems[0], /needs a recordings folder/);
    assert.match(readSourceRecordingSettings({ recordDirs: 'a', recordMode: 'on-command', recordNameMarks: 'end' }, '/x').problems[0], /start/);
  });

  it('reads playback-control messages (MANSRTSP on output 1) and invites with their range', () => {
    const m = readStreamRequestMessage({ event: 'playback-control', callId: 'c1', deviceNodeId: 'd', channelId: CH, command: { method: 'PLAY', range: { from: 12.5 }, scale: 4, cseq: 3 } });
    assert.deepEqual(m, { event: 'playback-control', callId: 'c1', deviceNodeId: 'd', channelId: CH, command: { method: 'PLAY', range: { from: 12.5 }, scale: 4 } });
    const now = readStreamRequestMessage({ event: 'playback-control', callId: 'c1', deviceNodeId: 'd', command: { method: 'PLAY', range: { from: 'now' } } });
    assert.deepEqual(now?.event === 'playback-control' ? now.command : undefined, { method: 'PLAY', range: { from: 'now' } });
    assert.equal(readStreamRequestMessage({ event: 'playback-control', callId: 'c1', deviceNodeId: 'd', command: { method: 'SEEK' } }), undefined);
    const inv = readStreamRequestMessage({ event: 'invite', callId: 'c2', deviceNodeId: 'd', channelId: CH, transport: 'udp', sessionType: 'Download', startTime: 100, endTime: 160, downloadSpeed: 4 });
    assert.ok(inv?.event === 'invite');
    assert.deepEqual([inv.sessionType, inv.startTime, inv.endTime, inv.downloadSpeed], ['Download', 100, 160, 4]);
  });

  it('takes the time zone of the platform the source is wired to', () => {
    const defs = [
      { id: 'reg', type: 'wvp-register', timeZone: 'Europe/Berlin' },
      { id: 'dev', type: 'gb28181-device', platform: 'reg' },
      { id: 'dbg', type: 'debug' },
    ];
    assert.equal(wiredPlatformTimeZone([['dbg', 'dev']], defs, 'Asia/Shanghai'), 'Europe/Berlin');
    assert.equal(wiredPlatformTimeZone([['dbg']], defs, 'Asia/Shanghai'), 'Asia/Shanghai');
    assert.equal(wiredPlatformTimeZone(undefined, defs, 'Asia/Shanghai'), 'Asia/Shanghai');
  });

  it('one shared feed pool per runtime: keep-warm follows the senders, the last member closes it', () => {
    const runtime = {};
    const recorder = joinSharedFeedPool(runtime);
    const sender = joinSharedFeedPool(runtime, { gopCache: false, keepWarmMs: 4000, transcode: { video: true } });
    const other = joinSharedFeedPool({});
    assert.equal(recorder.pool, sender.pool);
    assert.notEqual(other.pool, sender.pool);
    assert.deepEqual(recorder.transcode(), { video: true });
    const opts = (sender.pool as unknown as { options: { keepWarmMs: number; gopCache: boolean } }).options;
    assert.equal(opts.keepWarmMs, 4000);
    assert.equal(opts.gopCache, false);
    sender.leave();
    sender.leave();
    assert.equal(opts.keepWarmMs, 0);
    assert.equal(opts.gopCache, true);
    assert.equal(recorder.transcode(), undefined);
    const again = joinSharedFeedPool(runtime);
    assert.equal(again.pool, recorder.pool, 'still open while a member remains');
    recorder.leave();
    again.leave();
    other.leave();
    assert.notEqual(joinSharedFeedPool(runtime).pool, again.pool, 'a new pool after the last member left');
  });
});
