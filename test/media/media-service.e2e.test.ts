/**
 * End to end, all real: GStreamer's RTSP server → ffmpeg → MediaService → RTP over UDP / RFC 4571
 * TCP on 127.0.0.1 → a receiver written here → ffprobe/ffmpeg decode the PS.
 */
import * as assert from 'node:assert/strict';
import { MediaService } from '../../lib/media/media-service';
import { MediaTransport } from '../../lib/session/stream-contract';
import { GstAudio, GstCamera, GstVideo } from './gst-camera';
import { DEBIAN_FFMPEG, NPM_FFMPEG, PsDecodeCheck, checkRtpRules, readPsm } from './ps-capture-check';
import { randomPortRange, runSession } from './media-session-runner';

const SSRC = 100000001;
const FPS = 25;

interface CameraCase {
  video: GstVideo;
  audio: GstAudio;
  rtspTransport: 'tcp' | 'udp' | 'auto';
  ffmpeg: 'debian' | 'npm';
}

const CASES: CameraCase[] = [
  { video: 'h264', audio: 'none', rtspTransport: 'tcp', ffmpeg: 'debian' },
  { video: 'h265', audio: 'none', rtspTransport: 'udp', ffmpeg: 'npm' },
  { video: 'h264', audio: 'pcma', rtspTransport: 'auto', ffmpeg: 'debian' },
  { video: 'h264', audio: 'aac', rtspTransport: 'tcp', ffmpeg: 'npm' },
];
const TRANSPORTS: MediaTransport[] = ['udp', 'tcp-active', 'tcp-passive'];

describe('media end to end: GStreamer RTSP → MediaService → PS/RTP → ffmpeg', function () {
  this.timeout(60000);
  const decode = new PsDecodeCheck();
  after(() => decode.cleanup());

  for (const c of CASES) {
    describe(`${c.video}${c.audio === 'none' ? '' : `+${c.audio}`} (RTSP ${c.rtspTransport}, ${c.ffmpeg} ffmpeg ingest)`, () => {
      let camera: GstCamera;
      let service: MediaService;
      before(async () => {
        camera = await GstCamera.start(c.video, c.audio);
        service = new MediaService({
          localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(), keepWarmMs: 60000,
          ...(c.ffmpeg === 'npm' ? { ffmpegPath: NPM_FFMPEG } : { ffmpegPath: DEBIAN_FFMPEG }),
          resolveSource: (channelId) => (channelId === '34020000001320000011' ? { key: `cam-${c.video}-${c.audio}`, url: camera.url, displayUrl: camera.url, rtspTransport: c.rtspTransport } : undefined),
        });
      });
      after(async () => {
        await service?.close();
        await camera?.stop();
      });

      for (const t of TRANSPORTS) {
        const seconds = c.video === 'h264' && c.audio === 'pcma' && t === 'udp' ? 10 : 4;
        it(`${t}: ${seconds} s decode with the right codec, size, frame count${c.audio === 'none' ? '' : ' and audio'}`, async () => {
          const rx = await runSession(service, t, seconds);
          const rules = checkRtpRules(rx.packets, SSRC, 1400, FPS);
          assert.ok(rules.durationSec >= seconds - 0.5, `stream lasted ${rules.durationSec} s`);
          // Every frame the camera produced in the window arrived: one RTP timestamp per video frame.
          assert.ok(Math.abs(rules.videoTimestamps - rules.expectedFrames) <= rules.expectedFrames * 0.05, `${rules.videoTimestamps} frames sent vs ${rules.expectedFrames} from the camera`);

          const ps = rx.psStream();
          const psm = readPsm(ps);
          const wantVideo = c.video === 'h264' ? 0x1b : 0x24;
          const expected = [{ streamType: wantVideo, streamId: 0xe0 }];
          if (c.audio === 'pcma') expected.push({ streamType: 0x90, streamId: 0xc0 });
          if (c.audio === 'aac') expected.push({ streamType: 0x0f, streamId: 0xc0 });
          assert.deepEqual(psm, expected);

          const file = decode.write(`${c.video}-${c.audio}-${t}.ps`, ps);
          const report = await decode.probe(file);
          assert.equal(report.videoCodec, c.video === 'h264' ? 'h264' : 'hevc');
          assert.equal(report.width, 320);
          assert.equal(report.height, 240);
          assert.ok(Math.abs(report.videoFrames - rules.expectedFrames) <= rules.expectedFrames * 0.05, `decoded ${report.videoFrames} frames, camera sent ${rules.expectedFrames}`);
          for (const bin of [DEBIAN_FFMPEG, NPM_FFMPEG]) assert.equal(await decode.decodeErrors(bin, file, '0:v', c.audio === 'pcma'), '', `${bin} video decode errors`);
          if (c.audio === 'none') assert.equal(report.audioCodec, undefined);
          if (c.audio === 'aac') {
            assert.equal(report.audioCodec, 'aac');
            assert.equal(await decode.decodeErrors(DEBIAN_FFMPEG, file, '0:a'), '', 'AAC decode errors');
            const secs = await decode.aacSeconds(file);
            assert.ok(secs > rules.durationSec * 0.8, `only ${secs} s of AAC in ${rules.durationSec} s`);
          }
          if (c.audio === 'pcma') {
            const secs = await decode.alawSeconds(ps);
            assert.ok(secs > rules.durationSec * 0.8, `only ${secs} s of G.711A in ${rules.durationSec} s`);
          }
        });
      }
    });
  }
});
