import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { parseMansRtsp } from '../../lib/device/mansrtsp-command';
import { GatewayError } from '../../lib/errors';
import { AccessUnit } from '../../lib/media/access-unit';
import { archiveRecordQuery } from '../../lib/record/archive-record-query';
import { applyPlaybackControl, openPlaybackSource } from '../../lib/record/playback-request';
import { RecordArchive } from '../../lib/record/record-archive';
import { PlaybackSource, PlaybackSourceOptions } from '../../lib/record/playback-source';
import { StreamRequest } from '../../lib/session/stream-contract';
import { FFMPEG, FFPROBE, FPS, TZ, codeOfSecond, decodeCodes, makeSegment, runsOf, secondOfDay, shanghaiMs, tempDir } from './record-fixtures';

interface Got { au: AccessUnit; recMs: number; at: number }

const DAY = '2025-06-12';
const at = (hms: string): number => shanghaiMs(DAY, hms);

function collect(src: PlaybackSource): Got[] {
  const got: Got[] = [];
  src.on('unit', (au, recMs) => got.push({ au, recMs, at: Date.now() }));
  return got;
}

const ended = (src: PlaybackSource): Promise<string> => new Promise((resolve) => src.once('end', (r) => resolve(r)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const video = (g: Got[]): Got[] => g.filter((x) => x.au.codec === 'h264');

describe('record/PlaybackSource', function () {
  this.timeout(60_000);
  let root: string;
  let archive: RecordArchive;
  const sources: PlaybackSource[] = [];

  before(async () => {
    root = await tempDir('playback');
    // 10:00:00-10:00:12 in three files (AVI, AVI, MP4), gap, 10:00:20-10:00:28 (MP4, then MPEG-4 Part 2 AVI).
    await Promise.all([
      makeSegment(path.join(root, `${DAY}/10-00-00.avi`), secondOfDay('10:00:00'), 4),
      makeSegment(path.join(root, `${DAY}/10-00-04.avi`), secondOfDay('10:00:04'), 4),
    ]);
    await Promise.all([
      makeSegment(path.join(root, `${DAY}/10-00-08.mp4`), secondOfDay('10:00:08'), 4),
      makeSegment(path.join(root, `${DAY}/10-00-20.mp4`), secondOfDay('10:00:20'), 4),
    ]);
    await makeSegment(path.join(root, `${DAY}/10-00-24.avi`), secondOfDay('10:00:24'), 4, 'mpeg4');
    archive = new RecordArchive({ channelId: '34020000001320000001', folders: [root], timeZone: TZ, ffprobePath: FFPROBE, watch: false });
    archive.start();
    await archive.whenIndexed();
  });

  afterEach(() => {
    for (const s of sources.splice(0)) s.stop();
  });

  after(async () => {
    await archive.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  function source(startHms: string, endHms: string, extra: Partial<PlaybackSourceOptions> = {}): PlaybackSource {
    const startMs = at(startHms);
    const endMs = at(endHms);
    const s = new PlaybackSource({ segments: archive.query(startMs, endMs), startMs, endMs, ffmpegPath: FFMPEG, ...extra });
    sources.push(s);
    return s;
  }

  it('plays from the middle of one file to the middle of another across the gap, in real time', async () => {
    const src = source('10:00:10.5', '10:00:22.5');
    const got = collect(src);
    const end = ended(src);
    const t0 = Date.now();
    src.start();
    assert.equal(await end, 'range-end');
    const wall = Date.now() - t0;
    const v = video(got);
    // Starts at the keyframe at or before 10:00:10.5 (one per second): 10:00:10.
    assert.ok(v[0].au.keyframe);
    assert.equal(v[0].recMs, at('10:00:10'));
    // 10:00:10-10:00:12 then 10:00:20-10:00:22.5: 4.5 s of pictures, none from the gap.
    assert.ok(Math.abs(v.length - 4.5 * FPS) <= 1, `frames ${v.length}`);
    assert.ok(v.every((g) => g.recMs < at('10:00:12') || g.recMs >= at('10:00:20')));
    const spanS = (v[v.length - 1].au.dts - v[0].au.dts) / 90000;
    assert.ok(Math.abs(spanS - (4.5 - 1 / FPS)) < 0.15, `timestamps continuous across the gap: span ${spanS}`);
    assert.ok(v.every((g, i) => i === 0 || g.au.dts > v[i - 1].au.dts), 'timestamps increase');
    assert.ok(wall > 3800 && wall < 6000, `paced at real time: ${wall} ms`);
    // The content says which second each picture is.
    const codes = runsOf(await decodeCodes(v.map((g) => g.au)));
    assert.deepEqual(codes, [10, 11, 20, 21, 22].map((s) => codeOfSecond(secondOfDay(`10:00:${s}`))));
  });

  it('pause stops emission at once and resume continues from the same place', async () => {
    const src = source('10:00:00', '10:00:12');
    const got = collect(src);
    src.start();
    await sleep(1200);
    src.pause();
    const countAtPause = got.length;
    const lastBefore = video(got).slice(-1)[0].recMs;
    await sleep(800);
    assert.equal(got.length, countAtPause, 'nothing emitted while paused');
    src.resume();
    await sleep(500);
    const after = video(got.slice(countAtPause));
    assert.ok(after.length >= 3, 'emission resumed');
    assert.ok(Math.abs(after[0].recMs - lastBefore - 1000 / FPS) < 5, `continues from the same place: ${lastBefore} -> ${after[0].recMs}`);
    const gapS = (after[0].au.dts - video(got)[countAtPause > 0 ? video(got.slice(0, countAtPause)).length - 1 : 0].au.dts) / 90000;
    assert.ok(gapS > 0 && gapS < 0.2, `timestamps continue without a jump: ${gapS}`);
  });

  it('scale 4 delivers about four seconds of recording per second', async () => {
    const src = source('10:00:00', '10:00:12');
    const got = collect(src);
    src.setScale(4);
    src.start();
    await sleep(2300);
    const v = video(got);
    const t0 = v[0].at;
    const window = v.filter((g) => g.at - t0 <= 2000);
    const recS = (window[window.length - 1].recMs - window[0].recMs) / 1000;
    assert.ok(Math.abs(recS - 8) <= 8 * 0.15, `recording seconds in 2 s at scale 4: ${recS}`);
    // Playback timestamps follow the receiver's clock: 8 s of recording in ~2 s of timestamps.
    const tsS = (window[window.length - 1].au.dts - window[0].au.dts) / 90000;
    assert.ok(Math.abs(tsS - 2) < 0.3, `timestamp seconds ${tsS}`);
  });

  it('seek lands within one GOP of its target and shows that second', async () => {
    const src = source('10:00:00', '10:00:28');
    const got = collect(src);
    src.start();
    await sleep(600);
    const mark = got.length;
    src.seek(21.5); // 10:00:21.5, in the second file after the gap
    await sleep(700);
    const v = video(got.slice(mark));
    assert.ok(v.length > 0);
    assert.ok(v[0].au.keyframe);
    assert.ok(v[0].recMs <= at('10:00:21.5') && v[0].recMs >= at('10:00:20.5'), `landed at ${(v[0].recMs - at('10:00:00')) / 1000} s`);
    const codes = runsOf(await decodeCodes(v.map((g) => g.au)));
    assert.equal(codes[0], codeOfSecond(secondOfDay('10:00:21')));
  });

  it('download runs at N× with timestamps in recording time; other codecs are transcoded to H.264', async () => {
    const src = source('10:00:20', '10:00:28', { mode: 'download', downloadSpeed: 4 });
    const got = collect(src);
    const end = ended(src);
    const t0 = Date.now();
    src.start();
    assert.equal(await end, 'range-end');
    const wall = Date.now() - t0;
    const v = video(got);
    assert.ok(wall > 1500 && wall < 3500, `8 s at 4x took ${wall} ms`);
    const tsS = (v[v.length - 1].au.dts - v[0].au.dts) / 90000;
    assert.ok(Math.abs(tsS - (8 - 1 / FPS)) < 0.2, `recording-time timestamps: ${tsS}`);
    // 10:00:24.. is MPEG-4 Part 2 in the file: it still arrives as H.264 showing the right seconds.
    const codes = runsOf(await decodeCodes(v.map((g) => g.au)));
    assert.deepEqual(codes, [20, 21, 22, 23, 24, 25, 26, 27].map((s) => codeOfSecond(secondOfDay(`10:00:${s}`))));
  });

  it('keeps G.711 audio and transcodes MP3 audio to AAC', async () => {
    const dir = path.join(root, 'audio');
    await makeSegment(path.join(dir, `${DAY}/11-00-00.avi`), secondOfDay('11:00:00'), 2, 'h264', 'pcm_alaw');
    await makeSegment(path.join(dir, `${DAY}/11-00-02.avi`), secondOfDay('11:00:02'), 2, 'h264', 'libmp3lame');
    const a = new RecordArchive({ channelId: 'c', folders: [dir], timeZone: TZ, ffprobePath: FFPROBE, watch: false, cacheFile: false });
    a.start();
    await a.whenIndexed();
    const startMs = at('11:00:00');
    const src = new PlaybackSource({ segments: a.query(startMs, startMs + 4000), startMs, endMs: startMs + 4000, ffmpegPath: FFMPEG, mode: 'download', downloadSpeed: 8 });
    sources.push(src);
    assert.equal(src.expectedAudioCodec, 'pcma');
    const got = collect(src);
    const end = ended(src);
    src.start();
    await end;
    await a.stop();
    const first = got.filter((g) => g.recMs < at('11:00:02') && g.au.codec !== 'h264');
    const second = got.filter((g) => g.recMs >= at('11:00:02') && g.au.codec !== 'h264');
    assert.ok(first.length > 5 && first.every((g) => g.au.codec === 'pcma'), 'A-law passed through');
    assert.ok(second.length > 5 && second.every((g) => g.au.codec === 'aac' && g.au.data[0] === 0xff), 'MP3 became ADTS AAC');
    assert.ok(Math.abs(first.reduce((n, g) => n + g.au.data.length, 0) - 16000) < 1600, 'about 2 s of 8 kHz A-law');
  });

  it('ends at once with no-recordings when the range holds nothing', async () => {
    const src = source('10:00:13', '10:00:19');
    const end = ended(src);
    src.start();
    assert.equal(await end, 'no-recordings');
  });
});

describe('record/playback request glue', function () {
  this.timeout(30_000);
  let root: string;
  let archive: RecordArchive;

  before(async () => {
    root = await tempDir('glue');
    await makeSegment(path.join(root, `${DAY}/10-00-00.mp4`), secondOfDay('10:00:00'), 6);
    archive = new RecordArchive({ channelId: '34020000001320000001', folders: [root], timeZone: TZ, ffprobePath: FFPROBE, watch: false });
    archive.start();
    await archive.whenIndexed();
  });

  after(async () => {
    await archive.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  const request = (sessionType: 'Playback' | 'Download', startHms: string, endHms: string): StreamRequest => ({
    callId: 'call-1', deviceId: '34020000001110000001', channelId: '34020000001320000001', sessionType, transport: 'udp',
    remoteIp: '127.0.0.1', remotePort: 30000, ssrc: '1100000001', payloadType: 96, streamNumber: 0,
    startTime: at(startHms) / 1000, endTime: at(endHms) / 1000, ...(sessionType === 'Download' ? { downloadSpeed: 4 } : {}),
  });

  it('answers GbDevice\'s RecordQuery from the archive (end inclusive to the second)', async () => {
    const query = archiveRecordQuery((ch) => (ch === '34020000001320000001' ? { archive, name: 'Gate' } : undefined), TZ);
    const items = await query('34020000001320000001', shanghaiMs(DAY, '00:00:00'), shanghaiMs(DAY, '23:59:59'));
    assert.deepEqual(items.map((i) => [i.deviceId, i.name, i.startTime, i.endTime, i.filePath]), [['34020000001320000001', 'Gate', `${DAY}T10:00:00`, `${DAY}T10:00:06`, `${DAY}/10-00-00.mp4`]]);
    assert.deepEqual(await query('34020000001320000001', at('10:00:06'), at('10:00:06')), []);
    assert.equal((await query('34020000001320000001', at('10:00:05'), at('10:00:05'))).length, 1);
    assert.deepEqual(await query('34020000001329999999', 0, Date.now()), [], 'unknown channel');
  });

  it('opens a source for a Playback/Download request, refusing empty or missing ranges with a SIP status', () => {
    const dl = openPlaybackSource(request('Download', '10:00:01', '10:00:05'), archive, { ffmpegPath: FFMPEG });
    assert.equal(dl.mode, 'download');
    assert.equal(dl.currentScale, 4);
    dl.stop();
    assert.throws(() => openPlaybackSource(request('Playback', '11:00:00', '11:00:10'), archive, { ffmpegPath: FFMPEG }), (e: GatewayError) => e.context.sipStatus === 404);
    assert.throws(() => openPlaybackSource({ ...request('Playback', '10:00:00', '10:00:05'), endTime: undefined }, archive, { ffmpegPath: FFMPEG }), (e: GatewayError) => e.context.sipStatus === 400);
  });

  it('applies WVP\'s MANSRTSP bodies: PAUSE, PLAY now-, Scale, npt seek', async () => {
    const src = openPlaybackSource(request('Playback', '10:00:00', '10:00:06'), archive, { ffmpegPath: FFMPEG });
    const got = collect(src);
    src.start();
    await sleep(700);
    applyPlaybackControl(src, parseMansRtsp('PAUSE RTSP/1.0\r\nCSeq: 481516231\r\nPauseTime: now\r\n'));
    assert.equal(src.isPaused, true);
    const n = got.length;
    await sleep(300);
    assert.equal(got.length, n);
    applyPlaybackControl(src, parseMansRtsp('PLAY RTSP/1.0\r\nCSeq: 112358132\r\nRange: npt=now-\r\n'));
    assert.equal(src.isPaused, false);
    applyPlaybackControl(src, parseMansRtsp('PLAY RTSP/1.0\r\nCSeq: 271828182\r\nScale: 2.000000\r\n'));
    assert.equal(src.currentScale, 2);
    const mark = got.length;
    applyPlaybackControl(src, parseMansRtsp('PLAY RTSP/1.0\r\nCSeq: 314159265\r\nRange: npt=4-\r\n'));
    await sleep(400);
    const v = video(got.slice(mark));
    assert.equal(v[0].recMs, at('10:00:04'));
    src.stop();
  });
});
