/**
 * Playback/Download through MediaService's `openRecording` hook: a recording source (here a small
 * stand-in fed from an ffmpeg-made MPEG-TS) goes out as PS/RTP like a live camera does.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { AccessUnit, AudioCodec, isVideoCodec } from '../../lib/media/access-unit';
import { AudioAccessUnitStage } from '../../lib/media/audio-access-unit-stage';
import { FeedSubscriber } from '../../lib/media/camera-feed';
import { H26xAccessUnitStage } from '../../lib/media/h26x-access-unit-stage';
import { MediaService, RecordingSource } from '../../lib/media/media-service';
import { TsDemuxer } from '../../lib/media/ts-demuxer';
import { GatewayError } from '../../lib/errors';
import { randomPortRange, streamRequest } from './media-session-runner';
import { PsDecodeCheck, checkRtpRules, readPsm } from './ps-capture-check';
import { RtpTestReceiver } from './rtp-test-receiver';

/** Units of a 2 s H.264 + AAC clip, emitted 4× faster than real time on the first subscribe. */
class ClipRecording extends EventEmitter<{ end: [reason: string] }> implements RecordingSource {
  readonly key = 'clip';
  readonly expectedAudioCodec: AudioCodec = 'aac';
  private readonly subscribers = new Set<FeedSubscriber>();
  private timer: NodeJS.Timeout | undefined;
  stopped = false;

  constructor(private readonly units: AccessUnit[]) {
    super();
  }

  subscribe(s: FeedSubscriber): void {
    this.subscribers.add(s);
    if (this.timer || this.stopped) return;
    let i = 0;
    this.timer = setInterval(() => {
      const video = this.units.findIndex((u, k) => k > i && isVideoCodec(u.codec));
      const until = video < 0 ? this.units.length : video;
      for (; i < until; i++) for (const sub of this.subscribers) sub.onUnit(this.units[i]);
      if (i >= this.units.length) this.finish('range-end');
    }, 10);
  }

  unsubscribe(s: FeedSubscriber): void {
    this.subscribers.delete(s);
  }

  gopSnapshot(): AccessUnit[] {
    return [];
  }

  stop(): void {
    this.finish('stopped');
  }

  private finish(reason: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    this.stopped = true;
    this.emit('end', reason);
  }
}

function clipUnits(): AccessUnit[] {
  const ts = execFileSync('/usr/bin/ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=r=8000',
    '-t', '2', '-c:v', 'libx264', '-g', '25', '-bf', '0', '-c:a', 'aac', '-f', 'mpegts', 'pipe:1'], { maxBuffer: 64 << 20 });
  const units: AccessUnit[] = [];
  const video = new H26xAccessUnitStage('h264');
  const audio = new AudioAccessUnitStage('aac');
  const d = new TsDemuxer((p) => {
    if (p.streamType === 0x1b) { const u = video.process(p.data, p.pts, p.dts); if (u) units.push({ ...u, data: Buffer.from(u.data) }); }
    if (p.streamType === 0x0f) for (const u of audio.process(p.data, p.pts)) units.push({ ...u, data: Buffer.from(u.data) });
  });
  d.push(ts);
  d.flush();
  return units;
}

describe('Playback/Download through MediaService.openRecording', function () {
  this.timeout(30000);
  const decode = new PsDecodeCheck();
  after(() => decode.cleanup());

  it('a recording is sent as PS/RTP, playback-ended is reported, BYE stops the source', async () => {
    const units = clipUnits();
    let opened: ClipRecording | undefined;
    const service = new MediaService({
      localIp: '127.0.0.1', bindIp: '127.0.0.1', portRange: randomPortRange(),
      resolveSource: () => undefined,
      openRecording: (req) => (req.startTime === 1700000000 ? (opened = new ClipRecording(units)) : undefined),
    });
    const rx = new RtpTestReceiver();
    try {
      await rx.listenTcp();
      const ended: string[] = [];
      service.on('playback-ended', (_id, reason) => ended.push(reason));
      const missing = await service.prepare(streamRequest('udp', rx.port, { sessionType: 'Playback', startTime: 1600000000, endTime: 1600000100 }), new AbortController().signal).catch((e: unknown) => e);
      assert.ok(missing instanceof GatewayError && missing.context.sipStatus === 404);
      const req = streamRequest('tcp-passive', rx.port, { sessionType: 'Download', ssrc: '1100000001', startTime: 1700000000, endTime: 1700000002, downloadSpeed: 4 });
      await service.prepare(req, new AbortController().signal);
      service.start(req.callId);
      await rx.waitFor(() => ended.length > 0, 10000, 'playback-ended');
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(ended, ['range-end']);
      assert.equal(service.sessionStats().length, 1, 'the session waits for the BYE');
      service.stop(req.callId, 'BYE');
      assert.equal(opened?.stopped, true);
      checkRtpRules(rx.packets, 1100000001, 1400, 25);
      const ps = rx.psStream();
      assert.deepEqual(readPsm(ps), [{ streamType: 0x1b, streamId: 0xe0 }, { streamType: 0x0f, streamId: 0xc0 }]);
      const file = decode.write('download.ps', ps);
      const report = await decode.probe(file);
      assert.equal(report.videoCodec, 'h264');
      assert.equal(report.videoFrames, 50);
      assert.equal(report.audioCodec, 'aac');
      assert.equal(await decode.decodeErrors('/usr/bin/ffmpeg', file, '0'), '');
    } finally {
      await service.close();
      await rx.close();
    }
  });
});
