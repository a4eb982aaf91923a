/**
 * The simulated camera against real, independent RTSP clients (ffprobe/ffmpeg 5.1 from Debian and the
 * npm-shipped ffprobe), over RTSP/TCP-interleaved and RTSP/UDP, on 127.0.0.1 only.
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { countFrames, DEBIAN_FFMPEG, DEBIAN_FFPROBE, killAllClients, NPM_FFMPEG, NPM_FFPROBE, probe, runFf } from './ff-client';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('SimulatedCamera with real RTSP clients', function () {
  this.timeout(30_000);
  const cameras: SimulatedCamera[] = [];
  let camera: SimulatedCamera;

  before(async () => {
    // The npm-shipped 2018 ffmpeg encodes: the fresh-machine case (`npm install` alone).
    camera = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG });
    cameras.push(camera);
    await camera.start();
  });

  afterEach(() => killAllClients());

  after(async () => {
    killAllClients();
    for (const c of cameras) await c.stop();
  });

  const kinds: Array<{ path: string; video: string; audio?: string; rate?: number }> = [
    { path: '/h264', video: 'h264' },
    { path: '/h265', video: 'hevc' },
    { path: '/h264-pcma', video: 'h264', audio: 'pcm_alaw', rate: 8000 },
    { path: '/h264-aac', video: 'h264', audio: 'aac', rate: 16000 },
    { path: '/h265-pcma', video: 'hevc', audio: 'pcm_alaw', rate: 8000 },
  ];
  kinds.forEach((k, i) => {
    for (const transport of ['tcp', 'udp'] as const) {
      // Alternate the independent client: Debian's ffprobe 5.1 and the npm-shipped one.
      const tool = (i + (transport === 'udp' ? 1 : 0)) % 2 === 0 ? DEBIAN_FFPROBE : NPM_FFPROBE;
      it(`${k.path} decodes over RTSP/${transport.toUpperCase()} (${tool === DEBIAN_FFPROBE ? 'Debian' : 'npm'} ffprobe)`, async () => {
        const { streams, run } = await probe(tool, camera.url(k.path), transport);
        assert.equal(run.code, 0, run.stderr);
        const video = streams.find((s) => s.width !== undefined);
        assert.ok(video, `no video stream in ${run.stdout}`);
        assert.equal(video.codec, k.video);
        assert.equal(video.width, 640);
        assert.equal(video.height, 360);
        const audio = streams.filter((s) => s.width === undefined);
        if (k.audio) {
          assert.equal(audio.length, 1, run.stdout);
          assert.equal(audio[0].codec, k.audio);
          assert.equal(audio[0].sampleRate, k.rate);
        } else {
          assert.equal(audio.length, 0, run.stdout);
        }
      });
    }
  });

  it('delivers frames at the pattern rate over TCP (3 s of stream ≈ 75 frames at 25 fps), live not bursted', async () => {
    const { frames, run } = await countFrames(DEBIAN_FFMPEG, camera.url('/h264-pcma'), 'tcp', 3);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(frames >= 68 && frames <= 83, `frames=${frames}`);
    // At most one GOP (1 s) comes as a burst from the cache; the rest arrives in real time.
    assert.ok(run.elapsedMs >= 1800, `took only ${run.elapsedMs} ms`);
  });

  it('delivers frames at the pattern rate over UDP, H.265', async () => {
    const { frames, run } = await countFrames(DEBIAN_FFMPEG, camera.url('/h265'), 'udp', 3);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(frames >= 68 && frames <= 83, `frames=${frames}`);
  });

  it('serves two clients at once (TCP and UDP), both decode, and counts them', async () => {
    let peak = 0;
    const watch = setInterval(() => {
      peak = Math.max(peak, camera.stats().perPath['/h264'].clients);
    }, 100);
    const [a, b] = await Promise.all([
      countFrames(DEBIAN_FFMPEG, camera.url('/h264'), 'tcp', 2),
      countFrames(NPM_FFMPEG, camera.url('/h264'), 'udp', 2),
    ]);
    clearInterval(watch);
    assert.equal(a.run.code, 0, a.run.stderr);
    assert.equal(b.run.code, 0, b.run.stderr);
    assert.ok(a.frames >= 45, `tcp client frames=${a.frames}`);
    assert.ok(b.frames >= 45, `udp client frames=${b.frames}`);
    assert.equal(peak, 2);
    assert.ok(camera.stats().perPath['/h264'].packets > 0);
  });

  it('answers an unknown path with 404, which ffprobe reports', async () => {
    const { run } = await probe(DEBIAN_FFPROBE, camera.url('/no-such-stream'), 'tcp');
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /404/);
  });

  it('emits connection, play and teardown events', async () => {
    const events: string[] = [];
    const onConn = (): void => void events.push('connection');
    const onPlay = (p: string, t: string): void => void events.push(`play ${p} ${t}`);
    const onTeardown = (p: string): void => void events.push(`teardown ${p}`);
    camera.on('connection', onConn).on('play', onPlay).on('teardown', onTeardown);
    const { run } = await countFrames(DEBIAN_FFMPEG, camera.url('/h265-pcma'), 'udp', 1);
    await new Promise((r) => setTimeout(r, 200));
    camera.off('connection', onConn).off('play', onPlay).off('teardown', onTeardown);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(events, ['connection', 'play /h265-pcma udp', 'teardown /h265-pcma']);
  });

  it('suspend() cuts a playing client and refuses new ones; resume() serves again', async () => {
    const url = camera.url('/h264');
    const pulling = countFrames(DEBIAN_FFMPEG, url, 'tcp', 20);
    const t0 = Date.now();
    while (camera.stats().perPath['/h264'].clients === 0 && Date.now() - t0 < 8000) await new Promise((r) => setTimeout(r, 50));
    assert.equal(camera.stats().perPath['/h264'].clients, 1);
    await camera.suspend();
    const cut = await pulling;
    assert.ok(cut.run.elapsedMs < 10_000, `client ran on for ${cut.run.elapsedMs} ms after suspend`);
    assert.ok(cut.frames < 500);
    assert.equal(camera.stats().connections, 0);
    const refused = await probe(DEBIAN_FFPROBE, url, 'tcp');
    assert.notEqual(refused.run.code, 0);
    assert.match(refused.run.stderr, /refused/i);
    await camera.resume();
    const again = await probe(NPM_FFPROBE, url, 'tcp');
    assert.equal(again.run.code, 0, again.run.stderr);
    assert.equal(again.streams[0].codec, 'h264');
  });

  it('encodes with Debian ffmpeg 5.1 too, always on, and stop() leaves no encoder process and no open port', async () => {
    const debian = new SimulatedCamera({ ffmpegPath: DEBIAN_FFMPEG, alwaysOn: true, streams: [{ path: '/cam', video: 'h265', audio: 'aac', width: 320, height: 240, fps: 15 }] });
    cameras.push(debian);
    const { port } = await debian.start();
    const pids = debian.encoderPids();
    assert.equal(pids.length, 1);
    const { frames, run } = await countFrames(NPM_FFMPEG, debian.url('/cam'), 'tcp', 2);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(frames >= 27 && frames <= 33, `frames=${frames} at 15 fps`);
    await debian.stop();
    assert.deepEqual(debian.encoderPids(), []);
    for (const pid of pids) assert.equal(pidAlive(pid), false, `encoder ${pid} still running`);
    assert.equal(await connectRefused(port), true);
  });

  it('restarts an encoder that dies while watched, the client playing on, and stops it once nobody watches', async () => {
    const cam = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, idleStopMs: 500, streams: [{ path: '/crash', video: 'h264' }] });
    cameras.push(cam);
    await cam.start();
    assert.deepEqual(cam.encoderPids(), []);
    const watching = countFrames(DEBIAN_FFMPEG, cam.url('/crash'), 'tcp', 5);
    const waitFor = async (cond: () => boolean, ms: number): Promise<boolean> => {
      const t0 = Date.now();
      while (!cond() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 50));
      return cond();
    };
    assert.ok(await waitFor(() => cam.stats().perPath['/crash'].clients === 1, 8000));
    const [first] = cam.encoderPids();
    process.kill(first, 'SIGKILL');
    assert.ok(await waitFor(() => cam.encoderPids().length === 1 && cam.encoderPids()[0] !== first, 6000), 'encoder restarted');
    const before = cam.stats().perPath['/crash'].packets;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(cam.stats().perPath['/crash'].packets > before, 'the watching client is fed by the new encoder');
    // Same SSRC, continuous sequence numbers, timestamps across the gap: the client plays on to the end.
    const watched = await watching;
    assert.equal(watched.run.code, 0, watched.run.stderr);
    assert.ok(watched.frames >= 70 && watched.frames <= 130, `frames=${watched.frames} over 5 s of stream time with a ~1 s gap`);
    const again = await probe(NPM_FFPROBE, cam.url('/crash'), 'tcp');
    assert.equal(again.run.code, 0, again.run.stderr);
    const [second] = cam.encoderPids();
    assert.ok(await waitFor(() => cam.encoderPids().length === 0, 4000), 'idle encoder stopped');
    assert.ok(await waitFor(() => !pidAlive(second), 3000), 'idle encoder process gone');
    await cam.stop();
  });

  it('gives a new client its first decodable frame fast (cold encoder, then warm)', async () => {
    const fresh = new SimulatedCamera({ ffmpegPath: NPM_FFMPEG, streams: [{ path: '/fast', video: 'h264' }] });
    cameras.push(fresh);
    const t0 = Date.now();
    await fresh.start();
    const args = ['-v', 'error', '-rtsp_transport', 'tcp', '-probesize', '32', '-analyzeduration', '0', '-i', fresh.url('/fast'), '-frames:v', '1', '-f', 'null', '-'];
    const cold = await runFf(DEBIAN_FFMPEG, args, 10_000);
    const coldMs = Date.now() - t0;
    assert.equal(cold.code, 0, cold.stderr);
    const warm = await runFf(DEBIAN_FFMPEG, args, 10_000);
    assert.equal(warm.code, 0, warm.stderr);
    // Includes the client's own start-up (~50 ms); the GOP cache makes the warm case a single round trip.
    console.log(`      start() → first decoded frame: ${coldMs} ms (cold encoder); new client on a running encoder: ${warm.elapsedMs} ms`);
    assert.ok(coldMs < 2500, `cold ${coldMs} ms`);
    assert.ok(warm.elapsedMs < 1000, `warm ${warm.elapsedMs} ms`);
    await fresh.stop();
  });
});
