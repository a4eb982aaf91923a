import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { RecordArchive } from '../../lib/record/record-archive';
import { FFPROBE, TZ, buildManyFiles, maxLoopDelayDuring, shanghaiMs, tempDir } from './record-fixtures';

const COUNT = 5000;

describe('record/RecordArchive with 5,000 files', function () {
  this.timeout(120_000);
  let root: string;
  const archives: RecordArchive[] = [];

  before(async () => {
    root = await tempDir('many');
    await buildManyFiles(root, COUNT);
  });

  after(async () => {
    for (const a of archives) await a.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  const open = (): RecordArchive => {
    const a = new RecordArchive({ channelId: '34020000001320000001', folders: [path.join(root, 'archive')], timeZone: TZ, ffprobePath: FFPROBE });
    archives.push(a);
    return a;
  };

  it('indexes in the background without blocking the event loop; a restart uses the cache', async () => {
    const cold = open();
    let t0 = Date.now();
    cold.start();
    assert.ok(Date.now() - t0 < 50, 'start() returns at once');
    assert.equal(cold.query(0, Number.MAX_SAFE_INTEGER).length < COUNT, true, 'still indexing after start()');
    const coldRun = await maxLoopDelayDuring(() => cold.whenIndexed());
    const coldMs = Date.now() - t0;
    assert.equal(coldRun.result.segments, COUNT);
    assert.ok(coldRun.maxDelayMs < 150, `event loop blocked ${coldRun.maxDelayMs} ms`);
    const day = cold.query(shanghaiMs('2025-06-14', '00:00:00'), shanghaiMs('2025-06-15', '00:00:00'));
    assert.equal(day.length, COUNT);
    assert.equal(day[1].startMs - day[0].startMs, 2000);
    await cold.stop();

    const warm = open();
    t0 = Date.now();
    warm.start();
    const warmRun = await maxLoopDelayDuring(() => warm.whenIndexed());
    const warmMs = Date.now() - t0;
    assert.equal(warmRun.result.segments, COUNT);
    assert.equal(warmRun.result.probed, 0, 'no ffprobe after a restart');
    assert.equal(warmRun.result.fromCache, COUNT);
    assert.ok(warmRun.maxDelayMs < 150, `event loop blocked ${warmRun.maxDelayMs} ms`);
    assert.ok(warmMs < coldMs * 0.75, `restart ${warmMs} ms vs cold ${coldMs} ms`);
    console.log(`      5,000 files: cold ${coldMs} ms (${coldRun.result.probed} ffprobe runs, max loop delay ${coldRun.maxDelayMs} ms), from cache ${warmMs} ms (max loop delay ${warmRun.maxDelayMs} ms)`);
  });
});
