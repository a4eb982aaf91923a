/**
 * CameraLivenessWatch's rules with a scripted check: two failures in a row take a camera offline,
 * a success brings it back, a camera the ingest pulls is not checked, stop() ends every timer.
 */
import { strict as assert } from 'node:assert';
import { CameraLivenessWatch } from '../../lib/media/camera-liveness-watch';
import { LivenessResult } from '../../lib/media/rtsp-liveness';

const ALIVE: LivenessResult = { alive: true, status: 200, elapsedMs: 1 };
const DEAD: LivenessResult = { alive: false, reason: 'refused', detail: '127.0.0.1:1: ECONNREFUSED', elapsedMs: 1 };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('CameraLivenessWatch', function () {
  this.timeout(10_000);
  let watch: CameraLivenessWatch | undefined;
  afterEach(() => watch?.stop());

  it('two failures in a row → offline with the reason; one success after → online', async () => {
    let answer: LivenessResult = ALIVE;
    const urls: string[] = [];
    const changes: Array<[string, boolean, string | undefined]> = [];
    watch = new CameraLivenessWatch({ intervalMs: 100, check: async (url) => { urls.push(url); return answer; } });
    watch.on('change', (...c) => changes.push(c));
    watch.watch('cam', 'rtsp://127.0.0.1:1/x');
    await sleep(250);
    assert.ok(urls.length >= 2);
    assert.equal(changes.length, 0);
    answer = DEAD;
    const before = urls.length;
    await sleep(130);
    assert.ok(urls.length > before, 'checked once more');
    assert.equal(changes.length, 0, 'one failure is not enough');
    await sleep(250);
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0].slice(0, 2), ['cam', false]);
    assert.match(changes[0][2] ?? '', /^refused: /);
    assert.equal(watch.isOnline('cam'), false);
    answer = ALIVE;
    await sleep(200);
    assert.deepEqual(changes.slice(1), [['cam', true, undefined]]);
  });

  it('skips a camera while the ingest pulls it, and a state noted from elsewhere is where it continues', async () => {
    let active = true;
    let checks = 0;
    const changes: boolean[] = [];
    watch = new CameraLivenessWatch({ intervalMs: 100, isIngestActive: () => active, check: async () => { checks++; return DEAD; } });
    watch.on('change', (_id, online) => changes.push(online));
    watch.watch('cam', 'rtsp://127.0.0.1:1/x');
    await sleep(350);
    assert.equal(checks, 0, 'no check while the ingest is active');
    watch.noteState('cam', false);
    active = false;
    await sleep(350);
    assert.ok(checks >= 2);
    assert.deepEqual(changes, [], 'already offline: no second OFF');
  });

  it('stop() clears every timer: no check after it', async () => {
    let checks = 0;
    watch = new CameraLivenessWatch({ intervalMs: 100, check: async () => { checks++; return ALIVE; } });
    for (const id of ['a', 'b', 'c']) watch.watch(id, `rtsp://127.0.0.1:1/${id}`);
    await sleep(150);
    assert.equal(checks, 3);
    watch.stop();
    await sleep(250);
    assert.equal(checks, 3);
    watch.watch('d', 'rtsp://127.0.0.1:1/d');
    await sleep(150);
    assert.equal(checks, 3, 'a stopped watch stays stopped');
  });
});
