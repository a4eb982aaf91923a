/**
 * The project's own simulated camera (lib/sim/camera) as the RTSP source: credentials, H.265 with
 * G.711A, RTSP over UDP, the transcode option and FfProbe. Complements the GStreamer cases.
 */
import * as assert from 'node:assert/strict';
import { FfProbe } from '../../lib/media/ff-probe';
import { locateFfTool } from '../../lib/media/ffmpeg-path';
import { MediaService } from '../../lib/media/media-service';
import { MediaSourceSpec } from '../../lib/media/media-source';
import { LogContext, Logger } from '../../lib/logger';
import { SimulatedCamera } from '../../lib/sim/camera/simulated-camera';
import { maskRtspUrl } from '../../lib/rtsp-url';
import { randomPortRange, runSession } from './media-session-runner';
import { PsDecodeCheck, checkRtpRules, readPsm } from './ps-capture-check';

const PASSWORD = 'Sim-Pa55word';

describe('media with the simulated camera (lib/sim) as source', function () {
  this.timeout(60000);
  const decode = new PsDecodeCheck();
  const logLines: string[] = [];
  const record = (m: string, c?: LogContext): void => { logLines.push(`${m} ${JSON.stringify(c ?? {})}`); };
  const logger: Logger = { debug: record, info: record, warn: record, error: record };
  let camera: SimulatedCamera;
  let service: MediaService;
  const specs = new Map<string, MediaSourceSpec>();

  before(async () => {
    camera = new SimulatedCamera({ username: 'admin', password: PASSWORD, clock: false, streams: [
      { path: '/h265-pcma', video: 'h265', audio: 'pcma', width: 320, height: 240 },
      { path: '/h264-aac', video: 'h264', audio: 'aac', width: 320, height: 240 },
    ] });
    await camera.start();
    const add = (channelId: string, path: string, extra: Partial<MediaSourceSpec> = {}): void => {
      const url = camera.url(path, true);
      specs.set(channelId, { key: `${path}-${channelId}`, url, displayUrl: maskRtspUrl(url), rtspTransport: 'tcp', ...extra });
    };
    add('34020000001320000001', '/h265-pcma');
    add('34020000001320000002', '/h264-aac', { rtspTransport: 'udp' });
    add('34020000001320000003', '/h265-pcma', { transcode: { video: true } });
    add('34020000001320000004', '/h264-aac', { transcode: { audio: true } });
    service = new MediaService({ localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(), logger, resolveSource: (channelId) => specs.get(channelId) });
  });
  after(async () => {
    await service?.close();
    await camera?.stop();
    decode.cleanup();
  });

  async function check(channelId: string, transport: 'udp' | 'tcp-active' | 'tcp-passive', want: { video: string; psm: number[]; audio: 'pcma' | 'aac' }): Promise<void> {
    const rx = await runSession(service, transport, 4, { channelId });
    const rules = checkRtpRules(rx.packets, 100000001, 1400, 25);
    const ps = rx.psStream();
    assert.deepEqual(readPsm(ps).map((e) => e.streamType), want.psm);
    const file = decode.write(`sim-${channelId}.ps`, ps);
    const report = await decode.probe(file);
    assert.equal(report.videoCodec, want.video);
    assert.equal(report.width, 320);
    assert.ok(Math.abs(report.videoFrames - rules.expectedFrames) <= rules.expectedFrames * 0.05, `decoded ${report.videoFrames}, sent ${rules.expectedFrames}`);
    assert.equal(await decode.decodeErrors('/usr/bin/ffmpeg', file, '0:v', want.audio === 'pcma'), '');
    const secs = want.audio === 'pcma' ? await decode.alawSeconds(ps) : await decode.aacSeconds(file);
    assert.ok(secs > rules.durationSec * 0.8, `${secs} s of audio in ${rules.durationSec} s`);
  }

  it('H.265 + G.711A with RTSP credentials over tcp-active; the password never reaches a log', async () => {
    await check('34020000001320000001', 'tcp-active', { video: 'hevc', psm: [0x24, 0x90], audio: 'pcma' });
    assert.ok(logLines.length > 0);
    assert.ok(!logLines.join('\n').includes(PASSWORD));
  });

  it('H.264 + AAC pulled with RTSP over UDP, sent over UDP', async () => {
    await check('34020000001320000002', 'udp', { video: 'h264', psm: [0x1b, 0x0f], audio: 'aac' });
  });

  it('transcode option: H.265 camera re-encoded to H.264 (libx264) for the platform', async () => {
    await check('34020000001320000003', 'tcp-passive', { video: 'h264', psm: [0x1b, 0x90], audio: 'pcma' });
  });

  it('transcode option: AAC re-encoded to G.711A', async () => {
    await check('34020000001320000004', 'udp', { video: 'h264', psm: [0x1b, 0x90], audio: 'pcma' });
  });

  it('FfProbe reports codec, size, frame rate and audio for the catalog', async () => {
    const probe = new FfProbe({ ffprobe: locateFfTool('ffprobe'), rtspTransport: 'tcp' });
    const h265 = await probe.probe(camera.url('/h265-pcma', true));
    assert.deepEqual(h265.video, { codec: 'H265', width: 320, height: 240, fps: 25 });
    assert.equal(h265.hasAudio, true);
    assert.equal(h265.audioCodec, 'pcm_alaw');
    await assert.rejects(probe.probe(camera.url('/h264-aac', false)), (e: Error & { code?: string }) => e.code === 'RTSP_UNAUTHORIZED');
  });
});
