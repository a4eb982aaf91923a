import * as assert from 'node:assert/strict';
import { restartDelayMs } from '../../lib/media/camera-feed';
import { CameraFeedPool } from '../../lib/media/camera-feed-pool';
import { locateFfTool } from '../../lib/media/ffmpeg-path';
import { MediaSourceSpec } from '../../lib/media/media-source';
import { freeTcpPort } from './gst-camera';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('CameraFeedPool and restart backoff', function () {
  this.timeout(20000);
  let pool: CameraFeedPool | undefined;
  afterEach(() => pool?.close());

  it('restart delays grow 1 s, 2 s, 4 s … up to 30 s, with ±20 % jitter', () => {
    const mid = (a: number): number => restartDelayMs(a, 1000, 30000, () => 0.5);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 10].map(mid), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.equal(restartDelayMs(2, 1000, 30000, () => 0), 3200);
    assert.ok(Math.abs(restartDelayMs(2, 1000, 30000, () => 0.999999) - 4800) < 0.01);
    assert.equal(restartDelayMs(0, 1000, 30000, () => 0), 1000, 'never below the minimum');
    assert.equal(restartDelayMs(9, 1000, 30000, () => 1), 30000, 'never above the maximum');
  });

  it('one feed per key, reference counted; stops keepWarmMs after the last release unless kept warm', async () => {
    const port = await freeTcpPort(); // nothing listens: the feeds keep retrying, which is all this test needs
    const spec = (key: string): MediaSourceSpec => ({ key, url: `rtsp://127.0.0.1:${port}/x`, displayUrl: `rtsp://127.0.0.1:${port}/x`, rtspTransport: 'tcp' });
    const ffmpeg = locateFfTool('ffmpeg');
    pool = new CameraFeedPool({ ffmpeg: () => ffmpeg, keepWarmMs: 300, backoffMinMs: 5000 });
    const a1 = pool.acquire(spec('a'));
    const a2 = pool.acquire(spec('a'));
    assert.equal(a1, a2);
    pool.acquire(spec('b'));
    pool.keepWarm(spec('c'));
    assert.equal(pool.size, 3);
    pool.release('a');
    await sleep(500);
    assert.ok(pool.get('a'), 'still referenced once');
    pool.release('a');
    pool.release('b');
    const again = pool.acquire(spec('b')); // re-acquired within keepWarmMs: the same feed carries on
    await sleep(500);
    assert.equal(pool.get('a'), undefined, 'stopped keepWarmMs after its last session');
    assert.equal(pool.get('b'), again);
    assert.ok(pool.get('c'), 'kept warm with no session');
    pool.close();
    assert.equal(pool.size, 0);
  });
});
