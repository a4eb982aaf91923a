import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AccessUnit } from '../../lib/media/access-unit';
import { RecordArchive } from '../../lib/record/record-archive';
import { PlaybackSource, PlaybackSourceOptions } from '../../lib/record/playback-source';
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

  it('ends at once with no-recordings when the range holds nothing', async () => {
    const src = source('10:00:13', '10:00:19');
    const end = ended(src);
    src.start();
    assert.equal(await end, 'no-recordings');
  });
});
