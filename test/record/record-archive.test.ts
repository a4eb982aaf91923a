import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { RecordArchive } from '../../lib/record/record-archive';
import { recordInfoQueryFor } from '../../lib/record/record-info-items';
import { FFPROBE, TZ, makeSegment, secondOfDay, shanghaiMs, tempDir } from './record-fixtures';

/**
 * Two days of 4 s segments (AVI and MP4), one gap, a second folder whose names mark the segment's
 * END, a duplicate span, an unreadable file and a file whose name does not fit the pattern.
 */
async function buildTwoDays(root: string): Promise<{ a: string; b: string }> {
  const a = path.join(root, 'nvr');
  const b = path.join(root, 'export');
  const seg = (dir: string, rel: string, hms: string): Promise<void> => makeSegment(path.join(dir, rel), secondOfDay(hms), 4);
  await Promise.all([
    seg(a, '2025-06-12/10-00-00.avi', '10:00:00'),
    seg(a, '2025-06-12/10-00-04.avi', '10:00:04'),
  ]);
  await Promise.all([
    seg(a, '2025-06-12/10-00-08.mp4', '10:00:08'),
    seg(a, '2025-06-12/10-00-20.mp4', '10:00:20'), // gap 10:00:12 .. 10:00:20
  ]);
  await Promise.all([
    seg(a, '2025-06-13/08-00-00.avi', '08:00:00'),
    seg(a, '2025-06-13/08-00-04.mp4', '08:00:04'),
  ]);
  // Folder B names files by their END time.
  await seg(b, '2025-06-13/end_09-00-04.mp4', '09:00:00');
  // The same span as nvr/2025-06-12/10-00-00.avi: must appear once.
  await fsp.mkdir(path.join(b, '2025-06-12'), { recursive: true });
  await fsp.copyFile(path.join(a, '2025-06-12/10-00-00.avi'), path.join(b, '2025-06-12/end_10-00-04.avi'));
  await fsp.writeFile(path.join(a, '2025-06-12/11-00-00.avi'), Buffer.alloc(5000, 7)); // unreadable
  await fsp.writeFile(path.join(a, '2025-06-12/holiday.mp4'), Buffer.alloc(100, 1)); // name does not match
  await fsp.writeFile(path.join(a, '2025-06-12/10-30-00.txt'), 'not a video');
  return { a, b };
}

function newArchive(dirs: { a: string; b: string }, extra: Partial<ConstructorParameters<typeof RecordArchive>[0]> = {}): RecordArchive {
  return new RecordArchive({
    channelId: '34020000001320000001',
    folders: [dirs.a, { dir: dirs.b, pattern: '{YYYY-MM-DD}/end_{HH-mm-ss}', nameMarks: 'end' }],
    timeZone: TZ,
    ffprobePath: FFPROBE,
    settleMs: 300,
    ...extra,
  });
}

describe('record/RecordArchive', function () {
  this.timeout(60_000);
  let root: string;
  let dirs: { a: string; b: string };
  const archives: RecordArchive[] = [];

  before(async () => {
    root = await tempDir('archive');
    dirs = await buildTwoDays(root);
  });

  afterEach(async () => {
    for (const a of archives.splice(0)) await a.stop();
  });

  after(async () => {
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('lists exactly each day\'s spans, sorted and unique; unreadable files are counted, not fatal', async () => {
    const archive = newArchive(dirs);
    archives.push(archive);
    const t0 = Date.now();
    archive.start();
    assert.ok(Date.now() - t0 < 50, 'start() must not wait for the scan');
    const stats = await archive.whenIndexed();
    assert.equal(stats.unreadable, 1);
    assert.equal(stats.unmatched, 1);
    assert.equal(stats.segments, 8);

    const day1 = archive.query(shanghaiMs('2025-06-12', '00:00:00'), shanghaiMs('2025-06-13', '00:00:00'));
    assert.deepEqual(day1.map((s) => [s.startMs, s.endMs]), [
      [shanghaiMs('2025-06-12', '10:00:00'), shanghaiMs('2025-06-12', '10:00:04')],
      [shanghaiMs('2025-06-12', '10:00:04'), shanghaiMs('2025-06-12', '10:00:08')],
      [shanghaiMs('2025-06-12', '10:00:08'), shanghaiMs('2025-06-12', '10:00:12')],
      [shanghaiMs('2025-06-12', '10:00:20'), shanghaiMs('2025-06-12', '10:00:24')],
    ]);
    const day2 = archive.query(shanghaiMs('2025-06-13', '00:00:00'), shanghaiMs('2025-06-14', '00:00:00'));
    assert.deepEqual(day2.map((s) => [s.startMs, s.endMs]), [
      [shanghaiMs('2025-06-13', '08:00:00'), shanghaiMs('2025-06-13', '08:00:04')],
      [shanghaiMs('2025-06-13', '08:00:04'), shanghaiMs('2025-06-13', '08:00:08')],
      [shanghaiMs('2025-06-13', '09:00:00'), shanghaiMs('2025-06-13', '09:00:04')],
    ]);
    assert.deepEqual(archive.query(shanghaiMs('2025-06-12', '10:00:13'), shanghaiMs('2025-06-12', '10:00:19')), [], 'the gap holds nothing');
    assert.deepEqual(archive.query(shanghaiMs('2025-06-11', '00:00:00'), shanghaiMs('2025-06-12', '00:00:00')), []);
  });

  it('answers RecordInfo per day with wall-clock times in the platform zone, unique by (Start, End)', async () => {
    const archive = newArchive(dirs);
    archives.push(archive);
    archive.start();
    await archive.whenIndexed();
    const query = recordInfoQueryFor(archive, { channelId: '34020000001320000001', timeZone: TZ });
    const day1 = await query({ channelId: '34020000001320000001', startTime: '2025-06-12T00:00:00', endTime: '2025-06-12T23:59:59', type: 'all' });
    assert.deepEqual(day1.map((i) => `${i.StartTime} ${i.EndTime}`), [
      '2025-06-12T10:00:00 2025-06-12T10:00:04',
      '2025-06-12T10:00:04 2025-06-12T10:00:08',
      '2025-06-12T10:00:08 2025-06-12T10:00:12',
      '2025-06-12T10:00:20 2025-06-12T10:00:24',
    ]);
    assert.equal(day1[0].DeviceID, '34020000001320000001');
    assert.equal(day1[0].FilePath, '2025-06-12/10-00-00.avi');
    assert.equal(day1[0].Secrecy, 0);
    assert.equal(day1[0].Type, 'time');
    assert.ok(day1.every((i) => i.FileSize > 0));
    const day2 = await query({ channelId: 'x', startTime: ' 2025-6-13T0:0:0 ', endTime: '2025-06-13T23:59:59Z', type: 'all' });
    assert.deepEqual(day2.map((i) => `${i.StartTime} ${i.EndTime}`), [
      '2025-06-13T08:00:00 2025-06-13T08:00:04',
      '2025-06-13T08:00:04 2025-06-13T08:00:08',
      '2025-06-13T09:00:00 2025-06-13T09:00:04',
    ]);
    assert.deepEqual(await query({ channelId: 'x', startTime: '2025-06-14T00:00:00', endTime: '2025-06-14T23:59:59' }), [], 'empty range');
    assert.deepEqual(await query({ channelId: 'x', startTime: '2025-06-12 00:00:00', endTime: '2025-06-12T23:59:59' }), [], 'no T: malformed');
  });

  it('restarts from the cache without ffprobe, and follows files that come and go', async () => {
    await fsp.rm(path.join(dirs.a, '.gb28181-record-index.json'), { force: true });
    const first = newArchive(dirs);
    archives.push(first);
    first.start();
    const s1 = await first.whenIndexed();
    await first.stop();
    archives.length = 0;
    await fsp.access(path.join(dirs.a, '.gb28181-record-index.json'));
    assert.ok(s1.probed > 0);

    const second = newArchive(dirs);
    archives.push(second);
    second.start();
    const s2 = await second.whenIndexed();
    assert.equal(s2.probed, 0, 'nothing probed again');
    assert.equal(s2.segments, 8);
    assert.equal(s2.unreadable, 1, 'a cached unreadable file stays skipped');

    const changed = (): Promise<void> => new Promise((resolve) => second.once('changed', () => resolve()));
    let wait = changed();
    await makeSegment(path.join(dirs.a, '2025-06-12/10-00-12.mp4'), secondOfDay('10:00:12'), 4);
    await wait;
    assert.deepEqual(second.query(shanghaiMs('2025-06-12', '10:00:12'), shanghaiMs('2025-06-12', '10:00:16')).map((s) => s.relativePath), ['2025-06-12/10-00-12.mp4']);
    wait = changed();
    await fsp.rm(path.join(dirs.a, '2025-06-12/10-00-12.mp4'));
    await wait;
    assert.deepEqual(second.query(shanghaiMs('2025-06-12', '10:00:12'), shanghaiMs('2025-06-12', '10:00:16')), []);
  });

  it('keeps its cache in a separate folder when told (read-only archives)', async () => {
    const cacheDir = path.join(root, 'cache', 'nested');
    const a = newArchive(dirs, { cacheDir });
    archives.push(a);
    a.start();
    await a.whenIndexed();
    await a.stop();
    const text = await fsp.readFile(path.join(cacheDir, 'record-index-34020000001320000001.json'), 'utf8');
    assert.equal(Object.keys((JSON.parse(text) as { entries: object }).entries).length, 9, '8 segments (one a duplicate span) + 1 unreadable');
  });
});
