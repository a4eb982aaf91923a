import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { AccessUnit } from '../../lib/media/access-unit';
import { AccessUnitSubscriber, PlaybackSource } from '../../lib/record/playback-source';
import { RecordArchive } from '../../lib/record/record-archive';
import { probeRecordFile } from '../../lib/record/record-file-probe';
import { RecordSegment } from '../../lib/record/record-segment';
import { RecordMode, Recorder, RecorderOptions } from '../../lib/record/recorder';
import { RecordingFileReader } from '../../lib/record/recording-file-reader';
import { FFMPEG, FFPROBE, TZ, codeOfSecond, decodeCodes, makeSegment, run, runsOf, secondOfDay, shanghaiMs, tempDir } from './record-fixtures';

/** Stands in for the shared camera ingest: units of a real file, pushed as fast as read. */
class FileFeed {
  readonly subscribers = new Set<AccessUnitSubscriber>();
  audioCodec: string | undefined = 'aac';
  subscribe(s: AccessUnitSubscriber): void { this.subscribers.add(s); }
  unsubscribe(s: AccessUnitSubscriber): void { this.subscribers.delete(s); }

  /** Pushes every unit of `segment`; before each, `clock` is set to the unit's wall time. */
  play(segment: RecordSegment, baseMs: number, clock: { now: number }): Promise<number> {
    return new Promise((resolve, reject) => {
      const reader = new RecordingFileReader(FFMPEG, segment, 0);
      let count = 0;
      let first = -1;
      reader.on('unit', (au: AccessUnit) => {
        if (first < 0) first = au.dts;
        clock.now = baseMs + Math.round((au.dts - first) / 90);
        count++;
        for (const s of this.subscribers) s.onUnit(au);
      });
      reader.on('end', (err) => (err ? reject(err) : resolve(count)));
      reader.start();
    });
  }
}

describe('record/Recorder', function () {
  this.timeout(60_000);
  let root: string;
  let source: RecordSegment;
  const base = shanghaiMs('2025-06-12', '10:00:00');

  before(async () => {
    root = await tempDir('recorder');
    const file = path.join(root, 'camera.mp4');
    await makeSegment(file, secondOfDay('10:00:00'), 8, 'h264', 'aac');
    const st = await fsp.stat(file);
    const info = await probeRecordFile(FFPROBE, file);
    source = { path: file, relativePath: 'camera.mp4', folder: root, startMs: base, endMs: base + info.durationMs, size: st.size, mtimeMs: st.mtimeMs, startTimeSec: info.startTimeSec, videoCodec: info.videoCodec, audioCodec: info.audioCodec };
  });

  after(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  async function record(folder: string, mode: RecordMode, extra: Partial<RecorderOptions> = {}, command = false): Promise<{ recorder: Recorder; feed: FileFeed }> {
    const feed = new FileFeed();
    const clock = { now: base };
    const recorder = new Recorder({ channelId: '34020000001320000001', folder, timeZone: TZ, mode, segmentSeconds: 2, feed, now: () => clock.now, ...extra });
    recorder.start();
    if (command) assert.equal(recorder.recordCommand(), true);
    await feed.play(source, base, clock);
    await recorder.stop();
    return { recorder, feed };
  }

  it('writes segments the archive lists, ffprobe reads and playback decodes', async () => {
    const folder = path.join(root, 'continuous');
    const archive = new RecordArchive({ channelId: '34020000001320000001', folders: [folder], timeZone: TZ, ffprobePath: FFPROBE, watch: false });
    const closed: string[] = [];
    const { feed } = await record(folder, 'continuous', { onSegmentClosed: (f) => { closed.push(f); } });
    assert.equal(feed.subscribers.size, 0, 'unsubscribed from the ingest when stopped');
    assert.deepEqual(closed.map((f) => path.relative(folder, f)), ['2025-06-12/10-00-00.ts', '2025-06-12/10-00-02.ts', '2025-06-12/10-00-04.ts', '2025-06-12/10-00-06.ts']);
    const probed = JSON.parse(await run(FFPROBE, ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', closed[1]])) as { streams: { codec_name: string }[] };
    assert.deepEqual(probed.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    // Every frame decodes without errors.
    await run(FFMPEG, ['-v', 'error', '-xerror', '-i', closed[2], '-f', 'null', '-']);

    archive.start();
    await archive.whenIndexed();
    const segs = archive.query(base, base + 10_000);
    assert.equal(segs.length, 4);
    segs.forEach((s, i) => {
      assert.equal(s.startMs, base + i * 2000);
      assert.ok(Math.abs(s.endMs - s.startMs - 2000) <= 200, `duration ${s.endMs - s.startMs}`);
    });

    const src = new PlaybackSource({ segments: segs, startMs: base + 1000, endMs: base + 7000, ffmpegPath: FFMPEG, mode: 'download', downloadSpeed: 8 });
    const units: AccessUnit[] = [];
    src.on('unit', (au) => units.push(au));
    const end = new Promise((r) => src.once('end', r));
    src.start();
    assert.equal(await end, 'range-end');
    assert.ok(units.some((u) => u.codec === 'aac'), 'audio recorded and played');
    const codes = runsOf(await decodeCodes(units));
    assert.deepEqual(codes, [1, 2, 3, 4, 5, 6].map((s) => codeOfSecond(secondOfDay(`10:00:0${s}`))));
    await archive.stop();
  });

  it('retention removes the oldest recordings by size and by age', async () => {
    const folder = path.join(root, 'retention');
    await fsp.mkdir(path.join(folder, '2025-06-11'), { recursive: true });
    await fsp.writeFile(path.join(folder, '2025-06-11/23-00-00.ts'), Buffer.alloc(1000));
    await fsp.writeFile(path.join(folder, 'keep-me.txt'), 'not a recording');
    // A 1-byte limit: nothing fits, every recording goes (the oldest first), other files stay.
    await record(folder, 'continuous', { retention: { maxBytes: 1 } });
    const left = await fsp.readdir(path.join(folder, '2025-06-12')).catch(() => []);
    assert.deepEqual(left, [], 'everything beyond the size limit deleted');
    await fsp.access(path.join(folder, 'keep-me.txt'));
    await assert.rejects(fsp.access(path.join(folder, '2025-06-11')), 'emptied date folder removed');

    const folder2 = path.join(root, 'retention2');
    await record(folder2, 'continuous');
    const sizes = await Promise.all(['00', '02', '04', '06'].map((s) => fsp.stat(path.join(folder2, `2025-06-12/10-00-${s}.ts`)).then((st) => st.size)));
    await fsp.rm(folder2, { recursive: true });
    // Room for the two newest segments only.
    await record(folder2, 'continuous', { retention: { maxBytes: sizes[2] + sizes[3] + 10 } });
    assert.deepEqual((await fsp.readdir(path.join(folder2, '2025-06-12'))).sort(), ['10-00-04.ts', '10-00-06.ts'], 'the two newest kept');

    const old = new Date(Date.now() - 3 * 86400_000);
    await fsp.utimes(path.join(folder2, '2025-06-12/10-00-04.ts'), old, old);
    const r3 = new Recorder({ channelId: 'c', folder: folder2, timeZone: TZ, mode: 'off', feed: new FileFeed(), retention: { maxAgeMs: 86400_000 } });
    assert.deepEqual((await r3.enforceRetention()).map((f) => path.basename(f)), ['10-00-04.ts']);
  });

  it('on command: records only between Record and StopRecord; off refuses', async () => {
    const folder = path.join(root, 'command');
    const feed = new FileFeed();
    const idle = new Recorder({ channelId: 'c', folder, timeZone: TZ, mode: 'on-command', segmentSeconds: 2, feed });
    idle.start();
    assert.equal(idle.recording, false);
    assert.equal(feed.subscribers.size, 0, 'no subscription until Record');
    const { recorder } = await record(folder, 'on-command', {}, true);
    assert.equal(recorder.recording, false);
    assert.equal((await fsp.readdir(path.join(folder, '2025-06-12'))).length, 4);
    const off = new Recorder({ channelId: 'c', folder, timeZone: TZ, mode: 'off', feed });
    assert.equal(off.recordCommand(), false);
    assert.equal(off.stopRecordCommand(), false);
  });

  it('holds a lease on the shared ingest only while recording', () => {
    const feed = new FileFeed();
    let held = 0;
    const lease = { acquire: () => { held++; return feed; }, release: () => { held--; } };
    const r = new Recorder({ channelId: 'c', folder: path.join(root, 'lease'), timeZone: TZ, mode: 'on-command', feedLease: lease });
    r.start();
    assert.equal(held, 0);
    r.recordCommand();
    assert.equal(held, 1);
    assert.equal(feed.subscribers.size, 1);
    r.stopRecordCommand();
    assert.equal(held, 0);
    assert.equal(feed.subscribers.size, 0);
    assert.throws(() => new Recorder({ channelId: 'c', folder: root, timeZone: TZ, mode: 'off' }), /exactly one of feed or feedLease/);
  });

  it('keeps a segment left unfinished by a crash', async () => {
    const folder = path.join(root, 'crash');
    await record(folder, 'continuous');
    const done = path.join(folder, '2025-06-12/10-00-06.ts');
    await fsp.rename(done, `${done}.part`);
    const recovered: string[] = [];
    const r = new Recorder({ channelId: 'c', folder, timeZone: TZ, mode: 'on-command', feed: new FileFeed(), onSegmentClosed: (f) => { recovered.push(f); } });
    r.start();
    for (let i = 0; i < 50 && !recovered.length; i++) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(recovered, [done]);
    await fsp.access(done);
    await r.stop();
  });
});
