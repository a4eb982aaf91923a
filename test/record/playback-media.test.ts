/**
 * The playback source plugged into the media side's session pipeline (PsMuxer → RtpPacketizer →
 * UDP) in place of a camera feed, as MediaService would for a Playback INVITE: the PS received on
 * a loopback socket decodes, starts at the requested second and skips the gap.
 */
import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CameraFeed } from '../../lib/media/camera-feed';
import { MediaSession } from '../../lib/media/media-session';
import { RtpPacketizer } from '../../lib/media/rtp-packetizer';
import { UdpRtpTransport } from '../../lib/media/rtp-transport';
import { openPlaybackSource } from '../../lib/record/playback-request';
import { RecordArchive } from '../../lib/record/record-archive';
import { StreamRequest } from '../../lib/session/stream-contract';
import { FFMPEG, FFPROBE, FPS, TZ, codeOfSecond, decodeSecondCodes, makeSegment, runsOf, secondOfDay, shanghaiMs, tempDir } from './record-fixtures';

const DAY = '2025-06-12';
const at = (hms: string): number => shanghaiMs(DAY, hms);

const decodePs = (ps: Buffer) => decodeSecondCodes(ps, 'mpeg');

describe('record/playback through the media session (PS over RTP/UDP)', function () {
  this.timeout(60_000);
  let root: string;
  let archive: RecordArchive;
  let receiver: dgram.Socket | undefined;
  let session: MediaSession | undefined;

  before(async () => {
    root = await tempDir('media');
    await Promise.all([
      makeSegment(path.join(root, `${DAY}/10-00-08.mp4`), secondOfDay('10:00:08'), 4, 'h264', 'aac'),
      makeSegment(path.join(root, `${DAY}/10-00-20.avi`), secondOfDay('10:00:20'), 4, 'h264', 'pcm_alaw'),
    ]);
    archive = new RecordArchive({ channelId: '34020000001320000001', folders: [root], timeZone: TZ, ffprobePath: FFPROBE, watch: false });
    archive.start();
    await archive.whenIndexed();
  });

  afterEach(() => {
    session?.stop();
    session = undefined;
    receiver?.close();
    receiver = undefined;
  });

  after(async () => {
    await archive.stop();
    await fsp.rm(root, { recursive: true, force: true });
  });

  it('sends decodable PS from the requested second, across the gap, and ends', async () => {
    const rx = dgram.createSocket('udp4');
    receiver = rx;
    const packets: { seq: number; ts: number; payload: Buffer }[] = [];
    rx.on('message', (m) => packets.push({ seq: m.readUInt16BE(2), ts: m.readUInt32BE(4), payload: Buffer.from(m.subarray(12)) }));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));

    const req: StreamRequest = {
      callId: 'pb-1', deviceId: '34020000001110000001', channelId: '34020000001320000001', sessionType: 'Playback', transport: 'udp',
      remoteIp: '127.0.0.1', remotePort: rx.address().port, ssrc: '1100000001', payloadType: 96, streamNumber: 0,
      startTime: at('10:00:10.5') / 1000, endTime: at('10:00:22') / 1000,
    };
    const source = openPlaybackSource(req, archive, { ffmpegPath: FFMPEG });
    const end = new Promise<string>((resolve) => source.once('end', (r) => resolve(r)));
    // The hook: MediaSession only uses key/subscribe/unsubscribe/gopSnapshot/audioCodec/expectedAudioCodec.
    session = new MediaSession(req, source as unknown as CameraFeed, new UdpRtpTransport(tx, '127.0.0.1', rx.address().port), new RtpPacketizer({ ssrc: 1100000001, payloadType: 96 }));
    const t0 = Date.now();
    session.start();
    assert.equal(await end, 'range-end');
    const wall = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(packets.length > 20);
    assert.ok(wall > 3300 && wall < 5500, `real-time pace: ${wall} ms for 4 s of recording`);
    const ps = Buffer.concat(packets.map((p) => p.payload));
    const { codes, errors } = await decodePs(ps);
    assert.equal(errors.trim(), '', 'decodes without errors');
    assert.ok(ps.includes(Buffer.from([0, 0, 1, 0xc0])), 'audio PES carried too');
    assert.deepEqual(runsOf(codes), [10, 11, 20, 21].map((s) => codeOfSecond(secondOfDay(`10:00:${s}`))));
    // From the keyframe at 10:00:10 to 10:00:12, then 10:00:20 to 10:00:22: 4 s of pictures.
    assert.ok(Math.abs(codes.length - 4 * FPS) <= 1, `frames received ${codes.length}`);
    const spanS = ((packets[packets.length - 1].ts - packets[0].ts) >>> 0) / 90000;
    assert.ok(Math.abs(spanS - (4 - 1 / FPS)) < 0.15, `RTP timestamps continuous across the gap: ${spanS} s`);
  });

  it('a BYE (session stop) mid-playback frees the reader', async () => {
    const rx = dgram.createSocket('udp4');
    receiver = rx;
    let count = 0;
    rx.on('message', () => { count++; });
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const tx = dgram.createSocket('udp4');
    await new Promise<void>((r) => tx.bind(0, '127.0.0.1', () => r()));
    const req: StreamRequest = {
      callId: 'pb-2', deviceId: '34020000001110000001', channelId: '34020000001320000001', sessionType: 'Playback', transport: 'udp',
      remoteIp: '127.0.0.1', remotePort: rx.address().port, ssrc: '1100000002', payloadType: 96, streamNumber: 0,
      startTime: at('10:00:08') / 1000, endTime: at('10:00:24') / 1000,
    };
    const source = openPlaybackSource(req, archive, { ffmpegPath: FFMPEG });
    const end = new Promise<string>((resolve) => source.once('end', (r) => resolve(r)));
    const s = new MediaSession(req, source as unknown as CameraFeed, new UdpRtpTransport(tx, '127.0.0.1', rx.address().port), new RtpPacketizer({ ssrc: 1100000002, payloadType: 96 }));
    session = s;
    s.start();
    await new Promise((r) => setTimeout(r, 800));
    assert.ok(count > 0);
    s.stop();
    assert.equal(await end, 'stopped');
    assert.equal(source.isFinished, true);
    const after = count;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(count, after, 'nothing sent after the stop');
  });
});
